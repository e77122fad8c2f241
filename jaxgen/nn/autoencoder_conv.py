"""Convolutional encoder and decoder for autoencoders on images.

Encoder: stride-2 4x4 convs (28 -> 14 -> 7 for two levels), then the dense
head of `MLPEncoder`. Decoder: the mirror image, ending in stride-2 4x4
transposed convs. Image sides must be divisible by 2 ** len(channels). Both
compute in their `dtype` (bfloat16: mixed precision) and return float32.
"""

from typing import Any, Optional, Sequence, Tuple

import flax.linen as nn
import jax.numpy as jnp

from jaxgen.nn.autoencoder_mlp import MLPDecoder, MLPEncoder


class ConvEncoder(nn.Module):
  """x [B, H, W, C] float32 -> [B, outputs] float32. `channels` are the conv
  widths, one stride-2 ReLU conv each; `hidden` the dense widths after them."""
  channels: Sequence[int]
  hidden: Sequence[int]
  outputs: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray,
               condition: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    for width in self.channels:
      x = nn.relu(nn.Conv(width, (4, 4), strides=(2, 2), padding="SAME",
                          dtype=self.dtype)(x))
    return MLPEncoder(self.hidden, self.outputs, self.dtype)(x, condition)


class ConvDecoder(nn.Module):
  """z [B, D] float32 -> [B, *shape] float32, shape = (H, W, C); raw output
  (e.g. logits). Dense layers `hidden` map z to an (H / 2^L, W / 2^L,
  channels[-1]) map, then L stride-2 transposed convs with widths
  channels[-2], ..., channels[0], C."""
  channels: Sequence[int]
  hidden: Sequence[int]
  shape: Tuple[int, int, int]
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jnp.ndarray,
               condition: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    height, width, _ = self.shape
    factor = 2 ** len(self.channels)
    if height % factor or width % factor:
      raise ValueError(f"image sides {height}x{width} are not divisible by {factor} "
                       f"(one halving per conv level of {tuple(self.channels)})")
    base_shape = (height // factor, width // factor, self.channels[-1])
    h = nn.relu(MLPDecoder(self.hidden, base_shape, self.dtype)(z, condition))
    widths = [*reversed(self.channels[:-1]), self.shape[-1]]
    for i, width in enumerate(widths):
      if i:
        h = nn.relu(h)
      h = nn.ConvTranspose(width, (4, 4), strides=(2, 2), padding="SAME",
                           dtype=self.dtype)(h)
    return h.astype(jnp.float32)
