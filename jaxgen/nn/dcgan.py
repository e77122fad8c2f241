"""DCGAN-style convolutional pair (Radford et al. 2016) for small images.

Sizes are for images whose height and width are divisible by 4 (28 x 28 MNIST:
7 -> 14 -> 28). Strided 4x4 (transposed) convolutions replace pooling. Both
networks compute in their `dtype` (bfloat16: mixed precision; normalisation
statistics stay float32).
"""

from typing import Any, Callable, Tuple

import flax.linen as nn
import jax.numpy as jnp

Activation = Callable[[jnp.ndarray], jnp.ndarray]
NORMS = ("batch", "layer", "none")


class DCGANGenerator(nn.Module):
  """z [B, Z] float32 -> images [B, H, W, C] float32 in [-1, 1].

  Dense to [H/4, W/4, 2*channels] -> BatchNorm -> activation ->
  ConvTranspose(channels, 4x4, stride 2) -> BatchNorm -> activation ->
  ConvTranspose(C, 4x4, stride 2) -> tanh.
  """
  out_shape: Tuple[int, int, int]
  channels: int = 64
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    height, width, out_channels = self.out_shape
    if height % 4 or width % 4:
      raise ValueError(f"DCGAN needs image sizes divisible by 4, got {self.out_shape}")
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)
    up = lambda c: nn.ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME",
                                    dtype=self.dtype)
    h = nn.Dense(height // 4 * width // 4 * 2 * self.channels, dtype=self.dtype)(z)
    h = h.reshape((z.shape[0], height // 4, width // 4, 2 * self.channels))
    h = self.activation(norm()(h))
    h = self.activation(norm()(up(self.channels)(h)))
    return jnp.tanh(up(out_channels)(h).astype(jnp.float32))


class DCGANCriticBody(nn.Module):
  """images [B, H, W, C] -> features [B, H/4 * W/4 * 2*channels].

  Conv(channels, 4x4, stride 2) -> activation -> Conv(2*channels, 4x4,
  stride 2) -> norm -> activation -> flatten. `norm` is "batch" (DCGAN),
  "layer" (the WGAN-GP paper's batch-free replacement) or "none".
  """
  channels: int = 64
  activation: Activation = nn.leaky_relu
  norm: str = "batch"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    if self.norm not in NORMS:
      raise ValueError(f"unknown norm {self.norm!r}; choose one of {NORMS}")
    down = lambda c: nn.Conv(c, (4, 4), strides=(2, 2), padding="SAME", dtype=self.dtype)
    h = self.activation(down(self.channels)(x))
    h = down(2 * self.channels)(h)
    if self.norm == "batch":
      h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
    elif self.norm == "layer":
      h = nn.LayerNorm(dtype=self.dtype)(h)
    h = self.activation(h)
    return h.reshape((x.shape[0], -1))
