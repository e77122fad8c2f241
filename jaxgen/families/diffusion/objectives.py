"""What the network predicts: eps (default), x0 or v (Salimans & Ho 2022).

With a_t = sqrt(alpha_bar_t) and s_t = sqrt(1 - alpha_bar_t), x_t = a_t x0 + s_t eps.
Each objective gives the regression target and turns a prediction back into
(x0_hat, eps_hat), which is all the samplers use.
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


OBJECTIVES = Registry("target")

OBJECTIVES.register("eps")(Objective(
    target=lambda x0, eps, a, s: eps,
    to_x0_eps=lambda pred, xt, a, s: ((xt - s * pred) / a, pred)))

OBJECTIVES.register("x0")(Objective(
    target=lambda x0, eps, a, s: x0,
    to_x0_eps=lambda pred, xt, a, s: (pred, (xt - a * pred) / s)))

OBJECTIVES.register("v")(Objective(
    target=lambda x0, eps, a, s: a * eps - s * x0,
    to_x0_eps=lambda pred, xt, a, s: (a * xt - s * pred, s * xt + a * pred)))
