"""Schedules, q(x_t | x_0) and the eps/x0/v objectives."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.families.diffusion.objectives import LOSS_WEIGHTINGS, OBJECTIVES
from jaxgen.families.diffusion.schedules import SCHEDULES, cosine_schedule, \
    linear_schedule, q_sample


def test_linear_schedule_matches_ddpm():
  schedule = linear_schedule(1000)
  np.testing.assert_allclose(schedule.betas[0], 1e-4, rtol=1e-6)
  np.testing.assert_allclose(schedule.betas[-1], 0.02, rtol=1e-6)
  assert np.all(np.diff(schedule.betas) > 0)
  # alpha_bar_T of DDPM's schedule is about 4.0e-5.
  np.testing.assert_allclose(schedule.alphas_cumprod[-1], 4.04e-5, rtol=0.02)


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedule_properties(name):
  schedule = SCHEDULES.get(name)(1000)
  abar = np.asarray(schedule.alphas_cumprod)
  assert abar.shape == (1000,)
  assert np.all(np.diff(abar) < 0), "alpha_bar must decrease"
  assert 0.99 < abar[0] < 1.0 and 0.0 < abar[-1] < 1e-3
  assert np.all((schedule.betas > 0) & (schedule.betas <= 0.999))
  np.testing.assert_allclose(schedule.alphas_cumprod_prev[0], 1.0)
  var = np.asarray(schedule.posterior_variance)
  assert np.all((var >= 0) & (var <= np.asarray(schedule.betas) + 1e-7))
  # sigma_t, the noise-to-signal ratio of x_t, grows with t.
  sigma = np.asarray(schedule.noise_levels)
  np.testing.assert_allclose(sigma ** 2 * abar, 1.0 - abar, rtol=1e-5)
  assert np.all(np.diff(sigma) > 0)


@pytest.mark.parametrize("name", ["linear", "cosine"])
@pytest.mark.parametrize("num_timesteps", [2, 10, 19])
def test_short_schedules_stay_valid(name, num_timesteps):
  # The linear schedule's 1000 / T rescaling would put beta above 1 for T < 20.
  schedule = SCHEDULES.get(name)(num_timesteps)
  assert np.all((schedule.betas > 0) & (schedule.betas <= 0.999))
  abar = np.asarray(schedule.alphas_cumprod)
  assert np.all(np.diff(abar) < 0) and np.all(abar > 0)
  assert np.all(np.isfinite(schedule.posterior_variance))


def test_cosine_schedule_closed_form():
  schedule = cosine_schedule(1000)
  t = np.array([0, 250, 500, 900])  # beyond ~990 betas are capped at 0.999
  f = lambda u: np.cos((u / 1000 + 0.008) / 1.008 * np.pi / 2) ** 2
  np.testing.assert_allclose(schedule.alphas_cumprod[t], f(t + 1) / f(0), rtol=1e-4)


def test_unknown_schedule_lists_choices():
  with pytest.raises(UsageError, match="cosine, linear"):
    SCHEDULES.get("sigmoid")


@pytest.mark.parametrize("t", [0, 300, 999])
def test_q_sample_moments(t):
  schedule = linear_schedule(1000)
  x0 = jnp.full((20_000, 1), 0.7)
  noise = jax.random.normal(jax.random.PRNGKey(t), x0.shape)
  x_t = q_sample(schedule, x0, jnp.full((20_000,), t), noise)
  abar = float(schedule.alphas_cumprod[t])
  np.testing.assert_allclose(x_t.mean(), np.sqrt(abar) * 0.7, atol=0.02)
  np.testing.assert_allclose(x_t.var(), 1.0 - abar, rtol=0.03, atol=1e-5)


@pytest.mark.parametrize("name", ["eps", "x0", "v"])
def test_objective_round_trip(name):
  objective = OBJECTIVES.get(name)
  keys = jax.random.split(jax.random.PRNGKey(0), 2)
  x0 = jax.random.normal(keys[0], (8, 4))
  eps = jax.random.normal(keys[1], (8, 4))
  abar = jnp.linspace(0.05, 0.95, 8)[:, None]
  a, s = jnp.sqrt(abar), jnp.sqrt(1 - abar)
  x_t = a * x0 + s * eps
  x0_hat, eps_hat = objective.to_x0_eps(objective.target(x0, eps, a, s), x_t, a, s)
  np.testing.assert_allclose(x0_hat, x0, atol=1e-5)
  np.testing.assert_allclose(eps_hat, eps, atol=1e-5)


@pytest.mark.parametrize("name", ["eps", "x0", "v"])
def test_x0_error_scale_turns_a_target_error_into_an_x0_error(name):
  """|target - pred|^2 = x0_error_scale(SNR) |x0 - x0_hat|^2 for any prediction."""
  objective = OBJECTIVES.get(name)
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  x0, eps, wrong = (jax.random.normal(k, (8, 4)) for k in keys)
  abar = jnp.linspace(0.05, 0.95, 8)[:, None]
  a, s = jnp.sqrt(abar), jnp.sqrt(1 - abar)
  x_t = a * x0 + s * eps
  x0_hat, _ = objective.to_x0_eps(wrong, x_t, a, s)
  target_error = jnp.sum((objective.target(x0, eps, a, s) - wrong) ** 2, axis=1)
  x0_error = jnp.sum((x0 - x0_hat) ** 2, axis=1)
  np.testing.assert_allclose(target_error, objective.x0_error_scale(abar / (1 - abar))[:, 0]
                             * x0_error, rtol=1e-4)


@pytest.mark.parametrize("name, expected", [
    # SNR 0.25, 5 and 20 with gamma = 5, by hand from Hang et al. 2023, Eq. 5.
    ("eps", [1.0, 1.0, 0.25]),         # min(SNR, 5) / SNR
    ("x0", [0.25, 5.0, 5.0]),          # min(SNR, 5)
    ("v", [0.2, 5 / 6, 5 / 21]),       # min(SNR, 5) / (SNR + 1)
])
def test_min_snr_weights(name, expected):
  snr = jnp.array([0.25, 5.0, 20.0])
  weight = LOSS_WEIGHTINGS.get("min_snr")(snr, OBJECTIVES.get(name), 5.0)
  np.testing.assert_allclose(weight, expected, rtol=1e-6)
  np.testing.assert_array_equal(LOSS_WEIGHTINGS.get("none")(snr, OBJECTIVES.get(name), 5.0),
                                1.0)
