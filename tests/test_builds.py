"""Every model builds on every dataset at every preset, so a preset no test
trains (`full`) cannot rot unseen. Shapes only: `jax.eval_shape` of
`init_state` traces the networks without computing or compiling them."""

import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen.data import mixtures
from jaxgen.families import MODELS, DataSpec


def data_spec(dataset):
  """The DataSpec that `data.load(dataset)` gives, without reading the files."""
  if data.is_image_dataset(dataset):
    return DataSpec(shape=(28, 28, 1), num_classes=10)
  return DataSpec(shape=(2,), num_classes=mixtures.get_mixture(dataset).num_modes)


@pytest.mark.parametrize("preset", config_lib.PRESETS)
@pytest.mark.parametrize("dataset", data.names())
@pytest.mark.parametrize("model", MODELS.names())
def test_every_model_builds_on_every_dataset_and_preset(model, dataset, preset):
  config = config_lib.get_config(model, dataset, preset)
  config_lib.check(config)
  family = MODELS.get(model).family(config, data_spec(dataset))
  state = jax.eval_shape(family.init_state, jax.random.PRNGKey(0))
  parameters = sum(np.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(state.params))
  # Bounds wide enough for any sensible network of the data, so that only a
  # broken build (an empty or runaway parameter tree) falls outside them.
  low, high = ((100_000, 20_000_000) if data.is_image_dataset(dataset)
               else (10_000, 1_000_000))
  assert low < parameters < high
  assert jax.tree_util.tree_structure(state.ema_params) == (
      jax.tree_util.tree_structure(state.params))
  assert jax.tree_util.tree_leaves(state.opt_state)
  assert state.step.shape == () and state.rng.shape == (2,)
