"""Optimizers built from a config section, shared by every family."""

import ml_collections
import optax

from jaxgen.registry import Registry

# optim.decay -> (peak, decay_steps) -> the schedule after warm-up.
DECAYS = Registry("learning-rate decay")
DECAYS.register("constant")(lambda peak, steps: optax.constant_schedule(peak))
DECAYS.register("linear")(lambda peak, steps: optax.linear_schedule(peak, 0.0, steps))
DECAYS.register("cosine")(optax.cosine_decay_schedule)


def learning_rate_schedule(optim: ml_collections.ConfigDict,
                           num_steps: int) -> optax.Schedule:
  """Step -> learning rate: linear warm-up from 0 over optim.warmup_steps, then
  optim.decay: "constant" (hold optim.learning_rate), "linear" or "cosine"
  (decay to 0 at step num_steps)."""
  peak, warmup = optim.learning_rate, optim.warmup_steps
  after_warmup = DECAYS.get(optim.decay)(peak, max(num_steps - warmup, 1))
  if warmup == 0:
    return after_warmup
  return optax.join_schedules([optax.linear_schedule(0.0, peak, warmup), after_warmup],
                              [warmup])


def make_optimizer(optim: ml_collections.ConfigDict, num_steps: int,
                   updates_per_step: int = 1) -> optax.GradientTransformation:
  """Adam(W) on `learning_rate_schedule(optim, num_steps)`, after global-norm
  clipping.

  optim: learning_rate, warmup_steps, decay, b1, b2, weight_decay, grad_clip
  (0 = off). updates_per_step: optimizer updates in one loop step (a GAN critic's
  n_critic), so that warm-up and decay are counted in loop steps for every
  optimizer alike.
  """
  per_step = learning_rate_schedule(optim, num_steps)
  schedule = lambda count: per_step(count // updates_per_step)
  chain = []
  if optim.grad_clip > 0:
    chain.append(optax.clip_by_global_norm(optim.grad_clip))
  chain.append(optax.adamw(schedule, b1=optim.b1, b2=optim.b2,
                           weight_decay=optim.weight_decay))
  return optax.chain(*chain)
