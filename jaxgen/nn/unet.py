"""The DDPM UNet (Ho et al. 2020), sized by a handful of fields."""

from typing import Any, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxgen.nn.layers import (Downsample, ResBlock, SelfAttention2D, TimeEmbedding,
                              Upsample)


class UNet(nn.Module):
  """DDPM-style UNet.

  Level i works at `channels * channel_mults[i]` channels, with a stride-2
  Downsample between levels (28 -> 14 -> 7; odd sizes round up and are cropped
  back on the way up). The conditioning vector has width 4 * channels: a
  sinusoidal time embedding through an MLP, plus `nn.Embed(num_classes + 1)`
  when num_classes > 0. The final conv is zero-initialised, so a fresh model
  predicts exactly 0 everywhere.

  Call: x [B, H, W, C] float32 in about [-1, 1]; t [B] float timestep;
  labels [B] int32 in [0, num_classes] (num_classes is the null label of
  classifier-free guidance) or None, which means the null label. Labels are
  an error when num_classes == 0. `train` turns dropout on; it then draws from
  the 'dropout' rng collection. Returns [B, H, W, C] float32, the objective's
  prediction (eps, x0 or v). `dtype` is the computation's (bfloat16: mixed
  precision); the parameters are float32 either way.
  """
  channels: int = 32
  channel_mults: Sequence[int] = (1, 2, 4)
  num_res_blocks: int = 2
  attention_resolutions: Sequence[int] = (7,)
  dropout: float = 0.1
  num_classes: int = 0
  num_groups: int = 8
  num_heads: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, t: jnp.ndarray,
               labels: Optional[jnp.ndarray] = None, *, train: bool) -> jnp.ndarray:
    emb = self._embed(t, labels, batch=x.shape[0])
    res_block = lambda c: ResBlock(c, self.dropout, self.num_groups, self.dtype)
    attention = lambda: SelfAttention2D(self.num_heads, self.num_groups, self.dtype)

    h = nn.Conv(self.channels, (3, 3), dtype=self.dtype)(x)
    skips = [h]
    for level, mult in enumerate(self.channel_mults):
      for _ in range(self.num_res_blocks):
        h = res_block(self.channels * mult)(h, emb, train=train)
        if h.shape[1] in self.attention_resolutions:
          h = attention()(h)
        skips.append(h)
      if level < len(self.channel_mults) - 1:
        h = Downsample(self.dtype)(h)
        skips.append(h)

    h = res_block(h.shape[-1])(h, emb, train=train)
    h = attention()(h)
    h = res_block(h.shape[-1])(h, emb, train=train)

    for level, mult in reversed(list(enumerate(self.channel_mults))):
      for _ in range(self.num_res_blocks + 1):
        h = jnp.concatenate([h, skips.pop()], axis=-1)
        h = res_block(self.channels * mult)(h, emb, train=train)
        if h.shape[1] in self.attention_resolutions:
          h = attention()(h)
      if level > 0:
        h = Upsample(self.dtype)(h, size=skips[-1].shape[1:3])

    h = nn.silu(nn.GroupNorm(num_groups=self.num_groups, dtype=self.dtype)(h))
    return nn.Conv(x.shape[-1], (3, 3), kernel_init=nn.initializers.zeros,
                   dtype=self.dtype, name="conv_out")(h).astype(jnp.float32)

  def _embed(self, t: jnp.ndarray, labels: Optional[jnp.ndarray],
             batch: int) -> jnp.ndarray:
    """[B, 4 * channels] time (+ class) embedding in `dtype`."""
    if self.num_classes == 0 and labels is not None:
      raise ValueError("labels given to a UNet with num_classes == 0")
    emb = TimeEmbedding(self.channels, 4 * self.channels, self.dtype)(t)
    if self.num_classes == 0:
      return emb
    if labels is None:
      labels = jnp.full((batch,), self.num_classes, jnp.int32)
    return emb + nn.Embed(self.num_classes + 1, emb.shape[-1], dtype=self.dtype)(labels)
