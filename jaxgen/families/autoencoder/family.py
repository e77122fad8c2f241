"""Autoencoders as a family: AE, VAE (Kingma & Welling 2014) and conditional VAE.

The loss per image is `recon + beta * KL(q(z|x) || N(0, I))` (a plain AE has
no KL term). Reconstruction losses are summed over pixels (see `losses.py`)
and computed on [0, 1] images; the decoder emits logits whose sigmoid is the
reconstruction. 2-D points are reconstructed as they are.
"""

import functools
import pathlib
from typing import Any, Dict, Optional, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import interpolation
from jaxgen import plotting
from jaxgen.errors import UsageError
from jaxgen.families.autoencoder import config as autoencoder_config
from jaxgen.families.autoencoder.beta import BETA_SCHEDULES
from jaxgen.families.autoencoder.losses import (RECONSTRUCTION_LOSSES, gaussian_kl,
                                                reparameterize)
from jaxgen.families.family import (MODELS, DataSpec, Family, ModelEntry, compute_dtype,
                                    cycling_labels)
from jaxgen.nn.autoencoder_conv import ConvDecoder, ConvEncoder
from jaxgen.nn.autoencoder_mlp import MLPDecoder, MLPEncoder
from jaxgen.training.optim import make_optimizer
from jaxgen.training.state import TrainState, gradient_step

EVAL_BATCH_SIZE = 500      # test examples per compiled evaluation chunk
INTERPOLATION_STEPS = 10   # images per interpolation row, endpoints included


class AutoencoderFamily(Family):
  """config.autoencoder.kind "ae" (deterministic code) or "vae" (Gaussian
  posterior, reparameterised); `config.conditional` feeds a one-hot label to
  the encoder and the decoder (cvae). Params: {"encoder": ..., "decoder": ...}."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    super().__init__(config, spec)
    options = config.autoencoder
    self.variational = options.kind == "vae"
    self.latent_dim = options.latent_dim
    if self.latent_dim == 2:
      self.figure_examples = 2000  # enough points for latent_scatter.png
    self.reconstruction = RECONSTRUCTION_LOSSES.get(options.reconstruction_loss)
    if self.reconstruction.on_logits and not spec.is_image:
      raise UsageError("reconstruction loss 'bce' needs images in [0, 1]; use "
                       "--config.autoencoder.reconstruction_loss=l2 for 2-D points")
    self.beta = BETA_SCHEDULES.get(options.beta_schedule)(options)
    self.num_classes = spec.num_classes if config.conditional else 0
    self.encoder, self.decoder = self._networks(config.net)
    self.optimizer = make_optimizer(config.optim, config.num_steps)

  def _networks(self, net: ml_collections.ConfigDict):
    codes = 2 * self.latent_dim if self.variational else self.latent_dim
    hidden, dtype = tuple(net.hidden), compute_dtype(self.config)
    if net.architecture == "mlp":
      return (MLPEncoder(hidden, codes, dtype),
              MLPDecoder(tuple(reversed(hidden)), self.spec.shape, dtype))
    if not self.spec.is_image:  # config.check has left only "conv"
      raise UsageError("the conv autoencoder needs images; use "
                       "--config.net.architecture=mlp for 2-D points")
    channels = tuple(net.channels)
    factor = 2 ** len(channels)
    if self.spec.shape[0] % factor or self.spec.shape[1] % factor:
      raise UsageError(f"conv autoencoder: image sides {self.spec.shape[:2]} are not "
                       f"divisible by {factor}; use fewer --config.net.channels")
    return (ConvEncoder(channels, hidden, codes, dtype),
            ConvDecoder(channels, tuple(reversed(hidden)), self.spec.shape, dtype))

  def init_state(self, rng: jax.Array) -> TrainState:
    encoder_rng, decoder_rng, state_rng = jax.random.split(rng, 3)
    condition = self.condition(jnp.zeros((1,), jnp.int32))
    params = {
        "encoder": self.encoder.init(
            encoder_rng, jnp.zeros((1,) + self.spec.shape), condition)["params"],
        "decoder": self.decoder.init(
            decoder_rng, jnp.zeros((1, self.latent_dim)), condition)["params"],
    }
    return TrainState.create(params, self.optimizer.init(params), state_rng)

  def condition(self, labels: Optional[jnp.ndarray]) -> Optional[jnp.ndarray]:
    """labels int32 [B] -> one-hot float32 [B, num_classes]; None when unconditional."""
    if not self.num_classes:
      return None
    return jax.nn.one_hot(labels, self.num_classes, dtype=jnp.float32)

  def encode(self, params: Any, x: jnp.ndarray, condition: Optional[jnp.ndarray]
             ) -> Tuple[jnp.ndarray, Optional[jnp.ndarray]]:
    """x [B, *shape] in the data range -> (mean [B, D], log_variance [B, D]);
    an AE's code is the mean and its log_variance is None."""
    codes = self.encoder.apply({"params": params["encoder"]}, x, condition)
    if not self.variational:
      return codes, None
    mean, log_variance = jnp.split(codes, 2, axis=-1)
    return mean, log_variance

  def decode(self, params: Any, z: jnp.ndarray,
             condition: Optional[jnp.ndarray]) -> jnp.ndarray:
    """z [B, D] -> float32 [B, *shape] in the data range ([-1, 1] for images)."""
    output = self._decoder_output(params, z, condition)
    return self._from_unit_range(self._reconstruction(output))

  def _decoder_output(self, params, z, condition):
    return self.decoder.apply({"params": params["decoder"]}, z, condition)

  def _reconstruction(self, output: jnp.ndarray) -> jnp.ndarray:
    """Decoder output -> reconstruction: sigmoid (in [0, 1]) for images."""
    return jax.nn.sigmoid(output) if self.spec.is_image else output

  def _to_unit_range(self, x: jnp.ndarray) -> jnp.ndarray:
    """Images [-1, 1] -> [0, 1], where every reconstruction loss is computed."""
    return (x + 1.0) / 2.0 if self.spec.is_image else x

  def _from_unit_range(self, x: jnp.ndarray) -> jnp.ndarray:
    return x * 2.0 - 1.0 if self.spec.is_image else x

  def loss_terms(self, params: Any, batch: dict, rng: jax.Array
                 ) -> Tuple[jnp.ndarray, jnp.ndarray]:
    """(reconstruction loss [B], KL [B]) in nats for a batch ("x" [B, *shape],
    "labels" [B]), one posterior sample per example; KL is 0 for an AE."""
    condition = self.condition(batch["labels"])
    mean, log_variance = self.encode(params, batch["x"], condition)
    if self.variational:
      z, kl = reparameterize(rng, mean, log_variance), gaussian_kl(mean, log_variance)
    else:
      z, kl = mean, jnp.zeros(mean.shape[:1])
    output = self._decoder_output(params, z, condition)
    decoded = output if self.reconstruction.on_logits else self._reconstruction(output)
    return self.reconstruction.per_example(decoded, self._to_unit_range(batch["x"])), kl

  def loss(self, params: Any, batch: dict, rng: jax.Array, beta: jnp.ndarray):
    """mean over the batch of recon + beta * KL (the negative ELBO at beta = 1)."""
    recon, kl = self.loss_terms(params, batch, rng)
    if not self.variational:
      return jnp.mean(recon), {"recon": jnp.mean(recon)}
    metrics = {"recon": jnp.mean(recon), "kl": jnp.mean(kl), "beta": beta}
    return jnp.mean(recon + beta * kl), metrics

  def train_step(self, state: TrainState, batch: dict, rng: jax.Array):
    params, opt_state, metrics = gradient_step(
        self.loss, self.optimizer, state.params, state.opt_state, batch, rng,
        self.beta(state.step))
    return state.replace(params=params, opt_state=opt_state), metrics

  def sample(self, params, rng, num, labels=None, **options):
    """Decodes z ~ N(0, I): float32 [num, *shape]. For an AE, which has no
    prior, this shows what the decoder makes of standard normal codes.
    Conditional models without labels get classes 0, 1, ..., cycling."""
    del options
    if self.num_classes and labels is None:
      labels = cycling_labels(num, self.num_classes)
    z = jax.random.normal(rng, (num, self.latent_dim))
    return self.decode(params, z, self.condition(labels))

  def evaluate(self, params: Any, test: dict, rng: jax.Array) -> Dict[str, float]:
    """Means over the test split: recon and, for a VAE, KL and
    elbo = -(recon + KL) (beta = 1; a bound on log p(x) in nats when the loss
    is bce), in chunks of EVAL_BATCH_SIZE examples."""
    keys = jax.random.split(rng, test["x"].shape[0])
    recon, kl = _evaluate_all(self, params, test, keys)
    if not self.variational:
      return {"recon": float(jnp.mean(recon))}
    return {"recon": float(jnp.mean(recon)), "kl": float(jnp.mean(kl)),
            "elbo": float(-jnp.mean(recon + kl))}

  def reconstruct(self, params: Any, x: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
    """Decodes the posterior mean: x [B, *shape] -> [B, *shape], data range."""
    condition = self.condition(labels)
    return self.decode(params, self.encode(params, x, condition)[0], condition)

  def write_figures(self, params: Any, rng: jax.Array, outdir: pathlib.Path,
                    examples: dict, grid_trace: Any) -> None:
    """reconstructions.png (16 originals above their reconstructions),
    latent_interpolation.png (rows between pairs of test images),
    class_grid.png (cvae: one row per class) and, for 2-D latents,
    latent_scatter.png of every example's posterior mean by class."""
    del grid_trace
    outdir = pathlib.Path(outdir)
    if self.spec.is_image:
      x, labels = examples["x"][:16], examples["labels"][:16]
      plotting.save_image_grid(
          np.asarray(jnp.concatenate([x, self.reconstruct(params, x, labels)])),
          outdir / "reconstructions.png", ncols=x.shape[0])
      plotting.save_image_grid(np.asarray(self.interpolate(params, x[:8], labels[:8])),
                               outdir / "latent_interpolation.png",
                               ncols=INTERPOLATION_STEPS)
      if self.num_classes:
        rows = jnp.repeat(jnp.arange(self.num_classes), 10)
        plotting.save_image_grid(
            np.asarray(self.sample(params, rng, rows.shape[0], rows)),
            outdir / "class_grid.png", ncols=10)
    if self.latent_dim == 2:
      means = self.encode(params, examples["x"], self.condition(examples["labels"]))[0]
      plotting.save_latent_scatter(np.asarray(means), np.asarray(examples["labels"]),
                          outdir / "latent_scatter.png")

  def interpolate(self, params: Any, x: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
    """Linear paths between posterior means of pairs (x[0], x[1]), (x[2], x[3]),
    ...: [2P, *shape] -> [P * INTERPOLATION_STEPS, *shape], one row per pair.
    A cvae's one-hot label is interpolated along with z."""
    condition = self.condition(labels)
    z = self.encode(params, x, condition)[0]
    path = jax.vmap(functools.partial(interpolation.lerp, num=INTERPOLATION_STEPS))
    z_path = path(z[0::2], z[1::2]).reshape(-1, self.latent_dim)
    condition_path = None
    if condition is not None:
      condition_path = path(condition[0::2], condition[1::2]).reshape(-1, self.num_classes)
    return self.decode(params, z_path, condition_path)


@functools.partial(jax.jit, static_argnums=0)
def _evaluate_all(family: AutoencoderFamily, params: Any, test: dict,
                  keys: jax.Array) -> Tuple[jnp.ndarray, jnp.ndarray]:
  """Per-example (recon [N], KL [N]) of the test split, EVAL_BATCH_SIZE at a time."""
  def one_example(args):
    example, key = args
    recon, kl = family.loss_terms(params, jax.tree_util.tree_map(lambda a: a[None],
                                                                 example), key)
    return recon[0], kl[0]
  return jax.lax.map(one_example, (test, keys), batch_size=EVAL_BATCH_SIZE)


for _model, _kind, _conditional in (("ae", "ae", False), ("vae", "vae", False),
                                    ("cvae", "vae", True)):
  MODELS.register(_model)(ModelEntry(
      family=AutoencoderFamily,
      configure=functools.partial(autoencoder_config.configure, kind=_kind,
                                  conditional=_conditional),
      check=autoencoder_config.check))
