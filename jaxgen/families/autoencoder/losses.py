"""Autoencoder losses, each per example: reconstruction (BCE, L2, L1) and the
closed-form Gaussian KL.

Every loss is summed over an example's elements (784 pixels for MNIST), not
averaged, so an L2 value is "MSE x 784" and a BCE value is in nats per image.
"""

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from jaxgen.registry import Registry


def _sum_per_example(values: jnp.ndarray) -> jnp.ndarray:
  """[B, ...] -> [B] float32."""
  return jnp.sum(values.reshape(values.shape[0], -1), axis=-1)


def binary_cross_entropy(logits: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """-[t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))] summed per example.

  logits: [B, ...] float32 (any real); target: same shape in [0, 1] -> [B].
  Computed from logits, so it stays finite where sigmoid(l) rounds to 0 or 1.
  """
  return _sum_per_example(optax.sigmoid_binary_cross_entropy(logits, target))


def squared_error(prediction: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """sum (prediction - target)^2 per example: [B, ...] -> [B]."""
  return _sum_per_example(jnp.square(prediction - target))


def absolute_error(prediction: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """sum |prediction - target| per example: [B, ...] -> [B]."""
  return _sum_per_example(jnp.abs(prediction - target))


@dataclasses.dataclass(frozen=True)
class ReconstructionLoss:
  """per_example(decoded, target) -> [B]; `on_logits`: `decoded` is the
  decoder's raw output (logits) rather than the reconstruction itself."""
  per_example: Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]
  on_logits: bool


RECONSTRUCTION_LOSSES: Registry[ReconstructionLoss] = Registry("reconstruction loss")
RECONSTRUCTION_LOSSES.register("bce")(ReconstructionLoss(binary_cross_entropy, True))
RECONSTRUCTION_LOSSES.register("l2")(ReconstructionLoss(squared_error, False))
RECONSTRUCTION_LOSSES.register("l1")(ReconstructionLoss(absolute_error, False))


def gaussian_kl(mean: jnp.ndarray, log_variance: jnp.ndarray) -> jnp.ndarray:
  """KL(N(mean, exp(log_variance)) || N(0, I)) in nats: [B, D] -> [B].

  Closed form 0.5 * sum(exp(log_var) + mean^2 - 1 - log_var).
  """
  return 0.5 * jnp.sum(jnp.exp(log_variance) + jnp.square(mean) - 1.0 - log_variance,
                       axis=-1)


def reparameterize(rng: jax.Array, mean: jnp.ndarray,
                   log_variance: jnp.ndarray) -> jnp.ndarray:
  """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I): differentiable in
  mean and log_variance ([B, D] each) -> [B, D]."""
  noise = jax.random.normal(rng, mean.shape, mean.dtype)
  return mean + jnp.exp(0.5 * log_variance) * noise
