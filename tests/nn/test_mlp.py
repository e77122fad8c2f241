"""Tests for jaxgen.nn.mlp."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.mlp import MLP, MLPDenoiser


def test_mlp_layer_widths(fake_params):
  mlp = MLP([8, 8, 3])
  params = fake_params(mlp, jnp.ones((4, 5)))
  assert mlp.apply(params, jnp.ones((4, 5))).shape == (4, 3)
  kernels = [params["params"][f"Dense_{i}"]["kernel"].shape for i in range(3)]
  assert kernels == [(5, 8), (8, 8), (8, 3)]


def test_denoiser_shapes_and_finite_grads(fake_params):
  model = MLPDenoiser(hidden=16, depth=2)
  x, t = jnp.ones((4, 2)), jnp.array([0.0, 1.0, 10.0, 999.0])
  params = fake_params(model, x, t, train=False)
  assert model.apply(params, x, t, train=False).shape == (4, 2)
  grads = jax.grad(lambda p: jnp.sum(model.apply(p, x, t, train=True) ** 2))(params)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def test_denoiser_respects_labels_and_null_label(fake_params):
  model = MLPDenoiser(hidden=16, depth=2, num_classes=3)
  x, t = jnp.ones((2, 2)), jnp.zeros(2)
  params = fake_params(model, x, t, train=False)
  out = lambda labels: model.apply(params, x, t, labels, train=False)
  assert not np.allclose(out(jnp.array([0, 0])), out(jnp.array([1, 1])))
  np.testing.assert_array_equal(out(None), out(jnp.array([3, 3])))


def test_unconditional_denoiser_rejects_labels():
  model = MLPDenoiser(hidden=8, depth=1)
  with pytest.raises(ValueError):
    model.apply({}, jnp.ones((2, 2)), jnp.zeros(2), jnp.zeros(2, jnp.int32), train=False)
