"""Autoencoder losses: reconstruction losses on known inputs, the Gaussian KL
against its closed form and a Monte Carlo estimate, gradients through the
reparameterisation."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import norm

from jaxgen.families.autoencoder.losses import (RECONSTRUCTION_LOSSES, absolute_error,
                                                binary_cross_entropy, gaussian_kl,
                                                reparameterize, squared_error)


def test_reconstruction_losses_are_summed_per_image():
  target = jnp.zeros((2, 28, 28, 1))
  np.testing.assert_allclose(squared_error(jnp.full_like(target, 0.5), target), [196.0] * 2)
  np.testing.assert_allclose(absolute_error(jnp.full_like(target, 0.5), target), [392.0] * 2)
  # sigmoid(0) = 1/2 costs log 2 per pixel whatever the target.
  np.testing.assert_allclose(binary_cross_entropy(jnp.zeros_like(target), target + 0.3),
                             [784 * math.log(2.0)] * 2, rtol=1e-6)


def test_binary_cross_entropy_matches_its_definition_and_stays_finite():
  logits = jnp.array([[-3.0, -0.5, 0.0, 2.0]])
  target = jnp.array([[0.0, 0.25, 1.0, 1.0]])
  p = jax.nn.sigmoid(logits)
  expected = -jnp.sum(target * jnp.log(p) + (1 - target) * jnp.log(1 - p), axis=-1)
  np.testing.assert_allclose(binary_cross_entropy(logits, target), expected, rtol=1e-6)
  confident = binary_cross_entropy(jnp.array([[200.0, -200.0]]), jnp.array([[1.0, 0.0]]))
  assert np.isfinite(confident).all() and float(confident[0]) < 1e-6


def test_bce_is_marked_as_taking_logits_and_the_others_reconstructions():
  assert RECONSTRUCTION_LOSSES.get("bce").on_logits
  assert not RECONSTRUCTION_LOSSES.get("l2").on_logits
  assert not RECONSTRUCTION_LOSSES.get("l1").on_logits


def test_kl_matches_the_closed_form_on_known_values():
  mean = jnp.array([[0.0, 0.0], [1.0, -2.0], [0.0, 0.0]])
  log_variance = jnp.array([[0.0, 0.0], [0.0, 0.0], [math.log(4.0), 0.0]])
  # N(0, 1): 0; means 1 and -2: (1 + 4) / 2; variance 4: (4 - 1 - log 4) / 2.
  np.testing.assert_allclose(gaussian_kl(mean, log_variance),
                             [0.0, 2.5, 0.5 * (3.0 - math.log(4.0))], rtol=1e-6)


def test_kl_matches_a_monte_carlo_estimate():
  mean = jnp.array([[0.7, -1.2, 0.1]])
  log_variance = jnp.array([[-1.0, 0.5, 0.0]])
  z = reparameterize(jax.random.PRNGKey(0), jnp.repeat(mean, 200_000, axis=0),
                     jnp.repeat(log_variance, 200_000, axis=0))
  std = jnp.exp(0.5 * log_variance)
  log_ratio = jnp.sum(norm.logpdf(z, mean, std) - norm.logpdf(z), axis=-1)
  assert float(jnp.mean(log_ratio)) == pytest.approx(float(gaussian_kl(mean, log_variance)[0]),
                                                     abs=0.02)


def test_gradients_flow_through_the_reparameterisation():
  rng = jax.random.PRNGKey(1)
  mean = jnp.array([[0.5, -1.0, 2.0]])
  log_variance = jnp.array([[0.0, -2.0, 1.0]])
  eps = (reparameterize(rng, mean, log_variance) - mean) / jnp.exp(0.5 * log_variance)
  d_mean, d_log_variance = jax.grad(
      lambda m, lv: jnp.sum(reparameterize(rng, m, lv)), argnums=(0, 1))(mean, log_variance)
  np.testing.assert_allclose(d_mean, jnp.ones_like(mean))
  np.testing.assert_allclose(d_log_variance, 0.5 * jnp.exp(0.5 * log_variance) * eps,
                             rtol=1e-5)
