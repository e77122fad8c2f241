"""DDPM and DDIM samplers against the exact denoiser of 1-D Gaussian data.

For x0 ~ N(mu, s^2), E[x0 | x_t] = mu + a s^2 / (a^2 s^2 + 1 - a^2) (x_t - a mu)
with a = sqrt(alpha_bar_t): the Bayes-optimal denoiser, so a correct sampler
returns N(mu, s^2) samples.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.families.diffusion.samplers import ddim_sample, ddim_timesteps, ddpm_sample
from jaxgen.families.diffusion.schedules import linear_schedule

MU, STD = 0.5, 0.3
SCHEDULE = linear_schedule(1000)


def exact_denoiser(x, t):
  abar = SCHEDULE.alphas_cumprod[t][:, None]
  a = jnp.sqrt(abar)
  x0 = MU + a * STD**2 / (abar * STD**2 + 1 - abar) * (x - a * MU)
  return x0, (x - a * x0) / jnp.sqrt(1 - abar)


def run(sampler, seed, num=8000, **options):
  x_T = jax.random.normal(jax.random.PRNGKey(seed), (num, 1))
  fn = jax.jit(lambda x, rng: sampler(exact_denoiser, SCHEDULE, x, rng, clip=False,
                                      **options)[0])
  return np.asarray(fn(x_T, jax.random.PRNGKey(seed + 1)))[:, 0]


@pytest.mark.parametrize("sampler,options", [
    (ddpm_sample, {}),
    (ddim_sample, dict(steps=1000, eta=1.0)),
    (ddim_sample, dict(steps=1000, eta=0.0)),
])
def test_sampler_recovers_the_data_distribution(sampler, options):
  samples = run(sampler, 0, **options)
  np.testing.assert_allclose(samples.mean(), MU, atol=0.02)
  np.testing.assert_allclose(samples.std(), STD, rtol=0.03)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_error_shrinks_with_steps(eta):
  """Few steps under-disperse a narrow Gaussian (a discretisation error);
  the mean stays right and the spread converges as S grows."""
  errors = []
  for steps in (20, 100, 500):
    samples = run(ddim_sample, 0, steps=steps, eta=eta)
    np.testing.assert_allclose(samples.mean(), MU, atol=0.02)
    errors.append(abs(samples.std() - STD))
  assert errors[0] > errors[1] > errors[2] and errors[2] < 0.03 * STD


def test_ddim_full_steps_eta_one_matches_ddpm_in_distribution():
  ddpm = run(ddpm_sample, 1)
  ddim = run(ddim_sample, 2, steps=1000, eta=1.0)
  quantiles = np.linspace(0.05, 0.95, 10)
  np.testing.assert_allclose(np.quantile(ddim, quantiles), np.quantile(ddpm, quantiles),
                             atol=0.03)


def test_ddim_eta_zero_is_deterministic_given_x_T():
  x_T = jax.random.normal(jax.random.PRNGKey(0), (16, 1))
  sample = lambda eta, seed: ddim_sample(exact_denoiser, SCHEDULE, x_T,
                                         jax.random.PRNGKey(seed), steps=20, eta=eta,
                                         clip=False)[0]
  np.testing.assert_array_equal(sample(0.0, 1), sample(0.0, 2))
  assert not np.allclose(sample(1.0, 1), sample(1.0, 2))


def test_trajectory_shape_and_end():
  x_T = jnp.zeros((3, 1))
  x, trajectory = ddim_sample(exact_denoiser, SCHEDULE, x_T, jax.random.PRNGKey(0),
                              steps=10, eta=0.0, clip=False, keep_trajectory=True)
  assert trajectory.shape == (10, 3, 1)
  np.testing.assert_array_equal(trajectory[-1], x)


def test_ddim_timesteps_cover_the_range():
  np.testing.assert_array_equal(ddim_timesteps(1000, 1000), np.arange(999, -1, -1))
  steps = ddim_timesteps(1000, 50)
  assert steps[0] == 999 and steps[-1] == 0 and len(np.unique(steps)) == 50


@pytest.mark.parametrize("options", [dict(steps=0), dict(steps=1001), dict(eta=1.5)])
def test_bad_ddim_options(options):
  with pytest.raises(UsageError):
    ddim_sample(exact_denoiser, SCHEDULE, jnp.zeros((1, 1)), jax.random.PRNGKey(0),
                **{"steps": 10, "eta": 0.0, **options})


def test_ddpm_rejects_ddim_options():
  with pytest.raises(UsageError, match="ddim"):
    ddpm_sample(exact_denoiser, SCHEDULE, jnp.zeros((1, 1)), jax.random.PRNGKey(0),
                steps=50)
