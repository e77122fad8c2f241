"""The `full` preset of every model trains 2 steps and samples once on MNIST-shaped
data, so the accelerator-sized networks cannot rot while CI has only a CPU.

The networks and losses are the preset's own; the batch (20, a multiple of
WGAN-GP's n_critic, instead of 64-128), the number of samples and the diffusion
sampler's steps (DDIM with 2; the samplers have their own tests) are cut. Only 2
steps into the learning-rate warm-up, the first step has a learning rate of 0,
so it is the loss and some parameters that must move, not all of them.
`test_builds.py` checks every dataset's shapes.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.families import MODELS, DataSpec, cycling_labels
from jaxgen.training import sharding
from jaxgen.training.loop import compile_train_step
from jaxgen.training.state import initial_state

SPEC = DataSpec(shape=(28, 28, 1), num_classes=10)


@pytest.mark.slow
# ddpm is ddim's model and train step with another default sampler.
@pytest.mark.parametrize("model", sorted(set(MODELS.names()) - {"ddpm"}))
def test_full_preset_trains_two_steps_and_samples(model):
  config = config_lib.get_config(model, "mnist", "full")
  config.batch_size = 20
  config_lib.check(config)
  family = MODELS.get(model).family(config, SPEC)
  mesh = sharding.make_mesh(jax.devices()[:1])
  rng = np.random.default_rng(0)
  x_all = jnp.asarray(rng.integers(0, 256, (64,) + SPEC.shape, np.uint8))
  labels_all = jnp.asarray(rng.integers(0, 10, 64), jnp.int32)
  state = jax.device_put(initial_state(family, 0), sharding.replicated(mesh))
  before = jax.device_get(state.params)
  train_step = compile_train_step(family, config, mesh)
  for _ in range(2):
    state, metrics = train_step(state, x_all, labels_all)
  assert int(state.step) == 2
  assert np.isfinite(float(metrics["loss"]))
  changed = jax.tree_util.tree_map(lambda a, b: bool(np.any(a != b)), before,
                                   jax.device_get(state.params))
  assert any(jax.tree_util.tree_leaves(changed)), "no parameter trained"
  labels = cycling_labels(4, SPEC.num_classes) if config.conditional else None
  options = dict(steps=2) if model == "ddim" else {}
  samples = jax.jit(functools.partial(family.sample, num=4, **options))(
      family.sampling_params(state), jax.random.PRNGKey(1), labels=labels)
  assert samples.shape == (4,) + SPEC.shape
  assert np.all(np.isfinite(np.asarray(samples)))
