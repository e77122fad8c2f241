"""Noise schedules: beta_t for t = 0..T-1 and the quantities samplers need.

Convention (Ho et al. 2020): q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),
alpha_bar_t = prod_{s<=t} (1 - beta_s), timesteps t in {0, ..., T-1}.
"""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from jaxgen.registry import Registry

SCHEDULES = Registry("schedule")


@dataclasses.dataclass(frozen=True)
class Schedule:
  """Per-timestep constants, each float32 [T]."""
  betas: jnp.ndarray
  alphas_cumprod: jnp.ndarray

  @property
  def num_timesteps(self) -> int:
    return self.betas.shape[0]

  @property
  def alphas_cumprod_prev(self) -> jnp.ndarray:
    """alpha_bar_{t-1}, with alpha_bar_{-1} = 1."""
    return jnp.concatenate([jnp.ones((1,), jnp.float32), self.alphas_cumprod[:-1]])

  @property
  def noise_levels(self) -> jnp.ndarray:
    """sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), the noise-to-signal
    ratio in which guidance intervals are given."""
    return jnp.sqrt((1.0 - self.alphas_cumprod) / self.alphas_cumprod)

  @property
  def posterior_variance(self) -> jnp.ndarray:
    """Variance of q(x_{t-1} | x_t, x_0): beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)."""
    return self.betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)


def _from_betas(betas: np.ndarray) -> Schedule:
  betas = np.asarray(betas, np.float64)
  return Schedule(betas=jnp.asarray(betas, jnp.float32),
                  alphas_cumprod=jnp.asarray(np.cumprod(1.0 - betas), jnp.float32))


@SCHEDULES.register("linear")
def linear_schedule(num_timesteps: int = 1000, beta_start: float = 1e-4,
                    beta_end: float = 0.02, max_beta: float = 0.999) -> Schedule:
  """DDPM's linear betas, 1e-4 to 0.02 over T = 1000 steps (rescaled by 1000 / T for
  other T, and capped at max_beta so that a short schedule, T < 20, stays valid)."""
  scale = 1000.0 / num_timesteps
  betas = np.linspace(scale * beta_start, scale * beta_end, num_timesteps)
  return _from_betas(np.minimum(betas, max_beta))


@SCHEDULES.register("cosine")
def cosine_schedule(num_timesteps: int = 1000, offset: float = 0.008,
                    max_beta: float = 0.999) -> Schedule:
  """Nichol & Dhariwal (2021): alpha_bar(t) = f(t)/f(0), f(t) = cos((t/T + s)/(1 + s) pi/2)^2."""
  steps = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
  f = np.cos((steps + offset) / (1.0 + offset) * math.pi / 2) ** 2
  alpha_bar = f / f[0]
  betas = np.minimum(1.0 - alpha_bar[1:] / alpha_bar[:-1], max_beta)
  return _from_betas(betas)


def q_sample(schedule: Schedule, x0: jnp.ndarray, t: jnp.ndarray,
             noise: jnp.ndarray) -> jnp.ndarray:
  """Draws x_t ~ q(x_t | x_0). x0, noise: [B, ...]; t: int [B] in [0, T)."""
  alpha_bar = _per_example(schedule.alphas_cumprod[t], x0)
  return jnp.sqrt(alpha_bar) * x0 + jnp.sqrt(1.0 - alpha_bar) * noise


def _per_example(values: jnp.ndarray, like: jnp.ndarray) -> jnp.ndarray:
  """Reshapes [B] to [B, 1, ..., 1] so it broadcasts against `like`."""
  return values.reshape(values.shape + (1,) * (like.ndim - 1))
