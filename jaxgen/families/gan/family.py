"""GANs as a family: one compiled step runs n_critic critic updates and one
generator update; the shared loop does the rest.

TrainState layout: params and opt_state are {"generator": ..., "discriminator":
...}; model_state is {"generator": batch_stats, "discriminator": batch_stats}
(BatchNorm running statistics and spectral-norm power-iteration vectors; {}
where a network has none).
"""

import functools
import pathlib
from typing import Any, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import interpolation
from jaxgen import plotting
from jaxgen.errors import UsageError
from jaxgen.families.family import MODELS, DataSpec, Family, ModelEntry, cycling_labels
from jaxgen.families.gan import config as gan_config
from jaxgen.families.gan.losses import LOSSES, gradient_penalty
from jaxgen.families.gan.networks import build_networks, uses_batch_statistics
from jaxgen.training.optim import make_optimizer
from jaxgen.training.state import TrainState, gradient_step

INTERPOLATION_PAIRS = 4
INTERPOLATION_STEPS = 10


def apply_model(module, params: Any, stats: Any, *args, train: bool):
  """module(*args) -> (output, new stats). In training mode "batch_stats"
  (BatchNorm statistics, spectral-norm vectors) advance; otherwise they are
  read only and returned unchanged."""
  variables = {"params": params, "batch_stats": stats}
  if not train:
    return module.apply(variables, *args, train=False), stats
  output, updates = module.apply(variables, *args, train=True, mutable=["batch_stats"])
  return output, updates.get("batch_stats", stats)


class GANFamily(Family):
  """Losses from config.gan.loss, networks from config.gan.architecture; with
  config.conditional every loss becomes class-conditional."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    super().__init__(config, spec)
    options = config.gan
    self.losses = LOSSES.get(options.loss)  # the critic's and the generator's
    if options.n_critic < 1 or config.batch_size % options.n_critic:
      raise UsageError(f"batch_size {config.batch_size} must be a positive multiple of "
                       f"gan.n_critic {options.n_critic}: each critic update takes "
                       f"batch_size / n_critic examples; set --config.batch_size")
    if options.gp_weight > 0 and uses_batch_statistics(config):
      raise UsageError("a gradient penalty needs a critic without batch statistics; "
                       "set --config.net.d_norm=layer (or none)")
    self.num_classes = spec.num_classes if config.conditional else 0
    self.generator, self.critic = build_networks(config, spec.shape, self.num_classes)
    self.g_optimizer = make_optimizer(config.optim_g, config.num_steps)
    self.d_optimizer = make_optimizer(config.optim_d, config.num_steps, options.n_critic)

  def init_state(self, rng: jax.Array) -> TrainState:
    g_rng, d_rng, state_rng = jax.random.split(rng, 3)
    z = jnp.zeros((1, self.config.gan.latent_dim), jnp.float32)
    x = jnp.zeros((1,) + self.spec.shape, jnp.float32)
    labels = self._labels(jnp.zeros((1,), jnp.int32))
    g_vars = self.generator.init(g_rng, z, labels, train=False)
    d_vars = self.critic.init(d_rng, x, labels, train=False)
    params = {"generator": g_vars["params"], "discriminator": d_vars["params"]}
    opt_state = {"generator": self.g_optimizer.init(params["generator"]),
                 "discriminator": self.d_optimizer.init(params["discriminator"])}
    model_state = {"generator": g_vars.get("batch_stats", {}),
                   "discriminator": d_vars.get("batch_stats", {})}
    return TrainState.create(params, opt_state, state_rng, model_state=model_state)

  def _labels(self, labels: jnp.ndarray) -> Optional[jnp.ndarray]:
    return labels if self.num_classes else None

  def _latents(self, rng: jax.Array, num: int) -> jnp.ndarray:
    """z ~ N(0, I): float32 [num, latent_dim]."""
    return jax.random.normal(rng, (num, self.config.gan.latent_dim))

  def discriminator_loss(self, d_params: Any, d_stats: Any, real: jnp.ndarray,
                         fake: jnp.ndarray, labels: Optional[jnp.ndarray], rng: jax.Array):
    """real, fake: [M, *shape] -> (loss, metrics). The critic sees real then
    fake (separate BatchNorm batches); metrics["batch_stats"] holds its
    advanced statistics; with gp_weight > 0 the penalty is added to the loss."""
    real_scores, d_stats = apply_model(self.critic, d_params, d_stats, real, labels,
                                       train=True)
    fake_scores, d_stats = apply_model(self.critic, d_params, d_stats, fake, labels,
                                       train=True)
    loss, metrics = self.losses.discriminator(real_scores, fake_scores)
    gp_weight = self.config.gan.gp_weight
    if gp_weight > 0:
      critic = lambda x: apply_model(self.critic, d_params, d_stats, x, labels,
                                     train=False)[0]
      penalty = gradient_penalty(critic, real, fake, rng, self.config.gan.gp_target)
      loss = loss + gp_weight * penalty
      metrics = {**metrics, "gradient_penalty": penalty}
    return loss, {**metrics, "batch_stats": d_stats}

  def generator_loss(self, g_params: Any, g_stats: Any, d_params: Any, d_stats: Any,
                     labels: Optional[jnp.ndarray], rng: jax.Array, num: int):
    """num fresh fakes scored by the critic -> (loss, {"batch_stats": the
    generator's advanced statistics}). The critic's own statistics are not
    advanced by the generator update."""
    fake, g_stats = apply_model(self.generator, g_params, g_stats,
                                self._latents(rng, num), labels, train=True)
    scores, _ = apply_model(self.critic, d_params, d_stats, fake, labels, train=True)
    return self.losses.generator(scores), {"batch_stats": g_stats}

  def train_step(self, state: TrainState, batch: dict, rng: jax.Array):
    """n_critic critic updates, then one generator update.

    batch["x"]: [B, *shape], batch["labels"]: [B] int32. The batch is split
    into n_critic chunks of M = B / n_critic real examples, one fresh chunk per
    critic update (as the WGAN-GP paper draws a new real batch each time); the
    generator update uses M latents with the last chunk's labels. Metrics:
    "loss" is the critic loss (d_loss, mean over the critic updates), plus
    g_loss, d_grad_norm, g_grad_norm and, for the Wasserstein loss,
    wasserstein and gradient_penalty.
    """
    n_critic = self.config.gan.n_critic
    chunks = jax.tree_util.tree_map(
        lambda a: a.reshape((n_critic, -1) + a.shape[1:]), batch)
    chunk_size = chunks["x"].shape[1]
    critic_rng, g_rng = jax.random.split(rng)
    g_params = state.params["generator"]
    d_opt_state = state.opt_state["discriminator"]

    def critic_update(carry, inputs):
      d_params, d_opt_state, d_stats, g_stats = carry
      chunk, key = inputs
      z_rng, penalty_rng = jax.random.split(key)
      labels = self._labels(chunk["labels"])
      fake, g_stats = apply_model(self.generator, g_params, g_stats,
                                  self._latents(z_rng, chunk_size), labels, train=True)
      d_params, d_opt_state, metrics = gradient_step(
          self.discriminator_loss, self.d_optimizer, d_params, d_opt_state, d_stats,
          chunk["x"], jax.lax.stop_gradient(fake), labels, penalty_rng)
      d_stats = metrics.pop("batch_stats")
      return (d_params, d_opt_state, d_stats, g_stats), metrics

    carry = (state.params["discriminator"], d_opt_state,
             state.model_state["discriminator"], state.model_state["generator"])
    # Unrolled: inside a loop body XLA:CPU (jaxlib 0.10.2) runs the critic's
    # weight-gradient convolutions in a generic loop, far slower (docs/performance.md).
    (d_params, d_opt_state, d_stats, g_stats), d_metrics = jax.lax.scan(
        critic_update, carry, (chunks, jax.random.split(critic_rng, n_critic)),
        unroll=True)
    g_params, g_opt_state, g_metrics = gradient_step(
        self.generator_loss, self.g_optimizer, g_params, state.opt_state["generator"],
        g_stats, d_params, d_stats, self._labels(chunks["labels"][-1]), g_rng, chunk_size)
    g_stats = g_metrics.pop("batch_stats")
    d_metrics = jax.tree_util.tree_map(jnp.mean, d_metrics)
    metrics = {"loss": d_metrics["loss"], "d_loss": d_metrics.pop("loss"),
               "d_grad_norm": d_metrics.pop("grad_norm"), "g_loss": g_metrics["loss"],
               "g_grad_norm": g_metrics["grad_norm"], **d_metrics}
    return state.replace(
        params={"generator": g_params, "discriminator": d_params},
        opt_state={"generator": g_opt_state, "discriminator": d_opt_state},
        model_state={"generator": g_stats, "discriminator": d_stats}), metrics

  def sampling_params(self, state: TrainState, use_ema: bool = True) -> Any:
    """{"params": generator params (EMA or raw), "batch_stats": its statistics}."""
    params = state.ema_params if use_ema else state.params
    return {"params": params["generator"], "batch_stats": state.model_state["generator"]}

  def generate(self, params: Any, z: jnp.ndarray,
               labels: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    """z [N, latent_dim] -> samples [N, *shape] (BatchNorm in inference mode).
    labels: [N] int32 for conditional models; None means classes 0, 1, ... in turn."""
    if self.num_classes and labels is None:
      labels = cycling_labels(z.shape[0], self.num_classes)
    return self.generator.apply(params, z, self._labels(labels), train=False)

  def sample(self, params, rng, num, labels=None, **options):
    """num samples float32 [num, *shape] (images in [-1, 1]); `labels` is
    ignored by unconditional models."""
    del options
    return self.generate(params, self._latents(rng, num), labels)

  def write_figures(self, params: Any, rng: jax.Array, outdir: pathlib.Path,
                    examples: dict, grid_trace: Any) -> None:
    """Images only: latent_interpolation.png (per latent pair one linear row,
    then one spherical row) and, for conditional models, class_grid.png (one
    row per class, one shared latent per column)."""
    del examples, grid_trace
    if not self.spec.is_image:
      return
    pair_rng, class_rng = jax.random.split(rng)
    generate = jax.jit(self.generate)
    ends = self._latents(pair_rng, 2 * INTERPOLATION_PAIRS)
    paths = [path(ends[2 * i], ends[2 * i + 1], INTERPOLATION_STEPS)
             for i in range(INTERPOLATION_PAIRS)
             for path in (interpolation.lerp, interpolation.slerp)]
    z = jnp.concatenate(paths)
    # Both rows of a pair share one class (pair i: class i mod num_classes).
    labels = jnp.repeat(jnp.arange(INTERPOLATION_PAIRS), 2 * INTERPOLATION_STEPS)
    labels = labels % max(self.num_classes, 1)
    plotting.save_image_grid(np.asarray(generate(params, z, labels)),
                             outdir / "latent_interpolation.png", ncols=INTERPOLATION_STEPS)
    if self.num_classes:
      columns = 10
      z = jnp.tile(self._latents(class_rng, columns), (self.num_classes, 1))
      labels = jnp.repeat(jnp.arange(self.num_classes), columns)
      plotting.save_image_grid(np.asarray(generate(params, z, labels)),
                               outdir / "class_grid.png", ncols=columns)


for _model in gan_config.MODEL_LOSSES:
  MODELS.register(_model)(ModelEntry(
      family=GANFamily, configure=functools.partial(gan_config.configure, model=_model),
      check=gan_config.check))
