"""Shared fixtures for the network tests."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@pytest.fixture
def fake_params():
  """fake_params(module, *init_args, **init_kwargs): variables of `module.init`'s
  shapes, filled from numpy.

  XLA takes seconds per kernel shape to compile the random initialisers on CPU;
  these tests check wiring, not initial values.
  """
  def make(module, *args, **kwargs):
    shapes = jax.eval_shape(lambda: module.init(jax.random.key(0), *args, **kwargs))
    rng = np.random.default_rng(0)
    return jax.tree.map(
        lambda s: jnp.asarray(0.3 * rng.standard_normal(s.shape), s.dtype), shapes)
  return make
