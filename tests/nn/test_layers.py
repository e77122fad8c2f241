"""Tests for jaxgen.nn.layers."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.layers import (Downsample, ResBlock, SelfAttention2D, TimeEmbedding,
                              Upsample, sinusoidal_embedding)


def test_sinusoidal_embedding_known_values():
  emb = sinusoidal_embedding(jnp.array([0.0, 1.0, 2.5]), 8)
  assert emb.shape == (3, 8) and emb.dtype == jnp.float32
  np.testing.assert_allclose(emb[0], [0, 0, 0, 0, 1, 1, 1, 1], atol=1e-7)
  freqs = 10000.0 ** (-np.arange(4) / 4)  # 1, 0.1, 0.01, 0.001
  np.testing.assert_allclose(emb[1], np.concatenate([np.sin(freqs), np.cos(freqs)]),
                             rtol=1e-5)
  np.testing.assert_allclose(emb[2, 0], math.sin(2.5), rtol=1e-6)


def test_sinusoidal_embedding_rejects_odd_width():
  with pytest.raises(ValueError):
    sinusoidal_embedding(jnp.zeros(2), 7)


def test_time_embedding_shape(fake_params):
  module = TimeEmbedding(dim=16, features=32)
  t = jnp.array([0.0, 999.0])
  out = module.apply(fake_params(module, t), t)
  assert out.shape == (2, 32)


def test_resblock_projects_skip_and_uses_embedding(fake_params):
  block = ResBlock(features=16, num_groups=4)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((2, 6, 6, 8)), jnp.float32)
  emb = jnp.asarray(rng.standard_normal((2, 12)), jnp.float32)
  params = fake_params(block, x, emb, train=False)
  apply = jax.jit(lambda emb: block.apply(params, x, emb, train=False))
  out = apply(emb)
  assert out.shape == (2, 6, 6, 16)
  assert "Conv_2" in params["params"]  # the 1x1 skip
  assert not np.allclose(out, apply(emb + 1.0))


def test_attention_is_residual_and_keeps_shape(fake_params):
  attention = SelfAttention2D(num_heads=2, num_groups=4)
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5, 3, 8)), jnp.float32)
  params = fake_params(attention, x)
  apply = jax.jit(attention.apply)
  assert apply(params, x).shape == x.shape
  np.testing.assert_array_equal(apply(jax.tree.map(jnp.zeros_like, params), x), x)


@pytest.mark.parametrize("size,down", [(28, 14), (14, 7), (7, 4), (32, 16), (5, 3)])
def test_downsample_rounds_up_and_upsample_restores(size, down, fake_params):
  x = jnp.ones((1, size, size, 4))
  h = Downsample().apply(fake_params(Downsample(), x), x)
  assert h.shape == (1, down, down, 4)
  up = Upsample()
  y = up.apply(fake_params(up, h, (size, size)), h, (size, size))
  assert y.shape == x.shape


def test_upsample_is_nearest_then_crop():
  x = jnp.arange(4.0).reshape(1, 2, 2, 1)
  up = Upsample()
  kernel = jnp.zeros((3, 3, 1, 1)).at[1, 1].set(1.0)  # identity conv
  params = {"params": {"Conv_0": {"kernel": kernel, "bias": jnp.zeros(1)}}}
  y = up.apply(params, x, (3, 4))[0, :, :, 0]
  np.testing.assert_array_equal(y, [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3]])


def test_upsample_rejects_mismatched_size():
  x = jnp.ones((1, 4, 4, 2))
  with pytest.raises(ValueError):
    Upsample().apply({}, x, (6, 6))
