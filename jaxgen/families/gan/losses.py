"""GAN objectives as small pure functions of critic scores, registered by name.

Scores are float32 [B] raw critic outputs (logits for the non-saturating loss).
Each discriminator loss returns (loss, metrics); each generator loss returns
the loss. Lower is better for both networks.
"""

import dataclasses
from typing import Callable, Dict, Tuple

import jax
import jax.numpy as jnp

from jaxgen.registry import Registry

Metrics = Dict[str, jnp.ndarray]


@dataclasses.dataclass(frozen=True)
class GANLoss:
  """discriminator(real_scores, fake_scores) -> (loss, metrics);
  generator(fake_scores) -> loss."""
  discriminator: Callable[[jnp.ndarray, jnp.ndarray], Tuple[jnp.ndarray, Metrics]]
  generator: Callable[[jnp.ndarray], jnp.ndarray]


LOSSES: Registry[GANLoss] = Registry("GAN loss")


def bce_discriminator_loss(real_logits, fake_logits):
  """-log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))), averaged (Goodfellow 2014)."""
  loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
  return loss, {}


def non_saturating_generator_loss(fake_logits):
  """-log sigmoid(D(G(z))), averaged: the non-saturating generator loss."""
  return jnp.mean(jax.nn.softplus(-fake_logits))


def least_squares_discriminator_loss(real_scores, fake_scores):
  """(1/2) E[(D(x) - 1)^2] + (1/2) E[D(G(z))^2] (Mao et al. 2017, a=0, b=1)."""
  loss = 0.5 * jnp.mean((real_scores - 1.0) ** 2) + 0.5 * jnp.mean(fake_scores ** 2)
  return loss, {}


def least_squares_generator_loss(fake_scores):
  """(1/2) E[(D(G(z)) - 1)^2] (Mao et al. 2017, c=1)."""
  return 0.5 * jnp.mean((fake_scores - 1.0) ** 2)


def wasserstein_critic_loss(real_scores, fake_scores):
  """E[D(G(z))] - E[D(x)]; metrics["wasserstein"] = E[D(x)] - E[D(G(z))], the
  critic's estimate of the Wasserstein-1 distance (without the penalty)."""
  estimate = jnp.mean(real_scores) - jnp.mean(fake_scores)
  return -estimate, {"wasserstein": estimate}


def wasserstein_generator_loss(fake_scores):
  """-E[D(G(z))]."""
  return -jnp.mean(fake_scores)


def gradient_penalty(critic: Callable[[jnp.ndarray], jnp.ndarray], real: jnp.ndarray,
                     fake: jnp.ndarray, rng: jax.Array, target: float = 1.0) -> jnp.ndarray:
  """E[(||grad_x D(x_hat)||_2 - target)^2] at x_hat = e x + (1 - e) G(z),
  e ~ U[0, 1] per example: target 1 is WGAN-GP's (Gulrajani et al. 2017),
  target 0 the zero-centred penalty that keeps a saturating-loss discriminator
  from sharpening around the generator's current modes (Thanh-Tung et al. 2019).

  critic: x [B, *shape] -> scores [B], with no interaction between examples
  (no batch statistics), so the gradient of sum(scores) holds each example's
  own gradient. real, fake: [B, *shape] float32. Returns a float32 scalar.
  """
  e = jax.random.uniform(rng, (real.shape[0],) + (1,) * (real.ndim - 1))
  x_hat = e * real + (1.0 - e) * fake
  grads = jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)
  norms = jnp.sqrt(jnp.sum(grads.reshape((grads.shape[0], -1)) ** 2, axis=-1) + 1e-12)
  return jnp.mean((norms - target) ** 2)


LOSSES.register("non_saturating")(
    GANLoss(bce_discriminator_loss, non_saturating_generator_loss))
LOSSES.register("least_squares")(
    GANLoss(least_squares_discriminator_loss, least_squares_generator_loss))
LOSSES.register("wasserstein")(
    GANLoss(wasserstein_critic_loss, wasserstein_generator_loss))
