"""Autoencoder/VAE defaults for each preset and kind of data."""

import ml_collections

from jaxgen import checks
from jaxgen.families.autoencoder.beta import BETA_SCHEDULES
from jaxgen.families.autoencoder.losses import RECONSTRUCTION_LOSSES

KINDS = ("ae", "vae")             # deterministic code | Gaussian posterior
ARCHITECTURES = ("mlp", "conv")   # conv: images only


def configure(config: ml_collections.ConfigDict, preset: str, is_image: bool, *,
              kind: str, conditional: bool) -> None:
  """Fills config.autoencoder and config.net; ae, vae and cvae differ only in
  `kind` ("ae" or "vae") and `conditional` (labels into encoder and decoder)."""
  config.conditional = conditional
  config.autoencoder = ml_collections.ConfigDict(dict(
      kind=kind,                  # ae | vae
      latent_dim=20,
      reconstruction_loss="bce",  # bce | l2 | l1, summed per image on [0, 1] pixels
      beta=1.0,                   # KL weight (vae only)
      beta_schedule="constant",   # constant | linear_warmup | cyclical
      warmup_steps=1000,          # linear_warmup: steps from beta 0 to `beta`
      cycle_steps=1000,           # cyclical: steps per cycle
      cycle_ramp=0.5,             # cyclical: fraction of a cycle spent rising
  ))
  config.optim.update(dict(learning_rate=1e-3, warmup_steps=100, grad_clip=0.0))
  if is_image:
    _image_defaults(config, preset)
  else:
    _point_defaults(config, preset)


def _image_defaults(config: ml_collections.ConfigDict, preset: str) -> None:
  config.num_samples = 100 if config.conditional else 64
  if preset == "cpu":
    config.net = ml_collections.ConfigDict(dict(
        architecture="mlp", hidden=(400,), channels=(32, 64)))
    config.update(dict(batch_size=128, num_steps=3000, log_every=50,
                       checkpoint_every=1000, sample_every=1000, ema_decay=0.0))
  else:
    config.net = ml_collections.ConfigDict(dict(
        architecture="conv", hidden=(256,), channels=(32, 64)))
    config.update(dict(batch_size=128, num_steps=50_000, log_every=100,
                       checkpoint_every=5000, sample_every=10_000, ema_decay=0.999))
    config.autoencoder.update(dict(warmup_steps=10_000, cycle_steps=10_000))


def _point_defaults(config: ml_collections.ConfigDict, preset: str) -> None:
  config.net = ml_collections.ConfigDict(dict(
      architecture="mlp", hidden=(128, 128), channels=()))
  config.autoencoder.update(dict(latent_dim=2, reconstruction_loss="l2"))
  config.update(dict(batch_size=512, num_samples=2000, ema_decay=0.0,
                     num_steps=3000 if preset == "cpu" else 20_000,
                     log_every=50, checkpoint_every=1000, sample_every=1000))


def check(config: ml_collections.ConfigDict) -> None:
  """config.autoencoder values no run can use (see jaxgen.checks)."""
  for field in ("autoencoder.latent_dim", "autoencoder.cycle_steps"):
    checks.require(config, field, checks.at_least(1), "at least 1")
  for field in ("autoencoder.beta", "autoencoder.warmup_steps"):
    checks.require(config, field, checks.at_least(0), "at least 0")
  checks.require(config, "autoencoder.cycle_ramp", lambda v: 0 < v <= 1, "in (0, 1]")
  checks.choice(config, "autoencoder.kind", KINDS)
  checks.choice(config, "autoencoder.reconstruction_loss", RECONSTRUCTION_LOSSES)
  checks.choice(config, "autoencoder.beta_schedule", BETA_SCHEDULES)
  checks.choice(config, "net.architecture", ARCHITECTURES)
