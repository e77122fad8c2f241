"""The FID Inception-v3: TF's 2015-12-05 Inception as ported by pytorch-fid.

It differs from torchvision's Inception-v3 where TF's graph did: the average
pools in the A, C and first E blocks exclude padding from the count, the last
E block (Mixed_7c) pools with a max, BatchNorm has no scale and eps 1e-3. The
output is the 2048-d pool3 feature every standard FID uses.

Module and parameter names follow pytorch-fid (`Mixed_6b/branch7x7_2`); each
conv+BN layer holds `kernel` [kh, kw, in, out], `beta`, `mean` and `var` [out],
all inference constants, so the model is one pure function
`InceptionV3().apply({"params": params}, x)`.
"""

from typing import Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

BATCH_NORM_EPS = 1e-3
FEATURE_DIM = 2048


class ConvBN(nn.Module):
  """Conv (no bias) -> BatchNorm without scale (eps 1e-3) -> ReLU."""
  features: int
  kernel_size: Tuple[int, int]
  stride: int = 1
  padding: Tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (*self.kernel_size, x.shape[-1], self.features))
    beta = self.param("beta", nn.initializers.zeros, (self.features,))
    mean = self.param("mean", nn.initializers.zeros, (self.features,))
    var = self.param("var", nn.initializers.ones, (self.features,))
    pad_h, pad_w = self.padding
    y = jax.lax.conv_general_dilated(
        x, kernel, window_strides=(self.stride, self.stride),
        padding=((pad_h, pad_h), (pad_w, pad_w)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST)
    y = (y - mean) * jax.lax.rsqrt(var + BATCH_NORM_EPS) + beta
    return nn.relu(y)


def max_pool(x: jnp.ndarray, stride: int, padding: int = 0) -> jnp.ndarray:
  """3x3 max pool; padding counts as -inf, as in torch."""
  return jax.lax.reduce_window(
      x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, stride, stride, 1),
      ((0, 0), (padding, padding), (padding, padding), (0, 0)))


def avg_pool_exclude_padding(x: jnp.ndarray) -> jnp.ndarray:
  """3x3, stride 1, pad 1 average pool that divides by the in-image count."""
  window = ((0, 0), (1, 1), (1, 1), (0, 0))
  total = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 3, 3, 1),
                                (1, 1, 1, 1), window)
  ones = np.ones((1, x.shape[1], x.shape[2], 1), np.float32)
  count = jax.lax.reduce_window(ones, 0.0, jax.lax.add, (1, 3, 3, 1),
                                (1, 1, 1, 1), window)
  return total / count


def _cat(branches: Sequence[jnp.ndarray]) -> jnp.ndarray:
  return jnp.concatenate(branches, axis=-1)


class InceptionA(nn.Module):
  """Mixed_5b/5c/5d: 35x35 blocks."""
  pool_features: int

  @nn.compact
  def __call__(self, x):
    branch1x1 = ConvBN(64, (1, 1), name="branch1x1")(x)
    branch5x5 = ConvBN(48, (1, 1), name="branch5x5_1")(x)
    branch5x5 = ConvBN(64, (5, 5), padding=(2, 2),
                       name="branch5x5_2")(branch5x5)
    dbl = ConvBN(64, (1, 1), name="branch3x3dbl_1")(x)
    dbl = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(dbl)
    dbl = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(dbl)
    pool = ConvBN(self.pool_features, (1, 1), name="branch_pool")(
        avg_pool_exclude_padding(x))
    return _cat([branch1x1, branch5x5, dbl, pool])


class InceptionB(nn.Module):
  """Mixed_6a: 35x35 -> 17x17."""

  @nn.compact
  def __call__(self, x):
    branch3x3 = ConvBN(384, (3, 3), stride=2, name="branch3x3")(x)
    dbl = ConvBN(64, (1, 1), name="branch3x3dbl_1")(x)
    dbl = ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(dbl)
    dbl = ConvBN(96, (3, 3), stride=2, name="branch3x3dbl_3")(dbl)
    return _cat([branch3x3, dbl, max_pool(x, stride=2)])


class InceptionC(nn.Module):
  """Mixed_6b..6e: 17x17 blocks with factorised 7x7 convolutions."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    branch1x1 = ConvBN(192, (1, 1), name="branch1x1")(x)
    b7 = ConvBN(c7, (1, 1), name="branch7x7_1")(x)
    b7 = ConvBN(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
    b7 = ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
    dbl = ConvBN(c7, (1, 1), name="branch7x7dbl_1")(x)
    dbl = ConvBN(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(dbl)
    dbl = ConvBN(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(dbl)
    dbl = ConvBN(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(dbl)
    dbl = ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(dbl)
    pool = ConvBN(192, (1, 1), name="branch_pool")(avg_pool_exclude_padding(x))
    return _cat([branch1x1, b7, dbl, pool])


class InceptionD(nn.Module):
  """Mixed_7a: 17x17 -> 8x8."""

  @nn.compact
  def __call__(self, x):
    b3 = ConvBN(192, (1, 1), name="branch3x3_1")(x)
    b3 = ConvBN(320, (3, 3), stride=2, name="branch3x3_2")(b3)
    b7 = ConvBN(192, (1, 1), name="branch7x7x3_1")(x)
    b7 = ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = ConvBN(192, (3, 3), stride=2, name="branch7x7x3_4")(b7)
    return _cat([b3, b7, max_pool(x, stride=2)])


class InceptionE(nn.Module):
  """Mixed_7b (average pool) and Mixed_7c (max pool): 8x8 blocks."""
  max_pool_branch: bool

  @nn.compact
  def __call__(self, x):
    branch1x1 = ConvBN(320, (1, 1), name="branch1x1")(x)
    b3 = ConvBN(384, (1, 1), name="branch3x3_1")(x)
    b3a = ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3)
    b3b = ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)
    dbl = ConvBN(448, (1, 1), name="branch3x3dbl_1")(x)
    dbl = ConvBN(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(dbl)
    dbl_a = ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(dbl)
    dbl_b = ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(dbl)
    if self.max_pool_branch:
      pooled = max_pool(x, stride=1, padding=1)
    else:
      pooled = avg_pool_exclude_padding(x)
    pool = ConvBN(192, (1, 1), name="branch_pool")(pooled)
    return _cat([branch1x1, b3a, b3b, dbl_a, dbl_b, pool])


class InceptionV3(nn.Module):
  """x: [B, 299, 299, 3] float32 in [-1, 1] -> pool3 [B, 2048] float32 >= 0."""

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    x = ConvBN(32, (3, 3), stride=2, name="Conv2d_1a_3x3")(x)
    x = ConvBN(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = ConvBN(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = max_pool(x, stride=2)
    x = ConvBN(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = ConvBN(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = max_pool(x, stride=2)
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    x = InceptionC(128, name="Mixed_6b")(x)
    x = InceptionC(160, name="Mixed_6c")(x)
    x = InceptionC(160, name="Mixed_6d")(x)
    x = InceptionC(192, name="Mixed_6e")(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(max_pool_branch=False, name="Mixed_7b")(x)
    x = InceptionE(max_pool_branch=True, name="Mixed_7c")(x)
    return jnp.mean(x, axis=(1, 2))
