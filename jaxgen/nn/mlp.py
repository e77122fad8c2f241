"""Dense networks: a plain MLP and the diffusion denoiser for low-dimensional points."""

from typing import Any, Callable, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxgen.nn.layers import TimeEmbedding


class MLP(nn.Module):
  """x [..., D] -> [..., features[-1]]: Dense layers with `activation` between them.

  No activation follows the last layer. Computes in `dtype`.
  """
  features: Sequence[int]
  activation: Callable[[jnp.ndarray], jnp.ndarray] = nn.silu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    for i, width in enumerate(self.features):
      if i:
        x = self.activation(x)
      x = nn.Dense(width, dtype=self.dtype)(x)
    return x


class MLPDenoiser(nn.Module):
  """Diffusion denoiser for points: x [B, D] float32, t [B] float -> [B, D] float32.

  The time embedding (width `hidden`, plus `nn.Embed(num_classes + 1)` when
  num_classes > 0) is concatenated to x and fed to an MLP of `depth` SiLU
  hidden layers. labels: [B] int32 in [0, num_classes] (num_classes is the
  null label) or None, which means the null label; an error when
  num_classes == 0. `train` is unused; it is there so that callers treat
  MLPDenoiser and UNet alike. `dtype` is the computation's, as in UNet.
  """
  hidden: int = 256
  depth: int = 3
  num_classes: int = 0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, t: jnp.ndarray,
               labels: Optional[jnp.ndarray] = None, *, train: bool) -> jnp.ndarray:
    del train
    if self.num_classes == 0 and labels is not None:
      raise ValueError("labels given to an MLPDenoiser with num_classes == 0")
    emb = TimeEmbedding(self.hidden, self.hidden, self.dtype)(t)
    if self.num_classes:
      if labels is None:
        labels = jnp.full((x.shape[0],), self.num_classes, jnp.int32)
      emb = emb + nn.Embed(self.num_classes + 1, self.hidden, dtype=self.dtype)(labels)
    h = jnp.concatenate([x.astype(self.dtype), emb], axis=-1)
    return MLP([self.hidden] * self.depth + [x.shape[-1]], dtype=self.dtype)(h).astype(
        jnp.float32)
