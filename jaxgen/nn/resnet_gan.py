"""ResBlock generator and spectrally normalised ResBlock critic (Miyato et al.
2018; Gulrajani et al. 2017's CIFAR networks scaled to 28 x 28 images).

`nn.SpectralNorm` keeps its power-iteration vector `u` and the estimate
`sigma` in the "batch_stats" collection; they advance only when the module is
called with `train=True` and "batch_stats" mutable. Nothing in the critic
depends on other examples of the batch, so it suits a gradient penalty. Every
network computes in its `dtype` (bfloat16: mixed precision; BatchNorm
statistics and the spectral norms' power iterations stay float32).
"""

from typing import Any, Callable, Tuple

import flax.linen as nn
import jax.numpy as jnp

Activation = Callable[[jnp.ndarray], jnp.ndarray]


def _upsample(x: jnp.ndarray) -> jnp.ndarray:
  """Nearest-neighbour x2: [B, H, W, C] -> [B, 2H, 2W, C]."""
  return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def _downsample(x: jnp.ndarray) -> jnp.ndarray:
  """2x2 average pooling: [B, H, W, C] -> [B, H/2, W/2, C] (H, W even)."""
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


class GeneratorBlock(nn.Module):
  """x [B, H, W, Cin] -> [B, 2H, 2W, features]: BN, act, up, conv3x3, BN, act,
  conv3x3; the skip is up then conv1x1."""
  features: int
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)
    conv = lambda size: nn.Conv(self.features, size, dtype=self.dtype)
    h = conv((3, 3))(_upsample(self.activation(norm()(x))))
    h = conv((3, 3))(self.activation(norm()(h)))
    return conv((1, 1))(_upsample(x)) + h


class ResNetGenerator(nn.Module):
  """z [B, Z] float32 -> images [B, H, W, C] float32 in [-1, 1] (H, W divisible
  by 4): Dense to [H/4, W/4, channels], two up-blocks, BN, act, conv3x3, tanh."""
  out_shape: Tuple[int, int, int]
  channels: int = 64
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    height, width, out_channels = self.out_shape
    if height % 4 or width % 4:
      raise ValueError(f"ResNet generator needs sizes divisible by 4, got {self.out_shape}")
    h = nn.Dense(height // 4 * width // 4 * self.channels, dtype=self.dtype)(z)
    h = h.reshape((z.shape[0], height // 4, width // 4, self.channels))
    for _ in range(2):
      h = GeneratorBlock(self.channels, self.activation, self.dtype)(h, train=train)
    h = self.activation(nn.BatchNorm(use_running_average=not train, momentum=0.9,
                                     dtype=self.dtype)(h))
    return jnp.tanh(nn.Conv(out_channels, (3, 3), dtype=self.dtype)(h).astype(jnp.float32))


class CriticBlock(nn.Module):
  """x [B, H, W, Cin] -> [B, H', W', features], every conv spectrally
  normalised: (act), conv3x3, act, conv3x3, (avg-pool when `downsample`); the
  skip is conv1x1 (+ pool). `first` skips the leading activation (the raw
  image is its input)."""
  features: int
  downsample: bool = True
  first: bool = False
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    def conv(size, h):
      layer = nn.Conv(self.features, size, dtype=self.dtype)
      return nn.SpectralNorm(layer)(h, update_stats=train)

    h = x if self.first else self.activation(x)
    h = conv((3, 3), self.activation(conv((3, 3), h)))
    skip = conv((1, 1), x)
    if self.downsample:
      h, skip = _downsample(h), _downsample(skip)
    return skip + h


class SNResNetCriticBody(nn.Module):
  """images [B, H, W, C] -> features [B, channels]: two down-blocks (H/4),
  one plain block, activation, sum over positions (Miyato et al. 2018)."""
  channels: int = 64
  activation: Activation = nn.relu
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    block = lambda **kw: CriticBlock(self.channels, activation=self.activation,
                                     dtype=self.dtype, **kw)
    h = block(first=True)(x, train=train)
    h = block()(h, train=train)
    h = block(downsample=False)(h, train=train)
    return jnp.sum(self.activation(h), axis=(1, 2))
