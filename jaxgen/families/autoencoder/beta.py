"""Schedules of the KL weight beta, registered by name.

Each entry builds, from the `config.autoencoder` section, a pure function
`beta(step) -> float32 scalar` of the number of updates done (`state.step`).
"""

from typing import Callable

import jax.numpy as jnp
import ml_collections

from jaxgen.registry import Registry

BetaSchedule = Callable[[jnp.ndarray], jnp.ndarray]

BETA_SCHEDULES: Registry[Callable[[ml_collections.ConfigDict], BetaSchedule]] = Registry(
    "beta schedule")


@BETA_SCHEDULES.register("constant")
def constant(options: ml_collections.ConfigDict) -> BetaSchedule:
  """beta(step) = options.beta."""
  return lambda step: jnp.full((), options.beta, jnp.float32)


@BETA_SCHEDULES.register("linear_warmup")
def linear_warmup(options: ml_collections.ConfigDict) -> BetaSchedule:
  """0 at step 0, rising linearly to options.beta at options.warmup_steps,
  then constant (Bowman et al. 2016's KL annealing)."""
  warmup = max(options.warmup_steps, 1)
  return lambda step: options.beta * jnp.minimum(
      jnp.asarray(step, jnp.float32) / warmup, 1.0)


@BETA_SCHEDULES.register("cyclical")
def cyclical(options: ml_collections.ConfigDict) -> BetaSchedule:
  """Cyclical annealing (Fu et al. 2019): every options.cycle_steps steps beta
  restarts at 0, rises linearly to options.beta over the first
  options.cycle_ramp fraction of the cycle, then stays there."""
  ramp = max(options.cycle_ramp * options.cycle_steps, 1.0)

  def beta(step):
    position = jnp.mod(jnp.asarray(step, jnp.float32), options.cycle_steps)
    return options.beta * jnp.minimum(position / ramp, 1.0)
  return beta
