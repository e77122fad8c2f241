"""A PyTorch twin of jaxgen's diffusion UNet, its train step and its DDIM sampler.

For timing JAX against PyTorch side by side (torch is an optional tool: the
`jaxgen` package never imports it, and this module imports nothing from it).

* `UNet` mirrors `jaxgen.nn.unet.UNet` field for field (default: channels=32,
  channel_mults=(1, 2, 4), num_res_blocks=2, attention_resolutions=(7,),
  dropout=0.1, num_groups=8, num_heads=1, num_classes=0): same layers in the same
  order, same parameter count (3,939,393 for the defaults), NCHW tensors. Its
  submodules carry flax's auto-generated names (`ResBlock_3.Conv_1`, ...), so
  `load_flax_params` copies a flax params pytree in by path;
  `scripts/check_torch_twin.py` checks that both networks then agree.
* `make_cases(variant="eager", batch_size=128, num_samples=64, seed=0, *,
  device="cpu", unet_kwargs=None)` returns zero-argument callables, each one synchronised unit of work with its state kept in the
  closure, for the benchmark to time after a warm-up call:
    "diffusion_train": one step of jaxgen's diffusion train step (eps objective,
      linear betas, dropout on, global-norm clipping, AdamW with linear warm-up)
      followed by the loop's EMA update;
    "ddim50_sample": 50 deterministic DDIM steps (eta = 0, x0 clipped to [-1, 1])
      from fresh Gaussian noise, under torch.inference_mode.
  Variants: "eager"; "channels_last" (model and inputs in channels_last memory
  format); "compile" (torch.compile of the model: the first call of each case
  compiles, so warm up before timing). Thread counts are the caller's
  (torch.set_num_threads); nothing here changes them.
* The pieces the cases are made of are public so the check can drive them with
  jaxgen's own t, noise and x_T: `TrainStep`, `ddim_sample`,
  `linear_alphas_cumprod`, `ddim_timesteps`.

  >>> cases = make_cases("eager", batch_size=128, num_samples=64)
  >>> cases["diffusion_train"]()   # one train step
  >>> cases["ddim50_sample"]()     # one 50-step DDIM run of 64 images
"""

import math
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GROUP_NORM_EPS = 1e-6  # flax.linen.GroupNorm's default epsilon

# jaxgen's defaults (jaxgen/config.py base_config, jaxgen/families/diffusion/config.py).
NUM_TIMESTEPS = 1000
BETA_START, BETA_END = 1e-4, 0.02
LEARNING_RATE = 2e-4
WARMUP_STEPS = 500
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8  # optax.adamw's eps
WEIGHT_DECAY = 0.0
GRAD_CLIP = 1.0
EMA_DECAY = 0.999
DDIM_STEPS = 50
VARIANTS = ("eager", "channels_last", "compile")


# ----------------------------------------------------------------------------- layers


def sinusoidal_embedding(t: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
  """t [B] float -> [B, 2 * len(freqs)]: [sin(t f), cos(t f)] (jaxgen.nn.layers)."""
  angles = t.to(torch.float32)[:, None] * freqs[None, :]
  return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class TimeEmbedding(nn.Module):
  """t [B] -> [B, features]: sinusoidal(dim) -> Dense -> SiLU -> Dense."""

  def __init__(self, dim: int, features: int, max_period: float = 10000.0):
    super().__init__()
    if dim % 2:
      raise ValueError(f"sinusoidal embedding width must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period)
                      * torch.arange(half, dtype=torch.float32) / half)
    self.register_buffer("freqs", freqs, persistent=False)
    self.Dense_0 = nn.Linear(dim, features)
    self.Dense_1 = nn.Linear(features, features)

  def forward(self, t: torch.Tensor) -> torch.Tensor:
    h = self.Dense_0(sinusoidal_embedding(t, self.freqs))
    return self.Dense_1(F.silu(h))


def _group_norm(channels: int, num_groups: int) -> nn.GroupNorm:
  return nn.GroupNorm(num_groups, channels, eps=GROUP_NORM_EPS)


class ResBlock(nn.Module):
  """GroupNorm, SiLU, conv3x3, + Dense(SiLU(emb)), GroupNorm, SiLU, dropout,
  conv3x3; the skip is a 1x1 conv when in_channels != features."""

  def __init__(self, in_channels: int, features: int, emb_dim: int,
               dropout: float, num_groups: int):
    super().__init__()
    self.GroupNorm_0 = _group_norm(in_channels, num_groups)
    self.Conv_0 = nn.Conv2d(in_channels, features, 3, padding=1)
    self.Dense_0 = nn.Linear(emb_dim, features)
    self.GroupNorm_1 = _group_norm(features, num_groups)
    self.dropout = nn.Dropout(dropout)
    self.Conv_1 = nn.Conv2d(features, features, 3, padding=1)
    self.Conv_2 = (nn.Conv2d(in_channels, features, 1)
                   if in_channels != features else None)

  def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    h = self.Conv_0(F.silu(self.GroupNorm_0(x)))
    h = h + self.Dense_0(F.silu(emb))[:, :, None, None]
    h = self.dropout(F.silu(self.GroupNorm_1(h)))
    h = self.Conv_1(h)
    if self.Conv_2 is not None:
      x = self.Conv_2(x)
    return x + h


class MultiHeadDotProductAttention(nn.Module):
  """flax.linen.MultiHeadDotProductAttention(num_heads, qkv_features=C) as self-
  attention: query/key/value/out dense layers with biases, softmax(q k^T /
  sqrt(head_dim)) v, no dropout. x [B, N, C] -> [B, N, C]."""

  def __init__(self, channels: int, num_heads: int):
    super().__init__()
    if channels % num_heads:
      raise ValueError(f"{channels} channels do not split into {num_heads} heads")
    self.num_heads = num_heads
    self.query = nn.Linear(channels, channels)
    self.key = nn.Linear(channels, channels)
    self.value = nn.Linear(channels, channels)
    self.out = nn.Linear(channels, channels)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    b, n, c = x.shape
    split = lambda y: y.view(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)
    y = F.scaled_dot_product_attention(split(self.query(x)), split(self.key(x)),
                                       split(self.value(x)))  # scale 1/sqrt(head_dim)
    return self.out(y.transpose(1, 2).reshape(b, n, c))


class SelfAttention2D(nn.Module):
  """x [B, C, H, W] -> x + MHSA(GroupNorm(x)) over the H*W positions."""

  def __init__(self, channels: int, num_heads: int, num_groups: int):
    super().__init__()
    self.GroupNorm_0 = _group_norm(channels, num_groups)
    self.MultiHeadDotProductAttention_0 = MultiHeadDotProductAttention(channels,
                                                                        num_heads)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    y = self.GroupNorm_0(x).flatten(2).transpose(1, 2)          # [B, HW, C]
    y = self.MultiHeadDotProductAttention_0(y)
    return x + y.transpose(1, 2).reshape(b, c, h, w)


class Downsample(nn.Module):
  """[B, C, H, W] -> [B, C, ceil(H/2), ceil(W/2)]: 3x3 conv, stride 2, padding 1."""

  def __init__(self, channels: int):
    super().__init__()
    self.Conv_0 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

  def forward(self, x: torch.Tensor) -> torch.Tensor:
    return self.Conv_0(x)


class Upsample(nn.Module):
  """[B, C, h, w] -> [B, C, H, W]: nearest x2, crop to (H, W), conv3x3."""

  def __init__(self, channels: int):
    super().__init__()
    self.Conv_0 = nn.Conv2d(channels, channels, 3, padding=1)

  def forward(self, x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    height, width = size
    if not (2 * x.shape[2] - 1 <= height <= 2 * x.shape[2]
            and 2 * x.shape[3] - 1 <= width <= 2 * x.shape[3]):
      raise ValueError(f"cannot upsample {tuple(x.shape[2:])} to {(height, width)}")
    x = F.interpolate(x, scale_factor=2, mode="nearest")[:, :, :height, :width]
    return self.Conv_0(x)


# ------------------------------------------------------------------------------- UNet


class UNet(nn.Module):
  """Twin of jaxgen.nn.unet.UNet.

  Call: x [B, C, H, W] float32 (C = in_channels, H = W = image_size, which
  decides where attention goes, as the flax model's runtime shapes do); t [B]
  float timesteps; labels [B] int64 in [0, num_classes] or None (the null
  label). Dropout follows `model.train()` / `model.eval()` (flax's `train`).
  Returns [B, C, H, W], the eps prediction. Submodule names are flax's.
  Initialisation is PyTorch's default except the zeroed conv_out (flax's
  initialisers differ; `load_flax_params` copies flax's values in).
  """

  def __init__(self, channels: int = 32, channel_mults: Sequence[int] = (1, 2, 4),
               num_res_blocks: int = 2, attention_resolutions: Sequence[int] = (7,),
               dropout: float = 0.1, num_classes: int = 0, num_groups: int = 8,
               num_heads: int = 1, in_channels: int = 1, image_size: int = 28):
    super().__init__()
    self.num_classes = num_classes
    emb_dim = 4 * channels
    counters: Dict[str, int] = {}

    def add(kind: str, module: nn.Module) -> nn.Module:
      """Registers `module` under flax's auto name, e.g. ResBlock_7."""
      index = counters.get(kind, 0)
      counters[kind] = index + 1
      self.add_module(f"{kind}_{index}", module)
      return module

    # Creation order is flax's: TimeEmbedding (and Embed) first, then Conv_0, ...
    self.TimeEmbedding_0 = TimeEmbedding(channels, emb_dim)
    counters["TimeEmbedding"] = 1
    if num_classes:
      self.Embed_0 = nn.Embedding(num_classes + 1, emb_dim)
      counters["Embed"] = 1
    add("Conv", nn.Conv2d(in_channels, channels, 3, padding=1))
    res = lambda cin, cout: add("ResBlock", ResBlock(cin, cout, emb_dim, dropout,
                                                     num_groups))
    attn = lambda c: add("SelfAttention2D", SelfAttention2D(c, num_heads, num_groups))

    # The plan: ("res", m) / ("attn", m) / ("down", m) / ("push",) / ("pop",) /
    # ("up", m), walked by forward(); channels and sizes tracked as flax sees them.
    plan: List[Tuple] = []
    c, size = channels, image_size
    skip_channels = [c]
    for level, mult in enumerate(channel_mults):
      for _ in range(num_res_blocks):
        plan.append(("res", res(c, channels * mult)))
        c = channels * mult
        if size in attention_resolutions:
          plan.append(("attn", attn(c)))
        plan.append(("push",))
        skip_channels.append(c)
      if level < len(channel_mults) - 1:
        plan.append(("down", add("Downsample", Downsample(c))))
        size = (size - 1) // 2 + 1
        plan.append(("push",))
        skip_channels.append(c)

    plan.append(("res", res(c, c)))
    plan.append(("attn", attn(c)))
    plan.append(("res", res(c, c)))

    for level, mult in reversed(list(enumerate(channel_mults))):
      for _ in range(num_res_blocks + 1):
        plan.append(("pop",))
        cin = c + skip_channels.pop()
        plan.append(("res", res(cin, channels * mult)))
        c = channels * mult
        if size in attention_resolutions:
          plan.append(("attn", attn(c)))
      if level > 0:
        plan.append(("up", add("Upsample", Upsample(c))))
        size = _size_of_level(image_size, level - 1)  # the skip's size

    self.GroupNorm_0 = _group_norm(c, num_groups)
    self.conv_out = nn.Conv2d(c, in_channels, 3, padding=1)
    nn.init.zeros_(self.conv_out.weight)
    nn.init.zeros_(self.conv_out.bias)
    self._plan = plan

  def forward(self, x: torch.Tensor, t: torch.Tensor,
              labels: Optional[torch.Tensor] = None) -> torch.Tensor:
    emb = self.TimeEmbedding_0(t)
    if self.num_classes:
      if labels is None:
        labels = torch.full((x.shape[0],), self.num_classes, dtype=torch.long,
                            device=x.device)
      emb = emb + self.Embed_0(labels)
    elif labels is not None:
      raise ValueError("labels given to a UNet with num_classes == 0")

    h = self.Conv_0(x)
    skips = [h]
    for op in self._plan:
      kind = op[0]
      if kind == "res":
        h = op[1](h, emb)
      elif kind == "attn":
        h = op[1](h)
      elif kind == "down":
        h = op[1](h)
      elif kind == "push":
        skips.append(h)
      elif kind == "pop":
        h = torch.cat([h, skips.pop()], dim=1)
      else:  # "up"
        h = op[1](h, size=(skips[-1].shape[2], skips[-1].shape[3]))
    return self.conv_out(F.silu(self.GroupNorm_0(h)))


def _size_of_level(image_size: int, level: int) -> int:
  size = image_size
  for _ in range(level):
    size = (size - 1) // 2 + 1
  return size


def parameter_count(model: nn.Module) -> int:
  """Number of trained scalars (torch.compile'd models count their original's)."""
  return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------- flax -> torch


def _flatten(tree: Mapping[str, Any], prefix: Tuple[str, ...] = ()
             ) -> Iterator[Tuple[Tuple[str, ...], Any]]:
  for key, value in tree.items():
    if isinstance(value, Mapping):
      yield from _flatten(value, prefix + (str(key),))
    else:
      yield prefix + (str(key),), value


def _converted(module: nn.Module, module_name: str, leaf: str,
               value: np.ndarray) -> Tuple[str, np.ndarray]:
  """(torch parameter name, value in torch's layout) for one flax leaf."""
  if isinstance(module, nn.Conv2d):
    if leaf == "kernel":
      return "weight", value.transpose(3, 2, 0, 1)         # HWIO -> OIHW
    if leaf == "bias":
      return "bias", value
  elif isinstance(module, nn.Linear):
    if leaf == "kernel":
      if value.ndim == 3 and module_name == "out":         # [heads, head_dim, C]
        value = value.reshape(-1, value.shape[-1])
      elif value.ndim == 3:                                # [C, heads, head_dim]
        value = value.reshape(value.shape[0], -1)
      return "weight", value.T                             # [in, out] -> [out, in]
    if leaf == "bias":
      return "bias", value.reshape(-1)                     # [heads, head_dim] -> [C]
  elif isinstance(module, nn.GroupNorm):
    if leaf in ("scale", "bias"):
      return {"scale": "weight", "bias": "bias"}[leaf], value
  elif isinstance(module, nn.Embedding):
    if leaf == "embedding":
      return "weight", value
  raise KeyError(leaf)


def load_flax_params(model: nn.Module, params: Mapping[str, Any]) -> None:
  """Copies a flax params pytree (`jaxgen.nn.unet.UNet().init(...)["params"]`,
  nested dicts of numpy/jax arrays) into `model`, in place.

  Raises KeyError naming every flax leaf with no torch counterpart and every
  torch parameter that no flax leaf set; ValueError on a shape mismatch.
  """
  model = getattr(model, "_orig_mod", model)  # a torch.compile'd model
  torch_params = dict(model.named_parameters())
  unmatched, done = [], set()
  for path, value in _flatten(params):
    value = np.asarray(value, dtype=np.float32)
    name = "/".join(path)
    module = model
    try:
      for part in path[:-1]:
        module = module.get_submodule(part)
      tname, tvalue = _converted(module, path[-2] if len(path) > 1 else "", path[-1],
                                 value)
    except (AttributeError, KeyError):
      unmatched.append(name)
      continue
    full = ".".join(path[:-1] + (tname,))
    target = torch_params[full]
    if tuple(target.shape) != tvalue.shape:
      raise ValueError(f"flax {name} {value.shape} -> torch {full}: shape "
                       f"{tvalue.shape} != {tuple(target.shape)}")
    with torch.no_grad():
      target.copy_(torch.from_numpy(np.ascontiguousarray(tvalue)))
    done.add(full)
  missing = sorted(set(torch_params) - done)
  if unmatched or missing:
    raise KeyError(f"flax params with no torch counterpart: {unmatched or 'none'}; "
                   f"torch params not set: {missing or 'none'}")


# -------------------------------------------------------------------------- diffusion


def linear_alphas_cumprod(num_timesteps: int = NUM_TIMESTEPS) -> np.ndarray:
  """float32 [T] alpha_bar_t of jaxgen's linear schedule (computed in float64)."""
  scale = 1000.0 / num_timesteps
  betas = np.minimum(np.linspace(scale * BETA_START, scale * BETA_END, num_timesteps),
                     0.999)
  return np.cumprod(1.0 - betas.astype(np.float64)).astype(np.float32)


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
  """S timesteps evenly spread over [0, T-1], descending (jaxgen's samplers.py)."""
  if not 1 <= steps <= num_timesteps:
    raise ValueError(f"ddim steps must be in [1, {num_timesteps}], got {steps}")
  return np.round(np.linspace(num_timesteps - 1, 0, steps)).astype(np.int32)


def ddim_sample(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                x_T: torch.Tensor, alphas_cumprod: np.ndarray,
                steps: int = DDIM_STEPS, clip: bool = True) -> torch.Tensor:
  """DDIM with eta = 0 for an eps-predicting `model(x_t, t)`, as jaxgen's
  ddim_sample + DiffusionFamily.denoiser: x0_hat = (x_t - s_t eps)/a_t, clipped
  to [-1, 1] with eps recomputed; x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev) eps.
  Call it under torch.inference_mode (or no_grad) with the model in eval mode."""
  timesteps = ddim_timesteps(len(alphas_cumprod), steps)
  prev_timesteps = np.append(timesteps[1:], -1)
  one = np.float32(1.0)
  x = x_T
  for t, t_prev in zip(timesteps.tolist(), prev_timesteps.tolist()):
    abar_t = alphas_cumprod[t]
    abar_prev = alphas_cumprod[t_prev] if t_prev >= 0 else one
    a_t, s_t = float(np.sqrt(abar_t)), float(np.sqrt(one - abar_t))
    eps = model(x, torch.full((x.shape[0],), float(t), dtype=torch.float32,
                              device=x.device))
    x0 = (x - s_t * eps) / a_t
    if clip:
      x0 = x0.clamp(-1.0, 1.0)
      eps = (x - a_t * x0) / s_t
    x = (float(np.sqrt(abar_prev)) * x0
         + float(np.sqrt(np.maximum(one - abar_prev, np.float32(0.0)))) * eps)
  return x


def _synchronize(device: torch.device) -> None:
  if device.type == "cuda":
    torch.cuda.synchronize(device)


def _adamw(params: List[torch.Tensor], device: torch.device) -> torch.optim.Optimizer:
  kwargs = dict(lr=0.0, betas=(ADAM_B1, ADAM_B2), eps=ADAM_EPS,
                weight_decay=WEIGHT_DECAY)
  try:  # one fused kernel (CPU and CUDA float32), like XLA's fused update
    return torch.optim.AdamW(params, fused=True, **kwargs)
  except (RuntimeError, ValueError):
    return torch.optim.AdamW(params, **kwargs)


class TrainStep:
  """jaxgen's diffusion train step (DiffusionFamily.train_step, eps objective)
  followed by the loop's EMA update, on `model`'s parameters, in place.

  `forward` is the model or its torch.compile'd version. Calling it with x0
  [B, C, H, W] in [-1, 1], t int64 [B] in [0, T) and noise like x0 does one
  update and returns (loss, global gradient norm before clipping) as 0-d
  tensors (no host sync). Dropout follows model.train()/eval().
  """

  def __init__(self, model: nn.Module, forward: Callable, alphas_cumprod: np.ndarray,
               *, learning_rate: float = LEARNING_RATE,
               warmup_steps: int = WARMUP_STEPS, grad_clip: float = GRAD_CLIP,
               ema_decay: float = EMA_DECAY):
    device = next(model.parameters()).device
    model.train()
    self.forward = forward
    self.params = list(model.parameters())
    self.ema_params = [p.detach().clone() for p in self.params]
    self.optimizer = _adamw(self.params, device)
    self.alphas_cumprod = torch.from_numpy(alphas_cumprod).to(device)
    self.learning_rate, self.warmup_steps = learning_rate, warmup_steps
    self.grad_clip, self.ema_decay = grad_clip, ema_decay
    self.step = 0  # updates done, jaxgen's state.step

  def __call__(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    abar = self.alphas_cumprod[t].view(-1, 1, 1, 1)
    x_t = torch.sqrt(abar) * x0 + torch.sqrt(1.0 - abar) * noise
    loss = torch.mean((self.forward(x_t, t.to(torch.float32)) - noise) ** 2)
    self.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grads = [p.grad for p in self.params]
    grad_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    if self.grad_clip > 0:
      # optax.clip_by_global_norm: g if |g| < max else g / |g| * max (no host sync).
      torch._foreach_mul_(grads, torch.where(grad_norm < self.grad_clip, 1.0,
                                             self.grad_clip / grad_norm))
    # optax.linear_schedule(0, lr, warmup) at the update count, as make_optimizer.
    lr = (self.learning_rate * min(self.step, self.warmup_steps) / self.warmup_steps
          if self.warmup_steps > 0 else self.learning_rate)
    for group in self.optimizer.param_groups:
      group["lr"] = lr
    self.optimizer.step()
    if self.ema_decay > 0:
      # jaxgen.training.state.ema_update with the step count before this update.
      decay = min(self.ema_decay, (1.0 + self.step) / (10.0 + self.step))
      with torch.no_grad():
        torch._foreach_mul_(self.ema_params, decay)
        torch._foreach_add_(self.ema_params, self.params, alpha=1.0 - decay)
    self.step += 1
    return loss.detach(), grad_norm


def make_cases(variant: str = "eager", batch_size: int = 128, num_samples: int = 64,
               seed: int = 0, *, device: str = "cpu",
               unet_kwargs: Optional[Dict[str, Any]] = None
               ) -> Dict[str, Callable[[], None]]:
  """{"diffusion_train": step(), "ddim50_sample": sample()} for `variant` in
  ("eager", "channels_last", "compile"); each call is one synchronised unit of
  work returning None. `unet_kwargs` overrides UNet fields (default: UNet()'s,
  the same as jaxgen.nn.unet.UNet()'s). Seeds torch's global RNG (dropout)."""
  if variant not in VARIANTS:
    raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
  device = torch.device(device)
  memory_format = (torch.channels_last if variant == "channels_last"
                   else torch.contiguous_format)
  torch.manual_seed(seed)
  generator = torch.Generator(device=device).manual_seed(seed)
  unet_kwargs = dict(unet_kwargs or {})
  in_channels = unet_kwargs.get("in_channels", 1)
  image_size = unet_kwargs.get("image_size", 28)
  shape = (in_channels, image_size, image_size)
  alphas_cumprod = linear_alphas_cumprod()

  def build() -> Tuple[UNet, Callable]:
    model = UNet(**unet_kwargs).to(device=device, memory_format=memory_format)
    return model, (torch.compile(model) if variant == "compile" else model)

  # --- diffusion_train: jaxgen's DiffusionFamily.train_step + the loop's EMA.
  train_model, train_fn = build()
  train_step = TrainStep(train_model, train_fn, alphas_cumprod)
  x0 = (torch.rand((batch_size,) + shape, generator=generator, device=device) * 2 - 1
        ).contiguous(memory_format=memory_format)

  def diffusion_train() -> None:
    t = torch.randint(0, NUM_TIMESTEPS, (batch_size,), generator=generator,
                      device=device)
    noise = torch.empty_like(x0).normal_(generator=generator)
    train_step(x0, t, noise)
    _synchronize(device)

  # --- ddim50_sample: DDIM, eta = 0, 50 steps, from fresh noise.
  sample_model, sample_fn = build()
  sample_model.eval()

  def ddim50_sample() -> None:
    with torch.inference_mode():
      x_T = torch.randn((num_samples,) + shape, generator=generator, device=device
                        ).contiguous(memory_format=memory_format)
      ddim_sample(sample_fn, x_T, alphas_cumprod, steps=DDIM_STEPS, clip=True)
    _synchronize(device)

  return {"diffusion_train": diffusion_train, "ddim50_sample": ddim50_sample}
