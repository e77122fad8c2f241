"""Fully connected GAN networks: a generator (BatchNorm optional) and a critic body.

The classic MNIST pair is generator 100 -> 128 -> 256 -> 512 -> 1024 -> 784
(BatchNorm, LeakyReLU, tanh) and discriminator 784 -> 512 -> 256 -> 1; the
critic's final Dense(1) (and any label projection) lives in the GAN family's
critic head, so this module stops at the 256 features. Both compute in their
`dtype` (bfloat16: mixed precision; BatchNorm statistics stay float32).
"""

import math
from typing import Any, Callable, Sequence, Tuple

import flax.linen as nn
import jax.numpy as jnp

Activation = Callable[[jnp.ndarray], jnp.ndarray]


class MLPGenerator(nn.Module):
  """z [B, Z] float32 -> [B, *out_shape] float32.

  Each hidden layer is Dense -> BatchNorm (when `batch_norm`) -> activation.
  The output is tanh-squashed into [-1, 1] when `tanh_output` (images) and
  left linear otherwise (2-D points).
  """
  hidden: Sequence[int]
  out_shape: Tuple[int, ...]
  activation: Activation = nn.relu
  batch_norm: bool = True
  tanh_output: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    h = z
    for width in self.hidden:
      h = nn.Dense(width, dtype=self.dtype)(h)
      if self.batch_norm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
      h = self.activation(h)
    x = nn.Dense(math.prod(self.out_shape), dtype=self.dtype)(h).astype(jnp.float32)
    if self.tanh_output:
      x = jnp.tanh(x)
    return x.reshape((z.shape[0],) + tuple(self.out_shape))


class MLPCriticBody(nn.Module):
  """x [B, *shape] float32 -> features [B, hidden[-1]]: flatten, then Dense ->
  activation per hidden layer. No normalisation, so scores of different
  examples never interact (safe for a gradient penalty). `train` is unused; it
  is there so every critic body is called alike."""
  hidden: Sequence[int]
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    del train
    h = x.reshape((x.shape[0], -1))
    for width in self.hidden:
      h = self.activation(nn.Dense(width, dtype=self.dtype)(h))
    return h
