"""DPM-Solver++ against the exact probability-flow ODE of 1-D Gaussian data.

For x0 ~ N(mu, s^2) the marginal at t is N(a_t mu, a_t^2 s^2 + sigma_t^2), and the
ODE's flow, being affine and marginal-preserving, keeps each point's quantile:
x_t = a_t mu + m_t (x_T - a_T mu) / m_T with m_t = sqrt(a_t^2 s^2 + sigma_t^2).
The solvers start at t = T-1 and end with x = x0_hat(x, 0) from t = 0, so the
reference is that same last step applied to the exact x at t = 0. The SDE
solvers are checked against the distribution they should end in instead.
"""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.families import DataSpec
from jaxgen.families.diffusion import dpm_solver
from jaxgen.families.diffusion.family import DiffusionFamily
from jaxgen.families.diffusion.samplers import DPM_SOLVERS, SAMPLERS, ddim_sample, ddim_timesteps
from jaxgen.families.diffusion.schedules import linear_schedule

MU, STD = 0.5, 0.3
SCHEDULE = linear_schedule(1000)
ALPHA_BAR = np.asarray(SCHEDULE.alphas_cumprod, np.float64)
LAMBDA = dpm_solver.half_log_snr(SCHEDULE)
X_T = np.linspace(-4.0, 4.0, 201, dtype=np.float32)[:, None]  # the bulk of N(0, 1)


def exact_denoiser(x, t):
  abar = SCHEDULE.alphas_cumprod[t][:, None]
  a = jnp.sqrt(abar)
  x0 = MU + a * STD**2 / (abar * STD**2 + 1 - abar) * (x - a * MU)
  return x0, (x - a * x0) / jnp.sqrt(1 - abar)


def numpy_denoiser(x, t):
  """exact_denoiser's x0_hat in float64."""
  a = np.sqrt(ALPHA_BAR[t])
  return MU + a * STD**2 / (ALPHA_BAR[t] * STD**2 + 1 - ALPHA_BAR[t]) * (x - a * MU)


def exact_flow(x_T, t):
  """The probability-flow ODE's solution at timestep t from x_T at T-1."""
  a = np.sqrt(ALPHA_BAR)
  spread = np.sqrt(ALPHA_BAR * STD**2 + 1 - ALPHA_BAR)
  return a[t] * MU + spread[t] / spread[-1] * (x_T - a[-1] * MU)


def max_error(sampler, steps, **options):
  """Largest |x_0 - exact x_0| over X_T, the sampler run in float32."""
  run = jax.jit(lambda x: sampler(exact_denoiser, SCHEDULE, x, jax.random.PRNGKey(0),
                                  steps=steps, clip=False, **options)[0])
  exact = numpy_denoiser(exact_flow(X_T.astype(np.float64), 0), 0)
  return np.abs(np.asarray(run(X_T), np.float64) - exact).max()


def trajectory(sampler, steps, x_T=X_T, **options):
  """x after each of the sampler's steps, float64 [steps, B, 1]."""
  return np.asarray(sampler(exact_denoiser, SCHEDULE, jnp.asarray(x_T), jax.random.PRNGKey(0),
                            steps=steps, clip=False, keep_trajectory=True, **options)[1],
                    np.float64)


@pytest.mark.parametrize("name,min_order", [("dpm_solver++", 1.8), ("dpm_solver++3m", 2.5)])
def test_error_falls_at_the_solver_s_order(name, min_order):
  """Observed orders log2(err_S / err_2S) from 20 to 80 steps (measured: 1.98, 2.06
  for 2M; 2.72, 3.16 for 3M). At 10 steps h ~ 1.1 in lambda, too coarse to show
  the order; beyond 80 the integer timesteps near t = 0, which no longer refine,
  hold 3M's error near 1e-4."""
  errors = [max_error(SAMPLERS.get(name), steps) for steps in (20, 40, 80)]
  orders = np.log2(np.array(errors[:-1]) / errors[1:])
  assert np.all(orders >= min_order), (errors, orders)


@pytest.mark.parametrize("name", ["dpm_solver++", "dpm_solver++3m"])
def test_ten_steps_beat_ddim(name):
  """Measured: DDIM 0.48, 2M 0.032, 3M 0.21 (3M's wide extrapolation overshoots
  where x0_hat turns fastest in lambda)."""
  assert max_error(SAMPLERS.get(name), 10) < 0.6 * max_error(ddim_sample, 10, eta=0.0)


@pytest.mark.parametrize("clip", [False, True])
def test_first_order_is_ddim_with_eta_zero(clip):
  """x_t = (sigma_t / sigma_s) x_s + alpha_t (1 - e^-h) x0_hat is DDIM's update
  rewritten; at the same ("time") timesteps every step agrees, clipping too."""
  def wide_denoiser(x, t):  # x0_hat far outside [-1, 1], so clipping acts
    x0 = 3.0 * x
    abar = SCHEDULE.alphas_cumprod[t][:, None]
    return x0, (x - jnp.sqrt(abar) * x0) / jnp.sqrt(1 - abar)

  x_T = jax.random.normal(jax.random.PRNGKey(0), (8, 1))
  run = lambda sampler, **options: sampler(wide_denoiser, SCHEDULE, x_T, jax.random.PRNGKey(1),
                                           steps=10, clip=clip, keep_trajectory=True,
                                           **options)[1]
  ddim = run(ddim_sample, eta=0.0)
  np.testing.assert_allclose(run(dpm_solver.dpm_solver_sample, order=1, spacing="time"),
                             ddim, rtol=1e-4, atol=1e-5)
  # The multistep solvers' first step has no history: it is DDIM's.
  np.testing.assert_allclose(run(SAMPLERS.get("dpm_solver++"), spacing="time")[0], ddim[0],
                             rtol=1e-5, atol=1e-6)


def test_a_second_order_step_is_algorithm_2():
  """Step 2 of 3 from the sampler's own x at t_1, by hand in float64 (Alg. 2)."""
  x_T = X_T[::40]
  t0, t1, t2 = dpm_solver.dpm_timesteps(SCHEDULE, 3)
  x1, x2 = trajectory(SAMPLERS.get("dpm_solver++"), 3, x_T)[:2]
  h, r = LAMBDA[t2] - LAMBDA[t1], (LAMBDA[t1] - LAMBDA[t0]) / (LAMBDA[t2] - LAMBDA[t1])
  m0, m1 = numpy_denoiser(x1, t1), numpy_denoiser(x_T.astype(np.float64), t0)
  d = (1 + 1 / (2 * r)) * m0 - m1 / (2 * r)
  sigma = lambda t: np.sqrt(1 - ALPHA_BAR[t])
  expected = sigma(t2) / sigma(t1) * x1 + np.sqrt(ALPHA_BAR[t2]) * (1 - np.exp(-h)) * d
  np.testing.assert_allclose(x2, expected, rtol=1e-5, atol=1e-5)


def test_a_third_order_step_integrates_the_quadratic_through_three_predictions():
  """The exact solution with x0_hat(lambda) replaced by the quadratic through
  the last three predictions, integrated by quadrature: an independent route to
  the 3M update (whose Taylor terms are that quadratic's, integrated exactly)."""
  x_T = X_T[::40]
  timesteps = dpm_solver.dpm_timesteps(SCHEDULE, 4)
  xs = trajectory(functools.partial(dpm_solver.dpm_solver_sample, order=3), 4, x_T,
                  lower_order_final=False)
  lam = LAMBDA[timesteps[:4]]
  predictions = [numpy_denoiser(x, t) for x, t in
                 zip([x_T.astype(np.float64), xs[0], xs[1]], timesteps[:3])]
  nodes, weights = np.polynomial.legendre.leggauss(20)
  lam_q = lam[2] + (lam[3] - lam[2]) * (nodes + 1) / 2  # Gauss nodes on [lam_2, lam_3]
  # Lagrange basis through (lam_0, lam_1, lam_2) at the quadrature nodes.
  basis = [np.prod([(lam_q - lam[j]) / (lam[i] - lam[j]) for j in range(3) if j != i], axis=0)
           for i in range(3)]
  integrals = [(lam[3] - lam[2]) / 2 * np.sum(weights * np.exp(lam_q) * b) for b in basis]
  sigma = np.sqrt(1 - ALPHA_BAR[timesteps[3]])
  expected = (sigma / np.sqrt(1 - ALPHA_BAR[timesteps[2]]) * xs[1]
              + sigma * sum(c * m for c, m in zip(integrals, predictions)))
  np.testing.assert_allclose(xs[2], expected, rtol=1e-5, atol=1e-5)


def sample_moments(sampler, steps, **options):
  """Mean and standard deviation of 200,000 samples from N(0, 1) noise, float64."""
  x_T = jax.random.normal(jax.random.PRNGKey(5), (200_000, 1))
  x = jax.jit(lambda x: sampler(exact_denoiser, SCHEDULE, x, jax.random.PRNGKey(3),
                                steps=steps, clip=False, **options)[0])(x_T)
  x = np.asarray(x, np.float64)
  return x.mean(), x.std()


@pytest.mark.parametrize("name", ["dpm_solver++_sde", "dpm_solver++3m_sde"])
def test_sde_solvers_end_in_the_data_distribution(name):
  """N(MU, STD^2) to within a fifth of DDIM eta = 1's error at 20 and 40 steps
  (measured, std error: DDIM -0.088, -0.056; 2M SDE 0.010, 0.003; 3M SDE 0.006,
  0.002; first order in log-SNR steps -0.062, -0.034). The standard error of
  the sample std is about 0.0005."""
  for steps in (20, 40):
    mean, std = sample_moments(SAMPLERS.get(name), steps)
    ddim_mean, ddim_std = sample_moments(ddim_sample, steps, eta=1.0)
    assert abs(std - STD) < 0.2 * abs(ddim_std - STD), (steps, std, ddim_std)
    assert abs(mean - MU) < 0.005, (steps, mean)


@pytest.mark.parametrize("clip", [False, True])
def test_first_order_sde_is_ddim_with_eta_one(clip):
  """x_t = (sigma_t / sigma_s) e^-h x_s + alpha_t (1 - e^-2h) x0_hat
  + sigma_t sqrt(1 - e^-2h) z is DDIM's eta = 1 update (the DDPM posterior)
  rewritten; at the same timesteps and noise every step agrees."""
  x_T = jax.random.normal(jax.random.PRNGKey(0), (8, 1))
  run = lambda sampler, **options: sampler(exact_denoiser, SCHEDULE, x_T, jax.random.PRNGKey(1),
                                           steps=10, clip=clip, keep_trajectory=True,
                                           **options)[1]
  np.testing.assert_allclose(
      run(dpm_solver.dpm_solver_sample, order=1, eta=1.0, spacing="time"),
      run(ddim_sample, eta=1.0), rtol=1e-4, atol=1e-5)


def test_a_second_order_sde_step_by_hand():
  """Step 2 of 3 of the 2M SDE from the sampler's own x at t_1, in float64:
  x_t = (sigma_t / sigma_s) e^-h x + alpha_t (1 - e^-2h) [m0 + (m0 - m1) / (2 r)]
  + sigma_t sqrt(1 - e^-2h) z, with the sampler's noise z for that step."""
  x_T, rng = X_T[::40], jax.random.PRNGKey(0)
  t0, t1, t2 = dpm_solver.dpm_timesteps(SCHEDULE, 3)
  x1, x2 = trajectory(SAMPLERS.get("dpm_solver++_sde"), 3, x_T)[:2]
  h, r = LAMBDA[t2] - LAMBDA[t1], (LAMBDA[t1] - LAMBDA[t0]) / (LAMBDA[t2] - LAMBDA[t1])
  m0, m1 = numpy_denoiser(x1, t1), numpy_denoiser(x_T.astype(np.float64), t0)
  z = np.asarray(jax.random.normal(jax.random.fold_in(rng, t1), x_T.shape), np.float64)
  sigma = lambda t: np.sqrt(1 - ALPHA_BAR[t])
  expected = (sigma(t2) / sigma(t1) * np.exp(-h) * x1
              + np.sqrt(ALPHA_BAR[t2]) * (1 - np.exp(-2 * h)) * (m0 + (m0 - m1) / (2 * r))
              + sigma(t2) * np.sqrt(1 - np.exp(-2 * h)) * z)
  np.testing.assert_allclose(x2, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("spacing", ["logsnr", "time"])
@pytest.mark.parametrize("steps", [1, 2, 10, 80, 1000])
def test_timesteps_are_distinct_and_descending_from_T_minus_1_to_0(spacing, steps):
  timesteps = dpm_solver.dpm_timesteps(SCHEDULE, steps, spacing)
  assert timesteps.shape == (steps,) and timesteps.dtype == np.int32
  assert timesteps[0] == 999 and (steps == 1 or timesteps[-1] == 0)
  assert np.all(np.diff(timesteps) < 0)


def test_spacings():
  logsnr, time = (dpm_solver.dpm_timesteps(SCHEDULE, 10, s) for s in ("logsnr", "time"))
  np.testing.assert_array_equal(time, ddim_timesteps(1000, 10))
  assert not np.array_equal(logsnr, time)
  # Uniform in lambda to within the rounding to integer timesteps.
  np.testing.assert_allclose(np.diff(LAMBDA[logsnr]), (LAMBDA[0] - LAMBDA[999]) / 9,
                             rtol=0.05)
  # 80 steps in lambda need more timesteps near t = 0 than there are: those it all takes.
  np.testing.assert_array_equal(dpm_solver.dpm_timesteps(SCHEDULE, 80)[-12:],
                                np.arange(11, -1, -1))


def test_lower_order_final():
  """Below 15 steps the update k of S runs at order at most S - k; the last
  update, to clean data, is always x = x0_hat."""
  def orders(steps, lower_order_final):
    _, weights, _ = dpm_solver.update_coefficients(
        SCHEDULE, dpm_solver.dpm_timesteps(SCHEDULE, steps), 3, lower_order_final)
    return [int(np.max(np.nonzero(w)[0])) + 1 for w in weights]
  assert orders(6, True) == [1, 2, 3, 3, 2, 1]
  assert orders(6, False) == [1, 2, 3, 3, 3, 1]
  assert orders(15, True) == [1, 2] + [3] * 12 + [1]
  _, weights, _ = dpm_solver.update_coefficients(SCHEDULE, np.array([999, 500, 0]), 2)
  np.testing.assert_array_equal(weights[-1], [1.0, 0.0])


def test_history_restarts_where_the_denoiser_jumps():
  """A guidance interval's bounds are jumps of the denoiser in noise level: the
  first update from a prediction past one runs at order 1, and the history
  builds up again from there."""
  timesteps = dpm_solver.dpm_timesteps(SCHEDULE, 20)
  noise = np.sqrt((1 - ALPHA_BAR[timesteps]) / ALPHA_BAR[timesteps])

  def orders(breaks):
    _, weights, _ = dpm_solver.update_coefficients(SCHEDULE, timesteps, 3,
                                                   noise_breaks=breaks)
    return [int(np.max(np.nonzero(w)[0])) + 1 for w in weights]
  enter, leave = int(np.argmax(noise <= 5.42)), int(np.argmax(noise <= 0.28))
  assert 3 <= enter and enter + 3 <= leave and leave + 3 < 19
  expected = orders(())
  assert expected[enter] == expected[leave] == 3
  expected[enter:enter + 3] = expected[leave:leave + 3] = [1, 2, 3]
  assert orders((0.28, 5.42)) == expected


@pytest.mark.parametrize("conditional,scale,breaks,name", [
    (True, 2.0, (0.5, 5.0), "dpm_solver++"), (True, 2.0, (0.5, 5.0), "dpm_solver++_sde"),
    (True, 1.0, (), "dpm_solver++"), (False, 2.0, (), "dpm_solver++")])
def test_family_restarts_the_solver_where_guidance_starts_and_stops(
    conditional, scale, breaks, name, monkeypatch):
  """Only a guided denoiser (a conditional model with labels, w not 0 or 1)
  jumps at the guidance interval's bounds."""
  family, params = point_family(conditional)
  seen = []
  update_coefficients = dpm_solver.update_coefficients

  def spy(*args):
    seen.append(tuple(args[4]))  # noise_breaks
    return update_coefficients(*args)

  monkeypatch.setattr(dpm_solver, "update_coefficients", spy)
  labels = jnp.arange(4, dtype=jnp.int32) % 8 if conditional else None
  family.sample_with_trajectory(params, jax.random.PRNGKey(1), 4, labels, sampler=name,
                                guidance_scale=scale, guidance_interval=(0.5, 5.0))
  assert seen == [breaks]


@pytest.mark.parametrize("options,message", [
    (dict(steps=0), "steps must be in [1, 1000]"),
    (dict(steps=1001), "steps must be in [1, 1000]"),
    (dict(eta=0.5), "eta must be "),
    (dict(spacing="karras"), "unknown spacing 'karras'"),
])
@pytest.mark.parametrize("name", list(DPM_SOLVERS))
def test_bad_options(name, options, message):
  with pytest.raises(UsageError, match=re.escape(message)):
    SAMPLERS.get(name)(exact_denoiser, SCHEDULE, jnp.zeros((1, 1)), jax.random.PRNGKey(0),
                       **{"steps": 10, **options})


def point_family(conditional=False, **diffusion):
  config = config_lib.get_config("ddim", "gmm_ring8", "cpu")
  config.net.update(dict(hidden=32, depth=2))
  config.diffusion.update(dict(timesteps=100, sample_steps=7, **diffusion))
  config.conditional = conditional
  family = DiffusionFamily(config, DataSpec(shape=(2,), num_classes=8))
  # Shift the zero-initialised output layer so the samples are not trivially 0
  # (jitted: the init's random kernels compile faster as one program).
  params = jax.jit(lambda rng: jax.tree_util.tree_map(
      lambda p: p + 0.1, family.init_state(rng).params))(jax.random.PRNGKey(0))
  return family, params


@pytest.mark.parametrize("name", list(DPM_SOLVERS))
@pytest.mark.parametrize("conditional", [False, True])
def test_family_samples_with_steps_network_calls(name, conditional, monkeypatch):
  """Guided (w = 2: labelled and null halves in one batch) and not; the
  denoiser runs once per step, counted as it runs."""
  family, params = point_family(conditional)
  calls = []
  denoiser = family.denoiser

  def counting_denoiser(*args):
    denoise_fn = denoiser(*args)

    def counted(x, t):
      jax.debug.callback(lambda: calls.append(1))
      return denoise_fn(x, t)
    return counted

  monkeypatch.setattr(family, "denoiser", counting_denoiser)
  labels = jnp.arange(16, dtype=jnp.int32) % 8 if conditional else None
  sample = jax.jit(functools.partial(family.sample_with_trajectory, num=16, sampler=name,
                                     steps=5, guidance_scale=2.0, keep_trajectory=True))
  x, trajectory = jax.block_until_ready(sample(params, jax.random.PRNGKey(1), labels=labels))
  assert x.shape == (16, 2) and x.dtype == jnp.float32 and np.all(np.isfinite(x))
  assert trajectory.shape == (5, 16, 2)
  np.testing.assert_array_equal(trajectory[-1], x)
  assert len(calls) == 5


@pytest.mark.parametrize("name,eta", [("dpm_solver++", 0), ("dpm_solver++_sde", 1)])
def test_family_takes_steps_from_the_config_and_no_eta_from_it(name, eta):
  family, params = point_family(eta=0.5)  # a ddim run's eta: not the solvers'
  _, trajectory = family.sample_with_trajectory(params, jax.random.PRNGKey(1), 4,
                                                sampler=name, keep_trajectory=True)
  assert trajectory.shape == (7, 4, 2)
  with pytest.raises(UsageError, match=f"eta must be {eta}, got 0.5"):
    family.sample_with_trajectory(params, jax.random.PRNGKey(1), 4, sampler=name, eta=0.5)


@pytest.mark.parametrize("name", ["dpm_solver++", "dpm_solver++3m"])
def test_config_check(name):
  config = config_lib.get_config("ddim", "mnist", "cpu")
  config.diffusion.update(dict(sampler=name, eta=0.0))  # the cpu preset samples with eta 1
  config_lib.check(config)
  config.diffusion.eta = 0.5
  with pytest.raises(UsageError, match="set --config.diffusion.eta=0$"):
    config_lib.check(config)
  config.diffusion.update(dict(eta=0.0, sample_steps=0))
  with pytest.raises(UsageError, match="'diffusion.sample_steps' must be in"):
    config_lib.check(config)
