"""Tests for jaxgen.nn.mlp."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.mlp import MLP, MLPDenoiser


def _fake_params(module, *args, **kwargs):
  """Variables of `module.init`'s shapes, filled from numpy.

  XLA takes seconds per kernel shape to compile the random initialisers on CPU;
  these tests check wiring, not initial values.
  """
  shapes = jax.eval_shape(lambda: module.init(jax.random.key(0), *args, **kwargs))
  rng = np.random.default_rng(0)
  return jax.tree.map(
      lambda s: jnp.asarray(0.3 * rng.standard_normal(s.shape), s.dtype), shapes)


def test_mlp_layer_widths():
  mlp = MLP([8, 8, 3])
  params = _fake_params(mlp, jnp.ones((4, 5)))
  assert mlp.apply(params, jnp.ones((4, 5))).shape == (4, 3)
  kernels = [params["params"][f"Dense_{i}"]["kernel"].shape for i in range(3)]
  assert kernels == [(5, 8), (8, 8), (8, 3)]


def test_denoiser_shapes_and_finite_grads():
  model = MLPDenoiser(hidden=16, depth=2)
  x, t = jnp.ones((4, 2)), jnp.array([0.0, 1.0, 10.0, 999.0])
  params = _fake_params(model, x, t, train=False)
  assert model.apply(params, x, t, train=False).shape == (4, 2)
  grads = jax.grad(lambda p: jnp.sum(model.apply(p, x, t, train=True) ** 2))(params)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def test_denoiser_respects_labels_and_null_label():
  model = MLPDenoiser(hidden=16, depth=2, num_classes=3)
  x, t = jnp.ones((2, 2)), jnp.zeros(2)
  params = _fake_params(model, x, t, train=False)
  out = lambda labels: model.apply(params, x, t, labels, train=False)
  assert not np.allclose(out(jnp.array([0, 0])), out(jnp.array([1, 1])))
  np.testing.assert_array_equal(out(None), out(jnp.array([3, 3])))


def test_unconditional_denoiser_rejects_labels():
  model = MLPDenoiser(hidden=8, depth=1)
  with pytest.raises(ValueError):
    model.apply({}, jnp.ones((2, 2)), jnp.zeros(2), jnp.zeros(2, jnp.int32), train=False)
