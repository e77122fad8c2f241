"""Dense encoder and decoder for autoencoders (e.g. 784 -> 400 -> 20 and back).

`condition` is an optional float32 [B, K] vector (a one-hot class for a
conditional VAE) concatenated to the input of each network. Both compute in
their `dtype` (bfloat16: mixed precision) and return float32.
"""

import math
from typing import Any, Optional, Sequence, Tuple

import flax.linen as nn
import jax.numpy as jnp

from jaxgen.nn.mlp import MLP


def with_condition(h: jnp.ndarray, condition: Optional[jnp.ndarray]) -> jnp.ndarray:
  """[B, F], [B, K] or None -> [B, F + K] (or h unchanged)."""
  return h if condition is None else jnp.concatenate([h, condition], axis=-1)


class MLPEncoder(nn.Module):
  """x [B, *shape] float32 (flattened) -> [B, outputs] float32 through ReLU
  layers of widths `hidden`; no activation on the output."""
  hidden: Sequence[int]
  outputs: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray,
               condition: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    h = with_condition(x.reshape(x.shape[0], -1), condition)
    return MLP([*self.hidden, self.outputs], nn.relu, self.dtype)(h).astype(jnp.float32)


class MLPDecoder(nn.Module):
  """z [B, D] float32 -> [B, *shape] float32 through ReLU layers of widths
  `hidden`; the output is raw (e.g. logits), the caller applies its range."""
  hidden: Sequence[int]
  shape: Tuple[int, ...]
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jnp.ndarray,
               condition: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    mlp = MLP([*self.hidden, math.prod(self.shape)], nn.relu, self.dtype)
    h = mlp(with_condition(z, condition)).astype(jnp.float32)
    return h.reshape((z.shape[0],) + tuple(self.shape))
