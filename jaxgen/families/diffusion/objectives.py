"""What the network predicts: eps (default), x0 or v (Salimans & Ho 2022), and
how the loss weights the timesteps.

With a_t = sqrt(alpha_bar_t) and s_t = sqrt(1 - alpha_bar_t), x_t = a_t x0 + s_t eps.
Each objective gives the regression target and turns a prediction back into
(x0_hat, eps_hat), which is all the samplers use. Its squared error is the
squared error of x0_hat times `x0_error_scale(snr)`, SNR = a_t^2 / s_t^2
(eps: SNR, x0: 1, v: SNR + 1), which is how a weighting defined on x0 (Min-SNR)
carries over to every target.
"""

import dataclasses
from typing import Callable, Tuple

import jax.numpy as jnp

from jaxgen.registry import Registry

Array = jnp.ndarray


@dataclasses.dataclass(frozen=True)
class Objective:
  # target(x0, eps, a_t, s_t) -> regression target, same shape as x0.
  target: Callable[[Array, Array, Array, Array], Array]
  # to_x0_eps(prediction, x_t, a_t, s_t) -> (x0_hat, eps_hat).
  to_x0_eps: Callable[[Array, Array, Array, Array], Tuple[Array, Array]]
  # x0_error_scale(snr) -> |target - prediction|^2 / |x0 - x0_hat|^2.
  x0_error_scale: Callable[[Array], Array]


OBJECTIVES = Registry("target")

OBJECTIVES.register("eps")(Objective(
    target=lambda x0, eps, a, s: eps,
    to_x0_eps=lambda pred, xt, a, s: ((xt - s * pred) / a, pred),
    x0_error_scale=lambda snr: snr))

OBJECTIVES.register("x0")(Objective(
    target=lambda x0, eps, a, s: x0,
    to_x0_eps=lambda pred, xt, a, s: (pred, (xt - a * pred) / s),
    x0_error_scale=jnp.ones_like))

OBJECTIVES.register("v")(Objective(
    target=lambda x0, eps, a, s: a * eps - s * x0,
    to_x0_eps=lambda pred, xt, a, s: (a * xt - s * pred, s * xt + a * pred),
    x0_error_scale=lambda snr: snr + 1.0))

# weighting(snr, objective, gamma) -> per-example weight of the target's squared error.
LOSS_WEIGHTINGS = Registry("loss weighting")
LOSS_WEIGHTINGS.register("none")(lambda snr, objective, gamma: jnp.ones_like(snr))


@LOSS_WEIGHTINGS.register("min_snr")
def min_snr_weight(snr: Array, objective: Objective, gamma: float) -> Array:
  """Min-SNR-gamma (Hang et al. 2023): the x0 error weighted by min(SNR, gamma),
  so low-noise timesteps, whose SNR is huge, stop dominating the gradient; as a
  weight of the target's error: min(SNR, gamma) / x0_error_scale(SNR) (eps:
  min(SNR, gamma) / SNR; v: min(SNR, gamma) / (SNR + 1))."""
  return jnp.minimum(snr, gamma) / objective.x0_error_scale(snr)
