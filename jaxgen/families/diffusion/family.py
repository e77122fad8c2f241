"""Diffusion (DDPM/DDIM) as a family: eps/x0/v regression on q(x_t | x_0),
sampled by any of `samplers.SAMPLERS`."""

import functools
import pathlib
from typing import Any, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import plotting
from jaxgen.errors import UsageError
from jaxgen.families.diffusion import config as diffusion_config
from jaxgen.families.diffusion.objectives import LOSS_WEIGHTINGS, OBJECTIVES
from jaxgen.families.diffusion.samplers import DPM_SOLVERS, SAMPLERS, TUNABLE
from jaxgen.families.diffusion.schedules import SCHEDULES, q_sample
from jaxgen.families.family import MODELS, DataSpec, Family, ModelEntry, compute_dtype
from jaxgen.nn.mlp import MLPDenoiser
from jaxgen.nn.unet import UNet
from jaxgen.training.optim import make_optimizer
from jaxgen.training.state import TrainState, gradient_step

# A sampler option (samplers.TUNABLE) -> the config.diffusion field of its default.
SAMPLER_OPTION_FIELDS = {"steps": "sample_steps", "eta": "eta", "spacing": "solver_spacing"}
# Images of the final grid whose denoising trajectory the run pictures.
TRAJECTORY_ROWS = 8


class DiffusionFamily(Family):
  """Networks: a UNet for images, an MLP for 2-D points. With
  `config.conditional`, labels are dropped to the null label with probability
  `label_dropout` in training, enabling classifier-free guidance at sampling."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    super().__init__(config, spec)
    options = config.diffusion
    self.schedule = SCHEDULES.get(options.schedule)(options.timesteps)
    self.objective = OBJECTIVES.get(options.target)
    self.weighting = LOSS_WEIGHTINGS.get(options.loss_weighting)
    SAMPLERS.get(options.sampler)
    self.num_classes = spec.num_classes if config.conditional else 0
    self.network = self._network(config.net)
    self.optimizer = make_optimizer(config.optim, config.num_steps)

  def _network(self, net: ml_collections.ConfigDict):
    dtype = compute_dtype(self.config)
    if self.spec.is_image:
      return UNet(channels=net.channels, channel_mults=tuple(net.channel_mults),
                  num_res_blocks=net.num_res_blocks,
                  attention_resolutions=tuple(net.attention_resolutions),
                  dropout=net.dropout, num_groups=net.num_groups,
                  num_classes=self.num_classes, dtype=dtype)
    return MLPDenoiser(hidden=net.hidden, depth=net.depth, num_classes=self.num_classes,
                       dtype=dtype)

  def init_state(self, rng: jax.Array) -> TrainState:
    param_rng, state_rng = jax.random.split(rng)
    x = jnp.zeros((1,) + self.spec.shape, jnp.float32)
    labels = jnp.zeros((1,), jnp.int32) if self.num_classes else None
    params = self.network.init(param_rng, x, jnp.zeros((1,)), labels,
                               train=False)["params"]
    return TrainState.create(params, self.optimizer.init(params), state_rng)

  def loss(self, params: Any, batch: dict, rng: jax.Array):
    """Mean squared error of the objective's target, each example weighted by
    config.diffusion.loss_weighting of its SNR; batch["x"]: [B, *shape]."""
    x0 = batch["x"]
    t_rng, noise_rng, label_rng, dropout_rng = jax.random.split(rng, 4)
    t = jax.random.randint(t_rng, (x0.shape[0],), 0, self.schedule.num_timesteps)
    noise = jax.random.normal(noise_rng, x0.shape)
    x_t = q_sample(self.schedule, x0, t, noise)
    labels = None
    if self.num_classes:
      drop = jax.random.bernoulli(label_rng, self.config.diffusion.label_dropout,
                                  batch["labels"].shape)
      labels = jnp.where(drop, self.num_classes, batch["labels"])
    prediction = self.network.apply({"params": params}, x_t, t.astype(jnp.float32),
                                    labels, train=True, rngs={"dropout": dropout_rng})
    a_t, s_t = self._scales(t, x0)
    target = self.objective.target(x0, noise, a_t, s_t)
    snr = (a_t / s_t) ** 2
    weight = self.weighting(snr, self.objective, self.config.diffusion.min_snr_gamma)
    return jnp.mean(weight * (prediction - target) ** 2), {}

  def train_step(self, state: TrainState, batch: dict, rng: jax.Array):
    params, opt_state, metrics = gradient_step(
        self.loss, self.optimizer, state.params, state.opt_state, batch, rng)
    return state.replace(params=params, opt_state=opt_state), metrics

  def _scales(self, t: jnp.ndarray, like: jnp.ndarray) -> Tuple[jnp.ndarray, jnp.ndarray]:
    """a_t = sqrt(alpha_bar_t), s_t = sqrt(1 - alpha_bar_t), shaped [B, 1, ...]."""
    alpha_bar = self.schedule.alphas_cumprod[t].reshape((-1,) + (1,) * (like.ndim - 1))
    return jnp.sqrt(alpha_bar), jnp.sqrt(1.0 - alpha_bar)

  def denoiser(self, params: Any, labels: Optional[jnp.ndarray], guidance_scale: float,
               guidance_interval: Sequence[float] = ()):
    """denoise_fn(x_t, t) -> (x0_hat, eps_hat) for the samplers.

    Classifier-free guidance (Ho & Salimans 2022) in our convention:
    pred = pred_null + w (pred_label - pred_null), so w = 1 is the plain
    conditional model and w = 0 the unconditional one. Unconditional models
    (or labels=None), and a Python w of 0 or 1, use one network call; any other
    w runs the labelled and the null-label halves as one batch of twice the size.
    A `guidance_interval` (lo, hi) guides only the examples whose noise level
    sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) is in (lo, hi] (Kynkaanniemi
    et al. 2024), the others with w = 1; a batch with none inside (the samplers'
    batches share one t) makes the one plain call.
    """
    def predict(x, t, y):
      return self.network.apply({"params": params}, x, t.astype(jnp.float32), y,
                                train=False)

    one_call = not self._guides(labels, guidance_scale)

    def guided(x, t, w):
      null = jnp.full_like(labels, self.num_classes)
      both = predict(jnp.concatenate([x, x]), jnp.concatenate([t, t]),
                     jnp.concatenate([labels, null]))
      with_label, without = jnp.split(both, 2)
      return without + w * (with_label - without)

    def denoise_fn(x, t):
      if not self.num_classes or labels is None:
        prediction = predict(x, t, None)
      elif one_call:
        prediction = predict(x, t, labels if guidance_scale else jnp.full_like(
            labels, self.num_classes))
      elif guidance_interval:
        low, high = guidance_interval
        sigma = self.schedule.noise_levels[t]
        inside = (sigma > low) & (sigma <= high)
        w = jnp.where(inside, guidance_scale, 1.0).reshape((-1,) + (1,) * (x.ndim - 1))
        prediction = jax.lax.cond(jnp.any(inside), lambda: guided(x, t, w),
                                  lambda: predict(x, t, labels))
      else:
        prediction = guided(x, t, guidance_scale)
      return self.objective.to_x0_eps(prediction, x, *self._scales(t, x))
    return denoise_fn

  def _guides(self, labels: Optional[jnp.ndarray], guidance_scale) -> bool:
    """Whether the denoiser mixes labelled and null-label predictions (two
    network calls): a conditional model, labels, and w other than 0 or 1."""
    plain = isinstance(guidance_scale, (int, float)) and guidance_scale in (0, 1)
    return bool(self.num_classes) and labels is not None and not plain

  def sample_with_trajectory(self, params: Any, rng: jax.Array, num: int,
                             labels: Optional[jnp.ndarray] = None, *,
                             sampler: Optional[str] = None, steps: Optional[int] = None,
                             eta: Optional[float] = None, spacing: Optional[str] = None,
                             guidance_scale: Optional[float] = None,
                             guidance_interval: Optional[Sequence[float]] = None,
                             clip_x0: Optional[bool] = None, keep_trajectory: bool = False):
    """Returns (x0 [num, *shape], trajectory [steps, num, *shape] or None).

    Options left as None come from config.diffusion (SAMPLER_OPTION_FIELDS),
    only for the samplers that take them (samplers.TUNABLE): the others get
    just the values passed, and reject any but their own (ddpm: all T steps
    and eta = 1; the dpm_solver++ samplers: eta = 0, the SDE ones 1; spacing: only those).
    `clip_x0` (images only) clips every step's x0_hat to [-1, 1].
    """
    options = self.config.diffusion
    sampler = sampler or options.sampler
    sample_fn = SAMPLERS.get(sampler)
    if spacing is not None and "spacing" not in TUNABLE[sampler]:
      raise UsageError(f"a timestep spacing is for the DPM-Solver++ samplers "
                       f"({', '.join(DPM_SOLVERS)}), not {sampler}")
    chosen = {}
    for option, value in (("steps", steps), ("eta", eta), ("spacing", spacing)):
      if value is None and option in TUNABLE[sampler]:
        value = options.get(SAMPLER_OPTION_FIELDS[option])  # None in older runs
      if value is not None:
        chosen[option] = value
    guidance_scale = options.guidance_scale if guidance_scale is None else guidance_scale
    if guidance_interval is None:
      guidance_interval = options.get("guidance_interval", ())  # () in older runs
    if clip_x0 is None:
      clip_x0 = options.get("clip_x0", True)  # older runs clipped
    if sampler in DPM_SOLVERS and guidance_interval and self._guides(labels, guidance_scale):
      chosen["noise_breaks"] = tuple(guidance_interval)  # where guidance starts and stops
    noise_rng, x_T_rng = jax.random.split(rng)
    x_T = jax.random.normal(x_T_rng, (num,) + self.spec.shape)
    return sample_fn(self.denoiser(params, labels, guidance_scale, tuple(guidance_interval)),
                     self.schedule, x_T, noise_rng, clip=self.spec.is_image and clip_x0,
                     keep_trajectory=keep_trajectory, **chosen)

  def sample(self, params, rng, num, labels=None, **options):
    return self.sample_with_trajectory(params, rng, num, labels, **options)[0]

  def sample_grid(self, params, rng, num, labels=None):
    """(samples, trajectory [steps, rows, *shape]): the denoising trajectory of
    the first TRAJECTORY_ROWS images, or of every point."""
    x, trajectory = self.sample_with_trajectory(params, rng, num, labels,
                                                keep_trajectory=True)
    return x, trajectory[:, :TRAJECTORY_ROWS] if self.spec.is_image else trajectory

  def write_figures(self, params: Any, rng: jax.Array, outdir: pathlib.Path,
                    examples: dict, grid_trace: np.ndarray) -> None:
    """denoising_trajectory.png of the final grid's first samples: rows =
    samples, columns = timesteps."""
    del params, rng, examples
    plotting.save_trajectory(np.asarray(grid_trace), outdir / "denoising_trajectory.png",
                             self.config.dataset)

for _sampler in ("ddpm", "ddim"):
  MODELS.register(_sampler)(ModelEntry(
      family=DiffusionFamily,
      configure=functools.partial(diffusion_config.configure, sampler=_sampler),
      check=diffusion_config.check))
