"""DPM-Solver++ (Lu et al. 2022, arXiv:2211.01095): multistep solvers of the
probability-flow ODE, and of the reverse SDE, in data-prediction (x0) form.

With alpha_t = sqrt(alpha_bar_t), sigma_t = sqrt(1 - alpha_bar_t) and the half
log-SNR lambda_t = log(alpha_t / sigma_t), the ODE's exact solution from s to
t < s, written with the data prediction x0(lambda) = x0_hat(x_lambda, lambda), is

  x_t = (sigma_t / sigma_s) x_s + sigma_t int_{lambda_s}^{lambda_t} e^lambda x0(lambda) dlambda.

Taylor-expanding x0 about lambda_s, with h = lambda_t - lambda_s > 0, gives

  x_t = (sigma_t / sigma_s) x_s
        + alpha_t [(1 - e^-h) x0 + h phi_2 x0' + h^2 phi_3 x0'' + ...],
  phi_2 = (h - 1 + e^-h) / h,  phi_3 = (h^2 / 2 - h + 1 - e^-h) / h^2,

and a multistep solver estimates the derivatives from the predictions m_0, m_1,
m_2 at the current and the previous two timesteps (steps h_1 = r_0 h and
h_2 = r_1 h before this one):

- order 1: the x0 term alone, which is DDIM with eta = 0.
- order 2, "2M" (Alg. 2): alpha_t (1 - e^-h) [(1 + 1/(2 r_0)) m_0 - m_1 / (2 r_0)].
- order 3, "3M" (the third-order multistep update of the reference code,
  github.com/LuChengTHU/dpm-solver, and of diffusers' DPMSolverMultistepScheduler
  with solver_order=3): D1_0 = (m_0 - m_1) / r_0, D1_1 = (m_1 - m_2) / r_1,
  D1 = D1_0 + r_0 / (r_0 + r_1) (D1_0 - D1_1) = h x0' + O(h^3) and
  D2 = 2 (D1_0 - D1_1) / (r_0 + r_1) = h^2 x0'' + O(h^3) replace h x0' and
  h^2 x0''. Both of those leave out D2's factor 2, which halves the x0''
  term and leaves the solver second order: on the Gaussian case of
  tests/families/test_dpm_solver.py their observed order from 20 to 80 steps is
  2.3, this one's 2.7 and 3.2.

The SDE solvers (its authors' SDE-DPM-Solver++: diffusers' "sde-dpmsolver++",
k-diffusion's dpmpp_2m_sde and dpmpp_3m_sde) integrate the reverse SDE with noise eta in [0, 1]
(1: the reverse diffusion SDE; 0: the ODE above). Its exact solution differs by
a factor e^(-eta h) on the x_s term, the data integral's kernel
(1 + eta) e^(-(1 + eta)(lambda_t - lambda)), and fresh noise
sigma_t sqrt(1 - e^(-2 eta h)) z; so every update above holds with h replaced
by h_eta = (1 + eta) h inside 1 - e^-h, phi_2 and phi_3 (the ratios r_0, r_1 of
the steps stay). Order 1 with eta = 1 is DDIM with eta = 1, the DDPM posterior.

Every coefficient depends only on the timesteps, so they are computed once in
float64 on the host; the scan body is one network call and a weighted sum.
"""

from typing import Callable, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import UsageError
from jaxgen.families.diffusion.schedules import Schedule

Array = jnp.ndarray
DenoiseFn = Callable[[Array, Array], Tuple[Array, Array]]

SPACINGS = ("logsnr", "time")
# Below this many steps the last updates drop to lower orders, which steadies
# few-step sampling (lower_order_final in the reference code and diffusers).
LOWER_ORDER_FINAL_BELOW = 15


def half_log_snr(schedule: Schedule) -> np.ndarray:
  """lambda_t = log(alpha_t / sigma_t), float64 [T], decreasing in t."""
  alpha_bar = np.asarray(schedule.alphas_cumprod, np.float64)
  return 0.5 * (np.log(alpha_bar) - np.log1p(-alpha_bar))


def dpm_timesteps(schedule: Schedule, steps: int, spacing: str = "logsnr") -> np.ndarray:
  """`steps` distinct integer timesteps, descending from T-1 to 0: int32 [steps].

  "logsnr" spreads them uniformly in lambda (the paper's choice), "time"
  uniformly in t (as DDIM). Each target is rounded to the nearest timestep,
  interpolating t linearly in lambda. Where the integer grid is coarser than the
  targets (near t = 0, where lambda moves fastest) rounding repeats timesteps;
  each repeat moves up to the next free one, so that end takes every timestep
  0, 1, 2, ... until the grids match again.
  """
  num_timesteps = schedule.num_timesteps
  if not 1 <= steps <= num_timesteps:
    raise UsageError(f"dpm_solver++ steps must be in [1, {num_timesteps}], got {steps}")
  if spacing == "logsnr":
    lam = half_log_snr(schedule)
    targets = np.interp(np.linspace(lam[-1], lam[0], steps), lam[::-1],
                        np.arange(num_timesteps - 1, -1, -1))
  elif spacing == "time":
    targets = np.linspace(num_timesteps - 1, 0, steps)
  else:
    raise UsageError(f"unknown spacing {spacing!r}; choose one of: {', '.join(SPACINGS)}")
  timesteps = np.round(targets).astype(np.int32)
  # From the clean end up: above the next one, and low enough (T-1-i) to
  # leave a timestep for each step before it.
  for i in range(steps - 2, -1, -1):
    timesteps[i] = min(max(timesteps[i], timesteps[i + 1] + 1), num_timesteps - 1 - i)
  return timesteps


def _weights(h: float, previous: np.ndarray, order: int, eta: float = 0.0) -> np.ndarray:
  """Weights of (m_0, m_1, m_2) in the bracket alpha_t [...] of the update
  (see the module docstring): float64 [3]. h > 0 is this step in lambda, `previous` the
  earlier ones, newest first; `order` <= len(previous) + 1; eta the SDE's noise."""
  m0, m1, m2 = np.eye(3)  # each prediction as the coordinates of its weight
  h_eta = (1 + eta) * h
  decay = -np.expm1(-h_eta)  # 1 - e^-h_eta
  if order == 1:
    return decay * m0
  r0 = previous[0] / h
  if order == 2:
    return decay * ((1 + 1 / (2 * r0)) * m0 - m1 / (2 * r0))
  r1 = previous[1] / h
  d1_0, d1_1 = (m0 - m1) / r0, (m1 - m2) / r1
  d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1)
  d2 = 2 * (d1_0 - d1_1) / (r0 + r1)
  phi_2 = (h_eta - decay) / h_eta
  phi_3 = (h_eta**2 / 2 - h_eta + decay) / h_eta**2
  return decay * m0 + phi_2 * d1 + phi_3 * d2


def update_coefficients(schedule: Schedule, timesteps: np.ndarray, order: int,
                        lower_order_final: bool = True, noise_breaks: Sequence[float] = (),
                        eta: float = 0.0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
  """The S updates x <- ratio x + sum_j weight_j m_j + noise z, from each of the S
  timesteps to the next, the last to clean data (sigma = 0, alpha = 1).

  Returns ratio float32 [S] (sigma_next / sigma e^(-eta h)), weights float32
  [S, order] (alpha_next times _weights, for the predictions newest first) and
  noise float32 [S] (the SDE's fresh noise, 0 when eta = 0). The first
  updates lack history and run at order 1, 2, ...; the last is order 1, as
  lambda is infinite at clean data, where x = m_0; with lower_order_final and
  S < 15 the update k of S runs at order at most S - k. `noise_breaks` are
  noise levels sigma_t / alpha_t where the denoiser jumps (a guidance
  interval's bounds): the history restarts after each, as at the first
  update, since a difference of predictions across a jump is no derivative.
  """
  alpha_bar = np.asarray(schedule.alphas_cumprod, np.float64)[timesteps]
  alpha, sigma = np.sqrt(alpha_bar), np.sqrt(1.0 - alpha_bar)
  h = np.diff(np.log(alpha / sigma))
  # The stretch of the denoiser each prediction comes from, (break_i, break_i+1].
  stretch = np.searchsorted(np.sort(noise_breaks), sigma / alpha, side="left")
  steps = len(timesteps)
  ratio, weights, noise = np.zeros(steps), np.zeros((steps, 3)), np.zeros(steps)
  ratio[:-1] = sigma[1:] / sigma[:-1] * np.exp(-eta * h)
  noise[:-1] = sigma[1:] * np.sqrt(-np.expm1(-2 * eta * h))
  weights[-1, 0] = 1.0
  history_start = 0
  for k in range(steps - 1):
    if k and stretch[k] != stretch[k - 1]:
      history_start = k
    k_order = min(order, k - history_start + 1)
    if lower_order_final and steps < LOWER_ORDER_FINAL_BELOW:
      k_order = min(k_order, steps - k)
    weights[k] = alpha[k + 1] * _weights(h[k], h[:k][::-1], k_order, eta)
  return ratio.astype(np.float32), weights[:, :order].astype(np.float32), noise.astype(np.float32)


def dpm_solver_sample(denoise_fn: DenoiseFn, schedule: Schedule, x_T: Array,
                      rng: jax.Array, *, steps: int = 20, eta: float = 0.0,
                      clip: bool = True, keep_trajectory: bool = False, order: int = 2,
                      spacing: str = "logsnr", lower_order_final: bool = True,
                      noise_breaks: Sequence[float] = ()):
  """DPM-Solver++ of order 1, 2 ("2M") or 3 ("3M") with `steps` network calls.

  x_T: [B, ...] float32. Returns x_0 [B, ...] and, when `keep_trajectory`, x
  after every step [steps, B, ...] (else None). eta = 0 solves the ODE
  (deterministic: `rng` is unused), eta in (0, 1] the SDE with that noise.
  `clip` clips x0_hat to [-1, 1] (images). `noise_breaks`: see update_coefficients.
  """
  if not 0 <= eta <= 1:
    raise UsageError(f"dpm_solver++ eta must be in [0, 1], got {eta}")
  if order not in (1, 2, 3):
    raise UsageError(f"dpm_solver++ order must be 1, 2 or 3, got {order}")
  timesteps = dpm_timesteps(schedule, steps, spacing)
  ratio, weights, noise = update_coefficients(schedule, timesteps, order, lower_order_final,
                                              noise_breaks, eta)

  def step(carry, inputs):
    x, predictions = carry  # predictions: [order, B, ...], newest first
    t, ratio_t, weights_t, noise_t = inputs
    x0, _ = denoise_fn(x, jnp.full((x.shape[0],), t, jnp.int32))
    if clip:
      x0 = jnp.clip(x0, -1.0, 1.0)
    predictions = jnp.concatenate([x0[None], predictions[:-1]])
    x = ratio_t * x + jnp.tensordot(weights_t, predictions, axes=1)
    if eta:
      x = x + noise_t * jax.random.normal(jax.random.fold_in(rng, t), x.shape)
    return (x, predictions), (x if keep_trajectory else None)

  history = jnp.zeros((order,) + x_T.shape, jnp.float32)
  (x, _), trajectory = jax.lax.scan(
      step, (x_T.astype(jnp.float32), history),
      (jnp.asarray(timesteps), jnp.asarray(ratio), jnp.asarray(weights), jnp.asarray(noise)))
  return x, trajectory
