"""Building blocks of the diffusion UNet: time embedding, ResBlock, attention, resampling.

Every image tensor is NHWC. `emb` is the conditioning vector that the UNet
builds once per call (time embedding plus, optionally, class embedding). Each
block computes in its `dtype` (float32, or bfloat16 for mixed precision) from
float32 parameters; normalisation statistics and attention softmaxes stay float32.
"""

import math
from typing import Any, Optional, Tuple

import flax.linen as nn
import jax.numpy as jnp


def sinusoidal_embedding(t: jnp.ndarray, dim: int,
                         max_period: float = 10000.0) -> jnp.ndarray:
  """Transformer/DDPM sinusoidal embedding of (possibly fractional) timesteps.

  Args:
    t: [B] float timesteps, typically in [0, T).
    dim: even embedding width.
    max_period: the slowest frequency is 1 / max_period.

  Returns:
    [B, dim] float32: `[sin(t * f_0..f_{h-1}), cos(t * f_0..f_{h-1})]` with
    h = dim // 2 and f_i = max_period ** (-i / h), so f_0 = 1.
  """
  if dim % 2:
    raise ValueError(f"sinusoidal embedding width must be even, got {dim}")
  half = dim // 2
  freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
  angles = jnp.asarray(t, jnp.float32)[:, None] * freqs[None, :]
  return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class TimeEmbedding(nn.Module):
  """t [B] float -> [B, features] in `dtype`: sinusoidal(dim) (float32, so
  timesteps keep every digit) -> Dense -> SiLU -> Dense."""
  dim: int
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, t: jnp.ndarray) -> jnp.ndarray:
    h = nn.Dense(self.features, dtype=self.dtype)(sinusoidal_embedding(t, self.dim))
    return nn.Dense(self.features, dtype=self.dtype)(nn.silu(h))


class ResBlock(nn.Module):
  """DDPM residual block: x [B, H, W, Cin], emb [B, E] -> [B, H, W, features].

  GroupNorm, SiLU, conv3x3, + Dense(SiLU(emb)), GroupNorm, SiLU, dropout,
  conv3x3; the skip is a 1x1 conv when Cin != features.
  """
  features: int
  dropout: float = 0.0
  num_groups: int = 8
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, emb: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    norm = lambda: nn.GroupNorm(num_groups=self.num_groups, dtype=self.dtype)
    h = nn.silu(norm()(x))
    h = nn.Conv(self.features, (3, 3), dtype=self.dtype)(h)
    h = h + nn.Dense(self.features, dtype=self.dtype)(nn.silu(emb))[:, None, None, :]
    h = nn.silu(norm()(h))
    h = nn.Dropout(self.dropout, deterministic=not train)(h)
    h = nn.Conv(self.features, (3, 3), dtype=self.dtype)(h)
    if x.shape[-1] != self.features:
      x = nn.Conv(self.features, (1, 1), dtype=self.dtype)(x)
    return x + h


class SelfAttention2D(nn.Module):
  """x [B, H, W, C] -> x + MHSA(GroupNorm(x)) over the H*W positions, same shape."""
  num_heads: int = 1
  num_groups: int = 8
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    b, h, w, c = x.shape
    y = nn.GroupNorm(num_groups=self.num_groups, dtype=self.dtype)(x).reshape(b, h * w, c)
    y = nn.MultiHeadDotProductAttention(num_heads=self.num_heads, qkv_features=c,
                                        dtype=self.dtype, force_fp32_for_softmax=True)(y)
    return x + y.reshape(b, h, w, c)


class Downsample(nn.Module):
  """x [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), C] by a 3x3 stride-2 conv.

  Padding is 1 on every side, so output pixel i is centred on input pixel 2i
  for even and odd sizes alike (28 -> 14 -> 7 -> 4).
  """
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    return nn.Conv(x.shape[-1], (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)),
                   dtype=self.dtype)(x)


class Upsample(nn.Module):
  """x [B, h, w, C] -> [B, H, W, C] by nearest x2, crop to (H, W), conv3x3.

  `size` is the (H, W) of the matching skip connection (default 2h, 2w); the
  crop undoes Downsample's rounding up of odd sizes (4 -> 8 -> 7).
  """
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray,
               size: Optional[Tuple[int, int]] = None) -> jnp.ndarray:
    height, width = size or (2 * x.shape[1], 2 * x.shape[2])
    if not (2 * x.shape[1] - 1 <= height <= 2 * x.shape[1]
            and 2 * x.shape[2] - 1 <= width <= 2 * x.shape[2]):
      raise ValueError(f"cannot upsample {x.shape[1:3]} to {(height, width)}")
    x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)[:, :height, :width]
    return nn.Conv(x.shape[-1], (3, 3), dtype=self.dtype)(x)
