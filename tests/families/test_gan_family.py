"""The GAN family: one step lowers the critic's loss, conditional generators
follow their labels, resuming restores both optimizers exactly, and bad
settings are refused."""

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.families import DataSpec
from jaxgen.families.gan.family import GANFamily
from jaxgen.training.loop import train_and_evaluate


def point_config(model="gan", **overrides):
  config = config_lib.get_config(model, "gmm_ring8", "cpu")
  config.net.update(dict(g_hidden=(32, 32), d_hidden=(32, 32)))
  config.gan.latent_dim = 4
  config.batch_size = 16 * config.gan.n_critic
  config.update(overrides)
  return config


def image_config(model="gan", architecture="dcgan"):
  config = config_lib.get_config(model, "mnist", "cpu")
  config.gan.update(dict(architecture=architecture, latent_dim=8))
  config.net.update(dict(channels=4, g_hidden=(16,), d_hidden=(16,)))
  config.batch_size = 8 * config.gan.n_critic
  return config


def points_batch(n, seed=0):
  """Two well-separated classes: label 0 near (-2, 0), label 1 near (2, 0)."""
  labels = jnp.arange(n, dtype=jnp.int32) % 2
  noise = 0.1 * jax.random.normal(jax.random.PRNGKey(seed), (n, 2))
  return {"x": jnp.stack([4.0 * labels - 2.0, jnp.zeros(n)], -1) + noise, "labels": labels}


@pytest.mark.parametrize("model", ["gan", "lsgan", "wgan_gp"])
def test_one_step_lowers_the_critic_loss_on_a_fixed_batch(model):
  config = point_config(model)
  config.optim_d.learning_rate = 1e-3
  family = GANFamily(config, DataSpec(shape=(2,), num_classes=8))
  state = family.init_state(jax.random.PRNGKey(0))
  batch = points_batch(config.batch_size)
  fake = family.sample(family.sampling_params(state, use_ema=False),
                       jax.random.PRNGKey(1), 16)

  def critic_loss(state):
    return family.discriminator_loss(
        state.params["discriminator"], state.model_state["discriminator"],
        batch["x"][:16], fake, None, jax.random.PRNGKey(2))[0]

  step = jax.jit(family.train_step)
  # The shared warm-up schedule gives learning rate 0 at the optimizer's step 0,
  # so the step under test is the second one.
  state, _ = step(state, batch, jax.random.PRNGKey(3))
  new_state, metrics = step(state, batch, jax.random.PRNGKey(4))
  assert critic_loss(new_state) < critic_loss(state)
  assert set(metrics) >= {"loss", "d_loss", "g_loss"}
  if model == "wgan_gp":
    assert set(metrics) >= {"wasserstein", "gradient_penalty"}


def test_conditional_generator_follows_its_labels():
  """A cgan trained briefly on two separated classes puts each class on its side."""
  config = point_config("cgan")
  config.optim_g.learning_rate = config.optim_d.learning_rate = 2e-3
  family = GANFamily(config, DataSpec(shape=(2,), num_classes=2))
  state = family.init_state(jax.random.PRNGKey(0))
  step = jax.jit(family.train_step)
  for i in range(150):
    state, _ = step(state, points_batch(config.batch_size, seed=i), jax.random.PRNGKey(i))
  params = family.sampling_params(state, use_ema=False)
  z = family._latents(jax.random.PRNGKey(7), 200)
  left = family.generate(params, z, jnp.zeros(200, jnp.int32))
  right = family.generate(params, z, jnp.ones(200, jnp.int32))
  assert np.mean(left[:, 0] < 0) > 0.9 and np.mean(right[:, 0] > 0) > 0.9


@pytest.mark.parametrize("architecture", ["mlp", "dcgan", "resnet"])
def test_image_step_carries_batch_stats_and_figures_are_written(architecture, tmp_path):
  config = image_config("cgan", architecture)
  family = GANFamily(config, DataSpec(shape=(8, 8, 1), num_classes=3))
  state = family.init_state(jax.random.PRNGKey(0))
  batch = {"x": jax.random.uniform(jax.random.PRNGKey(1), (8, 8, 8, 1), minval=-1.0),
           "labels": jnp.arange(8, dtype=jnp.int32) % 3}
  new_state, metrics = jax.jit(family.train_step)(state, batch, jax.random.PRNGKey(2))
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
  old_stats = jax.tree_util.tree_leaves(state.model_state)
  new_stats = jax.tree_util.tree_leaves(new_state.model_state)
  assert old_stats and any(not np.allclose(a, b) for a, b in zip(old_stats, new_stats))
  params = family.sampling_params(new_state)
  samples = family.sample(params, jax.random.PRNGKey(3), 5, jnp.arange(5) % 3)
  assert samples.shape == (5, 8, 8, 1) and np.all(np.abs(samples) <= 1.0)
  family.write_figures(params, jax.random.PRNGKey(4), tmp_path, {}, None)
  assert (tmp_path / "latent_interpolation.png").is_file()
  assert (tmp_path / "class_grid.png").is_file()


def test_resume_restores_both_optimizers_and_batch_stats_exactly(tmp_path):
  def config(num_steps):
    config = point_config("wgan_gp", num_steps=num_steps, log_every=2, checkpoint_every=3,
                          sample_every=100, num_samples=16)
    config.net.g_batch_norm = True  # so the generator has batch_stats to restore
    return config

  straight = train_and_evaluate(config(6), tmp_path / "straight")
  train_and_evaluate(config(3), tmp_path / "resumed")
  resumed = train_and_evaluate(config(6), tmp_path / "resumed")
  summary = json.loads((tmp_path / "resumed" / "summary.json").read_text())
  assert summary["steps_this_run"] == 3  # not retrained from step 0
  assert set(resumed.opt_state) == {"generator", "discriminator"}
  assert jax.tree_util.tree_leaves(resumed.model_state["generator"])
  chex.assert_trees_all_equal(jax.device_get(straight), jax.device_get(resumed),
                              strict=True)


@pytest.mark.parametrize("field, value, message", [
    ("batch_size", 48, "multiple of gan.n_critic"),
    ("net.d_norm", "batch", "d_norm=layer"),
    ("gan.architecture", "dcgan", "needs images"),
    ("gan.loss", "hinge", "unknown GAN loss"),
])
def test_bad_settings_are_refused_with_the_fix(field, value, message):
  config = point_config("wgan_gp")
  if field == "net.d_norm":
    config = image_config("wgan_gp")
  config_lib.apply_overrides(config, [f"{field}={value}"])
  shape = (28, 28, 1) if field == "net.d_norm" else (2,)
  with pytest.raises(UsageError, match=message):
    GANFamily(config, DataSpec(shape=shape, num_classes=8))
