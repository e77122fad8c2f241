"""Optimizers built from a config section, shared by every family."""

import ml_collections
import optax


def make_optimizer(optim: ml_collections.ConfigDict) -> optax.GradientTransformation:
  """Adam(W) with linear warm-up and global-norm clipping.

  optim: learning_rate, warmup_steps, b1, b2, weight_decay, grad_clip (0 = off).
  """
  schedule = (optax.linear_schedule(0.0, optim.learning_rate, optim.warmup_steps)
              if optim.warmup_steps > 0 else optim.learning_rate)
  chain = []
  if optim.grad_clip > 0:
    chain.append(optax.clip_by_global_norm(optim.grad_clip))
  chain.append(optax.adamw(schedule, b1=optim.b1, b2=optim.b2,
                           weight_decay=optim.weight_decay))
  return optax.chain(*chain)
