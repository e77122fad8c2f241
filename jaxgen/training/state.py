"""The train state every family shares: one pytree the loop jits, shards and saves."""

from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """step: int32 scalar (updates done); params/ema_params: the family's params
  pytree; opt_state: the family's optimizer state (any pytree, e.g. one per
  network for GANs); model_state: non-trained variables such as BatchNorm's
  batch_stats ({} when none); rng: uint32 [2] base key (step keys are
  fold_in(rng, step))."""
  step: jnp.ndarray
  params: Any
  opt_state: Any
  ema_params: Any
  model_state: Any
  rng: jnp.ndarray

  @classmethod
  def create(cls, params: Any, opt_state: Any, rng: jax.Array,
             model_state: Any = None) -> "TrainState":
    # The EMA starts as a copy: params and ema_params are donated separately.
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=opt_state,
               ema_params=jax.tree_util.tree_map(jnp.copy, params),
               model_state={} if model_state is None else model_state, rng=rng)


def state_structure(family: Any, sharding: jax.sharding.Sharding) -> TrainState:
  """The shapes and dtypes of family.init_state's TrainState, placed by
  `sharding`: what a checkpoint restores into, found without compiling the
  initialisation (slow on XLA:CPU for a UNet's random draws; docs/performance.md)."""
  shapes = jax.eval_shape(family.init_state, jax.random.PRNGKey(0))
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), shapes)


def initial_state(family: Any, seed: int) -> TrainState:
  """family.init_state(PRNGKey(seed)) compiled as one program.

  Op by op, every parameter's random draw compiles on its own, and XLA:CPU
  takes seconds for some shapes; one program compiles them together.
  """
  return jax.jit(family.init_state)(jax.random.PRNGKey(seed))


def gradient_step(loss_fn, optimizer: optax.GradientTransformation, params: Any,
                  opt_state: Any, *args):
  """One optimizer update on `loss_fn(params, *args) -> (loss, metrics)`.

  Returns (params, opt_state, metrics) with metrics["loss"] set. Families call it
  once per network they train.
  """
  (loss, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *args)
  updates, opt_state = optimizer.update(grads, opt_state, params)
  params = optax.apply_updates(params, updates)
  return params, opt_state, {**metrics, "loss": loss,
                             "grad_norm": optax.tree.norm(grads)}


def ema_update(ema_params: Any, params: Any, step: jnp.ndarray, decay: float,
               warmup: bool = True) -> Any:
  """EMA with TF's warm-up, decay_t = min(decay, (1 + step) / (10 + step)), which
  averages over about the last ninth of the steps taken until decay_t reaches
  `decay`; without it, decay_t = decay from the first step."""
  decay_t = jnp.minimum(decay, (1.0 + step) / (10.0 + step)) if warmup else decay
  return jax.tree_util.tree_map(lambda e, p: decay_t * e + (1.0 - decay_t) * p,
                                ema_params, params)
