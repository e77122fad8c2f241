"""Diffusion defaults for each preset and kind of data."""

import ml_collections

from jaxgen import checks
from jaxgen.families.diffusion import dpm_solver, objectives, samplers, schedules


def configure(config: ml_collections.ConfigDict, preset: str, is_image: bool,
              sampler: str) -> None:
  """Fills config.diffusion and config.net; ddpm and ddim differ only in `sampler`."""
  config.diffusion = ml_collections.ConfigDict(dict(
      schedule="linear",      # linear | cosine
      timesteps=1000,
      target="eps",           # eps | x0 | v
      loss_weighting="none",  # none | min_snr (Min-SNR-gamma, Hang et al. 2023)
      min_snr_gamma=5.0,      # min_snr's gamma
      sampler=sampler,        # ddpm | ddim | dpm_solver++[3m] (ODE) | dpm_solver++[3m]_sde
      sample_steps=50,        # network calls of all but ddpm, which runs all timesteps
      eta=0.0,                # ddim only, in [0, 1]; the ODE solvers dpm_solver++[3m] need 0
      solver_spacing="logsnr",  # dpm_solver++ samplers' timesteps: logsnr | time (uniform)
      clip_x0=True,           # images: clip every step's x0_hat to [-1, 1] (Ho et al.)
      guidance_scale=1.0,     # classifier-free guidance w; 1 = plain conditional
      guidance_interval=(),   # (lo, hi): guide only where lo < sigma_t <= hi; (): always
      label_dropout=0.1,      # conditional training: P(label -> null label)
  ))
  if sampler == "ddpm":
    config.diffusion.sample_steps = config.diffusion.timesteps
    config.diffusion.eta = 1.0
  if is_image:
    _image_defaults(config, preset)
  else:
    _point_defaults(config, preset)


def _image_defaults(config: ml_collections.ConfigDict, preset: str) -> None:
  if preset == "cpu":
    # Sized so the headline command trains in minutes on a 2-core CPU
    # (docs/performance.md).
    # The v target learns digits faster than eps for that budget
    # (experiments/diffusion_recipe/), and without Min-SNR weighting, which all
    # but ignores the noisiest timesteps, the guided model draws better ones
    # (experiments/diffusion_cpu/weighting.json); the full preset keeps the papers' eps.
    config.diffusion.update(dict(target="v", loss_weighting="none"))
    # The cosine schedule spends far fewer of the training timesteps (and of
    # DDIM's steps) than the linear one at noise levels where the digit is all
    # but gone; at the same steps it scored a lower FID-1k on two of three seeds
    # and the same on the third
    # (experiments/diffusion_cpu/variants.json, "cosine schedule").
    config.diffusion.schedule = "cosine"
    if config.diffusion.sampler == "ddim":
      # Stochastic DDIM draws better digits from this briefly trained model than
      # the deterministic one (experiments/diffusion_cpu/stochastic_seed*.json).
      config.diffusion.eta = 1.0
    # A class-conditional model sampled with classifier-free guidance draws
    # more recognisable digits than the unconditional one for the same training
    # (experiments/diffusion_cpu/guidance_seed*.json). With x0_hat unclipped
    # (below), w = 2 scored a lower FID-1k than w = 3 on two seeds, and more
    # confident digits than w = 1.5 and 1
    # (experiments/diffusion_cpu/guidance_noclip_seed*.json).
    config.conditional = True
    config.diffusion.guidance_scale = 2.0
    # Guided only at middle noise levels, after Kynkaanniemi et al. 2024
    # (sigma_t = sqrt((1 - alpha_bar) / alpha_bar)): their (0.28, 5.42] scored a
    # lower FID at the same confidence than guidance at every step
    # (experiments/diffusion_cpu/guidance_interval_seed*.json); unclipped at
    # w = 2, ending it at 2 instead scored lower again on the two seeds it was
    # chosen on and on a third, still 0.96 confident, and guides 16 of DDIM-50's
    # steps instead of 25
    # (experiments/diffusion_cpu/guidance_interval_noclip_seed*.json).
    config.diffusion.guidance_interval = (0.28, 2.0)
    # Clipping each step's x0_hat to [-1, 1] cuts off the half of the background
    # error below -1 and so lifts MNIST's zero background by grey levels, which
    # FID weighs heavily: unclipped, DDIM-50 scored a lower FID-1k on two seeds
    # (experiments/diffusion_cpu/samplers_1750_seed*.json, "noclip" rows).
    config.diffusion.clip_x0 = False
    config.net = ml_collections.ConfigDict(dict(
        channels=16, channel_mults=(1, 2, 4), num_res_blocks=1,
        attention_resolutions=(7,), dropout=0.0, num_groups=8))
    # Batch 32 for 1750 steps takes the time of batch 64 for 1000 and scores a
    # lower FID on two seeds (experiments/diffusion_cpu/variants.json).
    config.update(dict(batch_size=32, num_steps=1750, log_every=25,
                       checkpoint_every=875, sample_every=875, ema_decay=0.995))
    config.optim.update(dict(learning_rate=1e-3, warmup_steps=100))
  else:
    config.net = ml_collections.ConfigDict(dict(
        channels=64, channel_mults=(1, 2, 2), num_res_blocks=2,
        attention_resolutions=(7,), dropout=0.1, num_groups=32))
    config.update(dict(batch_size=128, num_steps=100_000, log_every=100,
                       checkpoint_every=5000, sample_every=10_000, ema_decay=0.9999))
    config.optim.update(dict(learning_rate=2e-4, warmup_steps=1000))


def _point_defaults(config: ml_collections.ConfigDict, preset: str) -> None:
  config.net = ml_collections.ConfigDict(dict(hidden=256, depth=3))
  config.update(dict(batch_size=512, num_samples=2000, ema_decay=0.995,
                     num_steps=3000 if preset == "cpu" else 20_000,
                     log_every=50, checkpoint_every=1000, sample_every=1000))
  config.optim.update(dict(learning_rate=1e-3, warmup_steps=100))


def check(config: ml_collections.ConfigDict) -> None:
  """config.diffusion values no run can use (see jaxgen.checks)."""
  options = config.diffusion
  checks.require(config, "diffusion.timesteps", checks.at_least(1), "at least 1")
  checks.require(config, "diffusion.label_dropout", lambda v: 0 <= v <= 1, "in [0, 1]")
  checks.require(config, "diffusion.min_snr_gamma", lambda v: v > 0, "positive")
  for field, names in (("schedule", schedules.SCHEDULES), ("target", objectives.OBJECTIVES),
                       ("loss_weighting", objectives.LOSS_WEIGHTINGS),
                       ("sampler", samplers.SAMPLERS)):
    checks.choice(config, f"diffusion.{field}", names)
  checks.choice(config, "diffusion.solver_spacing", dpm_solver.SPACINGS)
  checks.require(config, "diffusion.guidance_interval", is_noise_interval,
                 "() or two noise levels (lo, hi) with 0 <= lo < hi", fix="(0.28,5.42)")
  tunable = samplers.TUNABLE[options.sampler]
  if "steps" in tunable:
    checks.require(config, "diffusion.sample_steps", lambda v: 1 <= v <= options.timesteps,
                   f"in [1, diffusion.timesteps = {options.timesteps}]")
  if "eta" in tunable:
    checks.require(config, "diffusion.eta", lambda v: 0 <= v <= 1, "in [0, 1]")
  elif options.sampler in samplers.ODE_SOLVERS:
    checks.require(config, "diffusion.eta", lambda v: v == 0,
                   f"0 for {options.sampler}, a deterministic ODE solver (its SDE twin "
                   f"is {options.sampler}_sde)", fix="0")


def is_noise_interval(value) -> bool:
  """() or (lo, hi) with 0 <= lo < hi: a guidance interval of noise levels sigma_t."""
  try:
    return len(value) == 0 or (len(value) == 2 and 0 <= float(value[0]) < float(value[1]))
  except (TypeError, ValueError):
    return False
