"""GAN losses against hand-computed values, and the gradient penalty against the
analytic value for a linear critic."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.families.gan.losses import LOSSES, gradient_penalty


def test_non_saturating_loss():
  loss = LOSSES.get("non_saturating")
  real, fake = jnp.array([2.0, -1.0]), jnp.array([1.0, 0.0])
  # softplus(-2) = 0.126928, softplus(1) = 1.313262, softplus(0) = log 2.
  d_loss, metrics = loss.discriminator(real, fake)
  np.testing.assert_allclose(d_loss, (0.126928 + 1.313262) / 2 + (1.313262 + 0.693147) / 2,
                             rtol=1e-5)
  assert metrics == {}
  # softplus(-1) = 0.313262.
  np.testing.assert_allclose(loss.generator(fake), (0.313262 + 0.693147) / 2, rtol=1e-5)
  # A discriminator that cannot tell: 2 log 2 for D, log 2 for G.
  np.testing.assert_allclose(loss.discriminator(jnp.zeros(3), jnp.zeros(3))[0],
                             2 * np.log(2), rtol=1e-6)


def test_least_squares_loss():
  loss = LOSSES.get("least_squares")
  real, fake = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
  np.testing.assert_allclose(loss.discriminator(real, fake)[0], 0.5 * 0.5 + 0.5 * 0.5)
  np.testing.assert_allclose(loss.generator(fake), 0.5 * 0.5)
  np.testing.assert_allclose(loss.generator(jnp.array([3.0])), 0.5 * 4.0)


def test_wasserstein_loss_and_estimate():
  loss = LOSSES.get("wasserstein")
  real, fake = jnp.array([1.0, 3.0]), jnp.array([0.0, -2.0])
  d_loss, metrics = loss.discriminator(real, fake)
  np.testing.assert_allclose(metrics["wasserstein"], 2.0 - (-1.0))
  np.testing.assert_allclose(d_loss, -3.0)
  np.testing.assert_allclose(loss.generator(fake), 1.0)


@pytest.mark.parametrize("shape", [(2,), (2, 2, 1)])
@pytest.mark.parametrize("norm", [3.0, 0.5])
@pytest.mark.parametrize("target", [1.0, 0.0])
def test_gradient_penalty_of_a_linear_critic(shape, norm, target):
  """D(x) = <w, x> + b has gradient w everywhere: penalty = (||w|| - target)^2."""
  size = int(np.prod(shape))
  w = jax.random.normal(jax.random.PRNGKey(0), (size,))
  w = norm * w / jnp.linalg.norm(w)
  critic = lambda x: x.reshape((x.shape[0], -1)) @ w + 0.7
  real = jax.random.normal(jax.random.PRNGKey(1), (5,) + shape)
  fake = jax.random.normal(jax.random.PRNGKey(2), (5,) + shape)
  penalty = gradient_penalty(critic, real, fake, jax.random.PRNGKey(3), target)
  np.testing.assert_allclose(penalty, (norm - target) ** 2, rtol=1e-5)


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
  critic = lambda x: x[:, 0]
  x = jnp.ones((4, 2))
  np.testing.assert_allclose(gradient_penalty(critic, x, -x, jax.random.PRNGKey(0)), 0.0,
                             atol=1e-6)
