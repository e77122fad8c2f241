"""Builds the generator and critic named by config.gan.architecture, with
class conditioning that works the same for every architecture.

- Generator: the one-hot label is concatenated to z (Mirza & Osindero 2014).
- Critic: score = Dense(1)(h) + <Embed(label), h> on the body's features h
  (the projection discriminator, Miyato & Koyama 2018).

Both compute in config.compute_dtype (bfloat16: mixed precision) from float32
parameters; the critic's scores and the generator's images are float32.
"""

import functools
from typing import Any, Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.errors import UsageError
from jaxgen.families.family import compute_dtype
from jaxgen.nn.dcgan import DCGANCriticBody, DCGANGenerator
from jaxgen.nn.gan_mlp import MLPCriticBody, MLPGenerator
from jaxgen.nn.resnet_gan import ResNetGenerator, SNResNetCriticBody
from jaxgen.registry import Registry

ACTIVATIONS = Registry("activation")
ACTIVATIONS.register("relu")(nn.relu)
ACTIVATIONS.register("leaky_relu")(functools.partial(nn.leaky_relu, negative_slope=0.2))

# gan.architecture -> (config.net, example shape, generator activation, critic
# activation, compute dtype) -> (generator, critic body).
ARCHITECTURES = Registry("GAN architecture")


@ARCHITECTURES.register("mlp")
def _mlp(net: ml_collections.ConfigDict, shape: Tuple[int, ...], g_act, d_act, dtype):
  return (MLPGenerator(tuple(net.g_hidden), shape, g_act, batch_norm=net.g_batch_norm,
                       tanh_output=len(shape) == 3, dtype=dtype),
          MLPCriticBody(tuple(net.d_hidden), d_act, dtype))


@ARCHITECTURES.register("dcgan")
def _dcgan(net: ml_collections.ConfigDict, shape: Tuple[int, ...], g_act, d_act, dtype):
  return (DCGANGenerator(shape, net.channels, g_act, dtype),
          DCGANCriticBody(net.channels, d_act, net.d_norm, dtype))


@ARCHITECTURES.register("resnet")
def _resnet(net: ml_collections.ConfigDict, shape: Tuple[int, ...], g_act, d_act, dtype):
  return (ResNetGenerator(shape, net.channels, g_act, dtype),
          SNResNetCriticBody(net.channels, d_act, dtype))


class ConditionalGenerator(nn.Module):
  """z [B, Z] float32, labels [B] int32 in [0, num_classes) or None ->
  body(concat(z, one_hot(labels))). Unconditional when num_classes == 0."""
  body: nn.Module
  num_classes: int = 0

  @nn.compact
  def __call__(self, z: jnp.ndarray, labels: Optional[jnp.ndarray], *,
               train: bool) -> jnp.ndarray:
    if self.num_classes:
      z = jnp.concatenate([z, jax.nn.one_hot(labels, self.num_classes)], axis=-1)
    return self.body(z, train=train)


class Critic(nn.Module):
  """x [B, *shape] float32, labels [B] int32 or None -> scores [B] float32.

  The head Dense(1) is spectrally normalised when `spectral_norm` (then its
  power-iteration state lives in "batch_stats" like the body's).
  """
  body: nn.Module
  num_classes: int = 0
  spectral_norm: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, labels: Optional[jnp.ndarray], *,
               train: bool) -> jnp.ndarray:
    h = self.body(x, train=train)
    head = nn.Dense(1, dtype=self.dtype)
    score = (nn.SpectralNorm(head)(h, update_stats=train) if self.spectral_norm
             else head(h))[:, 0].astype(jnp.float32)
    if self.num_classes:
      projection = nn.Embed(self.num_classes, h.shape[-1], dtype=self.dtype)(labels) * h
      score = score + jnp.sum(projection.astype(jnp.float32), axis=-1)
    return score


def build_networks(config: ml_collections.ConfigDict, shape: Tuple[int, ...],
                   num_classes: int) -> Tuple[ConditionalGenerator, Critic]:
  """(generator, critic) for examples of `shape`; num_classes = 0 is unconditional."""
  options, net = config.gan, config.net
  g_act = ACTIVATIONS.get(options.g_activation)
  d_act = ACTIVATIONS.get(options.d_activation)
  build = ARCHITECTURES.get(options.architecture)
  if options.architecture != "mlp" and len(shape) != 3:
    raise UsageError(f"architecture {options.architecture!r} needs images; use "
                     f"--config.gan.architecture=mlp for 2-D points")
  dtype = compute_dtype(config)
  generator, body = build(net, shape, g_act, d_act, dtype)
  return (ConditionalGenerator(generator, num_classes),
          Critic(body, num_classes, spectral_norm=options.architecture == "resnet",
                 dtype=dtype))


def uses_batch_statistics(config: ml_collections.ConfigDict) -> bool:
  """True when the critic normalises with batch statistics (DCGAN with
  d_norm=batch): then examples interact and a gradient penalty is wrong."""
  return config.gan.architecture == "dcgan" and config.net.d_norm == "batch"
