"""Reverse-process samplers, each compiled whole as one `lax.scan`.

A sampler takes `denoise_fn(x_t, t) -> (x0_hat, eps_hat)` (x_t: [B, ...] float32,
t: int32 [B]), the starting noise x_T ~ N(0, I) and a key for the noise it adds
on the way, and returns x_0: [B, ...] float32, plus, when `keep_trajectory`,
the states x_t after every step: [num_steps, B, ...] (else None).

Samplers: ddpm (ancestral, all T steps), ddim (S steps, noise eta in [0, 1]),
the deterministic ODE solvers dpm_solver++ (2M) and dpm_solver++3m (3M) of
`dpm_solver` (S steps, eta = 0) and its solvers of the reverse SDE,
dpm_solver++_sde (2M SDE) and dpm_solver++3m_sde (3M SDE; S steps, eta = 1).
"""

from typing import Callable, Dict, FrozenSet, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.families.diffusion import dpm_solver
from jaxgen.families.diffusion.schedules import Schedule
from jaxgen.errors import UsageError
from jaxgen.registry import Registry

Array = jnp.ndarray
DenoiseFn = Callable[[Array, Array], Tuple[Array, Array]]

SAMPLERS = Registry("sampler")
# The options each sampler lets a caller choose: "steps" (network calls S),
# "eta" (DDIM's noise) and "spacing" (the DPM-Solver++ timesteps: uniform in
# log-SNR or in time). Without them a sampler runs its own: ddpm all T steps
# with eta = 1, the ODE solvers eta = 0, the SDE solvers eta = 1.
TUNABLE: Dict[str, FrozenSet[str]] = {}


def _register(name: str, *tunable: str):
  """SAMPLERS.register(name), noting the options (see TUNABLE) it takes."""
  TUNABLE[name] = frozenset(tunable)
  return SAMPLERS.register(name)


def _clipped(denoise_fn: DenoiseFn, x: Array, t: int, alpha_bar: Array,
             clip: bool) -> Tuple[Array, Array]:
  """Predicts (x0_hat, eps_hat) at a scalar timestep t; clipping x0_hat to
  [-1, 1] (images) and recomputing eps_hat so the two stay consistent."""
  x0, eps = denoise_fn(x, jnp.full((x.shape[0],), t, jnp.int32))
  if clip:
    x0 = jnp.clip(x0, -1.0, 1.0)
    eps = (x - jnp.sqrt(alpha_bar) * x0) / jnp.sqrt(1.0 - alpha_bar)
  return x0, eps


@_register("ddpm")
def ddpm_sample(denoise_fn: DenoiseFn, schedule: Schedule, x_T: Array,
                rng: jax.Array, *, steps: Optional[int] = None,
                eta: float = 1.0, clip: bool = True,
                keep_trajectory: bool = False):
  """Ancestral sampling (Ho et al. 2020, Alg. 2) over all T steps.

  x_{t-1} = mean of q(x_{t-1} | x_t, x0_hat) + sqrt(posterior variance) z.
  `steps` and `eta` belong to DDIM; DDPM accepts only their defaults.
  """
  if steps not in (None, schedule.num_timesteps) or eta != 1.0:
    raise UsageError("ddpm runs all T steps with eta=1; use the ddim sampler "
                     "to choose steps or eta")
  alphas = 1.0 - schedule.betas
  abar, abar_prev = schedule.alphas_cumprod, schedule.alphas_cumprod_prev
  coef_x0 = jnp.sqrt(abar_prev) * schedule.betas / (1.0 - abar)
  coef_xt = jnp.sqrt(alphas) * (1.0 - abar_prev) / (1.0 - abar)

  def step(x, t):
    x0, _ = _clipped(denoise_fn, x, t, abar[t], clip)
    mean = coef_x0[t] * x0 + coef_xt[t] * x
    z = jax.random.normal(jax.random.fold_in(rng, t), x.shape)
    x = mean + jnp.where(t > 0, jnp.sqrt(schedule.posterior_variance[t]), 0.0) * z
    return x, (x if keep_trajectory else None)

  timesteps = jnp.arange(schedule.num_timesteps - 1, -1, -1)
  return jax.lax.scan(step, x_T, timesteps)


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
  """S timesteps evenly spread over [0, T-1], descending; S = T gives all of them."""
  if not 1 <= steps <= num_timesteps:
    raise UsageError(f"ddim steps must be in [1, {num_timesteps}], got {steps}")
  return np.round(np.linspace(num_timesteps - 1, 0, steps)).astype(np.int32)


@_register("ddim", "steps", "eta")
def ddim_sample(denoise_fn: DenoiseFn, schedule: Schedule, x_T: Array,
                rng: jax.Array, *, steps: Optional[int] = 50,
                eta: float = 0.0, clip: bool = True,
                keep_trajectory: bool = False):
  """DDIM (Song et al. 2021, Eq. 12) with S steps and eta in [0, 1].

  x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma z,
  sigma = eta sqrt((1 - abar_prev)/(1 - abar_t)) sqrt(1 - abar_t/abar_prev).
  eta = 0 is deterministic given x_T; eta = 1 with S = T is DDPM's posterior noise.
  """
  if not 0.0 <= eta <= 1.0:
    raise UsageError(f"ddim eta must be in [0, 1], got {eta}")
  steps = schedule.num_timesteps if steps is None else steps
  timesteps = ddim_timesteps(schedule.num_timesteps, steps)
  prev_timesteps = np.append(timesteps[1:], -1)
  abar = schedule.alphas_cumprod

  def step(x, ts):
    t, t_prev = ts
    abar_t = abar[t]
    abar_prev = jnp.where(t_prev >= 0, abar[jnp.maximum(t_prev, 0)], 1.0)
    x0, eps = _clipped(denoise_fn, x, t, abar_t, clip)
    sigma = eta * jnp.sqrt((1.0 - abar_prev) / (1.0 - abar_t)
                           * (1.0 - abar_t / abar_prev))
    z = jax.random.normal(jax.random.fold_in(rng, t), x.shape)
    x = (jnp.sqrt(abar_prev) * x0
         + jnp.sqrt(jnp.maximum(1.0 - abar_prev - sigma**2, 0.0)) * eps
         + sigma * z)
    return x, (x if keep_trajectory else None)

  return jax.lax.scan(step, x_T, (jnp.asarray(timesteps), jnp.asarray(prev_timesteps)))


# DPM-Solver++ by name: (order, eta). The ODE solvers add no noise (eta = 0),
# the SDE solvers the reverse diffusion SDE's (eta = 1); each runs at its own eta.
DPM_SOLVERS = {"dpm_solver++": (2, 0.0), "dpm_solver++3m": (3, 0.0),
               "dpm_solver++_sde": (2, 1.0), "dpm_solver++3m_sde": (3, 1.0)}
ODE_SOLVERS = [name for name, (_, eta) in DPM_SOLVERS.items() if eta == 0]


def _dpm_solver(name: str, order: int, own_eta: float):
  """dpm_solver.dpm_solver_sample at `order` and `own_eta`, which a caller's eta must match."""
  def sample(denoise_fn, schedule, x_T, rng, *, eta: float = own_eta, **options):
    if eta != own_eta:
      kind = "an ODE solver" if own_eta == 0 else "an SDE solver"
      raise UsageError(f"{name} is {kind}: eta must be {own_eta:g}, got {eta:g}; "
                       "ddim takes any eta in [0, 1]")
    return dpm_solver.dpm_solver_sample(denoise_fn, schedule, x_T, rng, eta=own_eta,
                                        order=order, **options)
  return sample


for _name, (_order, _eta) in DPM_SOLVERS.items():
  _register(_name, "steps", "spacing")(_dpm_solver(_name, _order, _eta))
