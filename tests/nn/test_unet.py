"""Tests for jaxgen.nn.unet."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.unet import UNet

TINY = dict(channels=8, channel_mults=(1, 2), num_res_blocks=1, num_groups=4)
FLAT = dict(channels=8, channel_mults=(1,), num_res_blocks=1, num_groups=4,
            attention_resolutions=())  # fewest ops: XLA compiles on CPU are slow


def _fake_params(model, x, labels=None):
  """Variables of `model.init`'s shapes, filled from numpy, and the timesteps.

  XLA takes seconds per kernel shape to compile the random initialisers on CPU;
  these tests check wiring, not initial values. The output conv is not zero.
  """
  t = jnp.arange(x.shape[0], dtype=jnp.float32)
  shapes = jax.eval_shape(
      lambda: model.init(jax.random.key(0), x, t, labels, train=False))
  rng = np.random.default_rng(0)
  params = jax.tree.map(
      lambda s: jnp.asarray(0.3 * rng.standard_normal(s.shape), s.dtype), shapes)
  return params, t


def _conv(k, cin, cout):
  return k * k * cin * cout + cout


def _resblock(cin, cout, emb=128):
  skip = _conv(1, cin, cout) if cin != cout else 0
  return (2 * cin + _conv(3, cin, cout) + emb * cout + cout + 2 * cout
          + _conv(3, cout, cout) + skip)


def _attention(c):
  return 2 * c + 4 * (c * c + c)  # GroupNorm; q, k, v and output projections


def test_default_unet_has_3_939_393_parameters():
  """channels=32, mults (1, 2, 4), 2 res blocks, attention at 7, 28x28x1: 3,939,393."""
  expected = (
      (32 * 128 + 128) + (128 * 128 + 128)  # time embedding MLP
      + _conv(3, 1, 32)  # input conv
      # down: 28x28 @ 32, 14x14 @ 64, 7x7 @ 128 (+ attention), two Downsamples
      + 2 * _resblock(32, 32) + _conv(3, 32, 32)
      + _resblock(32, 64) + _resblock(64, 64) + _conv(3, 64, 64)
      + _resblock(64, 128) + _resblock(128, 128) + 2 * _attention(128)
      # middle
      + 2 * _resblock(128, 128) + _attention(128)
      # up: inputs are concatenated with the skips 128,128,64 | 64,64,32 | 32,32,32
      + 2 * _resblock(256, 128) + _resblock(192, 128) + 3 * _attention(128)
      + _conv(3, 128, 128)
      + _resblock(192, 64) + _resblock(128, 64) + _resblock(96, 64) + _conv(3, 64, 64)
      + _resblock(96, 32) + 2 * _resblock(64, 32)
      + 2 * 32 + _conv(3, 32, 1))  # output GroupNorm and conv
  assert expected == 3_939_393
  shapes = jax.eval_shape(
      lambda x: UNet().init(jax.random.key(0), x, jnp.zeros(1), train=False),
      jnp.zeros((1, 28, 28, 1)))
  assert sum(p.size for p in jax.tree.leaves(shapes)) == expected


def _apply(model, train=False):
  """model.apply, jitted: one compile is much faster than op-by-op on CPU."""
  return jax.jit(functools.partial(model.apply, train=train))


def _images(shape):
  return jnp.asarray(np.random.default_rng(1).standard_normal(shape), jnp.float32)


@pytest.mark.parametrize("shape,mults,attention", [
    ((2, 28, 28, 1), (1, 2, 2), (7,)),
    ((2, 32, 32, 3), (1, 2, 2), (8,)),
    ((1, 7, 7, 1), (1, 2, 2), (4,)),   # 7 -> 4 -> 2 and back
    ((1, 10, 6, 2), (1, 1, 1), (3,)),  # non-square, 6 -> 3 -> 2
])
def test_output_shape(shape, mults, attention):
  model = UNet(**{**TINY, "channel_mults": mults, "attention_resolutions": attention})
  x = _images(shape)
  params, t = _fake_params(model, x)
  out = _apply(model)(params, x, t)
  assert out.shape == shape and out.dtype == jnp.float32


def test_default_unet_output_shape_32x32x3():
  shapes = jax.eval_shape(
      lambda x: UNet().init_with_output(jax.random.key(0), x, jnp.zeros(2), train=False)[0],
      jnp.zeros((2, 32, 32, 3)))
  assert shapes.shape == (2, 32, 32, 3)


def test_output_conv_starts_at_zero():
  model = UNet(**TINY)
  init_out_conv = jax.jit(lambda key: model.init(
      key, jnp.ones((1, 8, 8, 1)), jnp.zeros(1), train=False)["params"]["conv_out"])
  for value in jax.tree.leaves(init_out_conv(jax.random.key(0))):
    np.testing.assert_array_equal(value, 0.0)


def test_labels_change_output_and_none_is_the_null_label():
  model = UNet(**FLAT, num_classes=10)
  x = _images((2, 8, 8, 1))
  params, t = _fake_params(model, x)
  out = functools.partial(_apply(model), params, x, t)
  assert not np.allclose(out(jnp.array([0, 0])), out(jnp.array([1, 1])))
  np.testing.assert_array_equal(out(None), out(jnp.array([10, 10])))


def test_unconditional_unet_rejects_labels():
  with pytest.raises(ValueError):
    UNet(**TINY).apply({}, jnp.ones((1, 8, 8, 1)), jnp.zeros(1),
                       jnp.zeros(1, jnp.int32), train=False)


def test_dropout_only_when_training():
  model = UNet(**FLAT, dropout=0.5)
  x = _images((2, 8, 8, 1))
  params, t = _fake_params(model, x)
  evaluate, train = _apply(model), _apply(model, train=True)
  keys = [{"dropout": jax.random.key(seed)} for seed in (0, 1)]
  np.testing.assert_array_equal(evaluate(params, x, t, rngs=keys[0]),
                                evaluate(params, x, t, rngs=keys[1]))
  np.testing.assert_array_equal(train(params, x, t, rngs=keys[0]),
                                train(params, x, t, rngs=keys[0]))
  assert not np.allclose(train(params, x, t, rngs=keys[0]),
                         train(params, x, t, rngs=keys[1]))


def test_gradients_are_finite_and_reach_the_input_conv():
  model = UNet(**TINY, num_classes=2)
  x = _images((2, 8, 8, 1))
  params, t = _fake_params(model, x)

  @jax.jit
  def grads(params):
    loss = lambda p: jnp.mean(model.apply(p, x, t, jnp.array([0, 1]), train=True,
                                          rngs={"dropout": jax.random.key(3)}) ** 2)
    return jax.grad(loss)(params)

  g = grads(params)
  assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(g))
  assert np.abs(g["params"]["Conv_0"]["kernel"]).sum() > 0
