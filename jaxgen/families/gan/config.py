"""GAN defaults for each model name, preset and kind of data.

Two optimizers replace the shared `config.optim`: `config.optim_g` (generator)
and `config.optim_d` (discriminator), each with the fields of `config.optim`,
e.g. `--config.optim_d.learning_rate=4e-4`.
"""

import ml_collections

from jaxgen import checks
from jaxgen.families.gan import losses, networks
from jaxgen.nn.dcgan import NORMS

# model name -> (loss, n_critic, gp_weight, conditional)
MODEL_LOSSES = {
    "gan": ("non_saturating", 1, 0.0, False),
    "lsgan": ("least_squares", 1, 0.0, False),
    "wgan_gp": ("wasserstein", 5, 10.0, False),
    "cgan": ("non_saturating", 1, 0.0, True),
}


def configure(config: ml_collections.ConfigDict, preset: str, is_image: bool,
              model: str) -> None:
  """Fills config.gan, config.net, config.optim_g/optim_d and the run sizes."""
  loss, n_critic, gp_weight, conditional = MODEL_LOSSES[model]
  wasserstein = loss == "wasserstein"
  # On points, a saturating-loss discriminator sharpens around wherever the
  # generator's samples are, and the generator hops from mode to mode after it,
  # collapsing onto a few modes on some seeds. A weak zero-centred gradient
  # penalty keeps the discriminator smooth between samples (Thanh-Tung et al.
  # 2019), which stops the hopping; EMA then averages the generator's residual
  # wobble around the modes (experiments/families_2d/README.md).
  zero_centred = not (is_image or wasserstein)
  config.conditional = conditional
  config.gan = ml_collections.ConfigDict(dict(
      loss=loss,                   # non_saturating | least_squares | wasserstein
      n_critic=n_critic,           # critic updates per generator update
      gp_weight=gp_weight_for(gp_weight, zero_centred, is_image, preset),  # lambda; 0 = off
      gp_target=0.0 if zero_centred else 1.0,  # the norm it pulls to: 1 WGAN-GP, 0 zero-centred
      latent_dim=100 if is_image else 16,
      # The cpu preset trains MLPs (convolutions run at ~1 step/s on 2 cores).
      architecture="dcgan" if is_image and preset == "full" else "mlp",  # | resnet
      g_activation="relu",         # relu | leaky_relu (slope 0.2)
      d_activation="leaky_relu",
  ))
  if config.gan.architecture == "mlp" and is_image:
    config.gan.g_activation = "leaky_relu"  # the classic MNIST MLP GAN
  config.net = ml_collections.ConfigDict(dict(
      g_hidden=(128, 256, 512, 1024) if is_image else (128, 128, 128),  # mlp
      d_hidden=(512, 256) if is_image else (128, 128, 128),             # mlp
      g_batch_norm=is_image,       # mlp generator only
      channels=32 if preset == "cpu" else 64,  # dcgan, resnet
      d_norm="layer" if gp_weight else "batch",  # dcgan critic: batch | layer | none
  ))
  # Adam as in the papers: DCGAN lr 2e-4, b1 0.5; WGAN-GP lr 1e-4, b1 0.5,
  # b2 0.9 (its released MNIST/toy code; Algorithm 1 uses b1 = 0). The cpu
  # preset raises the rate to fit its few thousand steps.
  if preset == "full":
    learning_rate = 1e-4 if wasserstein else 2e-4
  else:
    learning_rate = 2e-4 if is_image else 1e-3
  optim = ml_collections.ConfigDict(dict(
      learning_rate=learning_rate,
      warmup_steps=0, decay="constant", b1=0.5, b2=0.9 if wasserstein else 0.999,
      weight_decay=0.0, grad_clip=0.0))
  del config.optim
  config.optim_g = optim
  config.optim_d = ml_collections.ConfigDict(optim.to_dict())
  # One loop step draws batch_size examples: n_critic chunks of batch_size / n_critic.
  chunk = 64 if is_image else 256
  # Every generator drifts around the modes under Adam's noise, and averaging
  # its weights is what makes its samples sharp on every seed (Yazici et al. 2019).
  config.update(dict(batch_size=chunk * n_critic, ema_decay=0.999,
                     log_every=50 if preset == "cpu" else 200))
  if is_image:
    config.update(dict(num_steps=(3000 if n_critic == 1 else 1500) if preset == "cpu"
                       else 50_000,
                       checkpoint_every=500 if preset == "cpu" else 5000,
                       sample_every=500 if preset == "cpu" else 5000,
                       num_samples=100))
  else:
    config.update(dict(num_steps=5000 if preset == "cpu" else 30_000,
                       checkpoint_every=1000 if preset == "cpu" else 5000,
                       sample_every=1000 if preset == "cpu" else 5000,
                       num_samples=2000))


def gp_weight_for(paper_weight: float, zero_centred: bool, is_image: bool,
                  preset: str) -> float:
  """The gradient penalty's lambda for one model, preset and kind of data."""
  if zero_centred:
    return 0.01
  # With the paper's lambda = 10 WGAN-GP's generator on points spreads its
  # samples around the ring for a stretch of training whose length varies with
  # the seed and with float rounding (so with the CPU): on an AVX2 CPU it outlasted
  # the cpu preset's 5000 steps on seeds 0-2. With lambda = 1 the critic resolves
  # the modes sooner and the generator settles into them on every seed and
  # rounding tried (experiments/families_2d/wgan_gp_penalty/).
  if paper_weight and not is_image and preset == "cpu":
    return 1.0
  return paper_weight


def check(config: ml_collections.ConfigDict) -> None:
  """config.gan values no run can use (see jaxgen.checks)."""
  for field in ("gan.latent_dim", "gan.n_critic"):
    checks.require(config, field, checks.at_least(1), "at least 1")
  checks.require(config, "gan.gp_weight", checks.at_least(0), "at least 0 (0 turns it off)")
  checks.require(config, "gan.gp_target", checks.at_least(0), "at least 0")
  checks.choice(config, "gan.loss", losses.LOSSES)
  checks.choice(config, "gan.architecture", networks.ARCHITECTURES)
  for field in ("gan.g_activation", "gan.d_activation"):
    checks.choice(config, field, networks.ACTIVATIONS)
  checks.choice(config, "net.d_norm", NORMS)
