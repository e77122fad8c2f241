"""Checks that scripts/torch_twin.py computes what jaxgen computes.

  python scripts/check_torch_twin.py

1. UNet forward: jaxgen's flax UNet() is initialised (seed 0, input [4, 28, 28, 1]),
   every param is perturbed with N(0, 0.05^2) noise (conv_out is zero-initialised,
   so an unperturbed model would agree trivially), the params are copied into the
   twin, and both run on one fixed input and timesteps with dropout off.
   Parameter counts must be equal and the outputs within 1e-4.
2. DDIM: jaxgen's DiffusionFamily (UNet defaults) samples 2 images in 5 DDIM
   steps (eta = 0, clipped) with the perturbed params; the twin's ddim_sample
   starts from the same x_T. Also checks the schedule and timesteps are equal.
3. Train step: 3 steps of DiffusionFamily.train_step + the loop's EMA update
   (batch 2; a small UNet, channels 16, mults (1, 2), one res block per level,
   attention at 14x14, dropout 0, from perturbed params; lr 1e-3 with warm-up 2,
   so the lr goes 0, lr/2, lr) against the twin's TrainStep fed jaxgen's own t
   and noise: loss, gradient norm, then params and EMA params.

Exits 1 when a count differs or a difference exceeds its tolerance. Sizes are
small; most of the time is XLA compiling the UNet (at optimisation level 0 to
keep that short). `--parts forward,ddim` or `--parts train` runs a part (~30 s each on a
busy 2-core CPU).
"""

import argparse
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch

from jaxgen.config import get_config
from jaxgen.families.diffusion.family import DiffusionFamily
from jaxgen.families.diffusion.samplers import ddim_timesteps
from jaxgen.families.family import DataSpec
from jaxgen.nn.unet import UNet as FlaxUNet
from jaxgen.training.optim import make_optimizer
from jaxgen.training.state import TrainState, ema_update

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import torch_twin  # noqa: E402  (a sibling script, not part of the package)

FORWARD_TOL = 1e-4
DDIM_TOL = 1e-4
TRAIN_TOL = 1e-4  # loss/grad norm relative; params/EMA absolute, lr = 1e-3
# jaxgen.nn.unet.UNet's defaults, as config.net fields.
DEFAULT_UNET = dict(channels=32, channel_mults=(1, 2, 4), num_res_blocks=2,
                    attention_resolutions=(7,), dropout=0.1, num_groups=8)
# The train-step check's network: both levels' code paths (skip convs, attention,
# down/up sampling) at a fraction of the compile time of the default's gradient.
SMALL_UNET = dict(channels=16, channel_mults=(1, 2), num_res_blocks=1,
                  attention_resolutions=(14,), dropout=0.0, num_groups=8)
# XLA:CPU at optimisation level 0: compiling the UNet is most of this check's
# time; the computation is the same, its rounding may differ slightly.
FAST_COMPILE = {"xla_backend_optimization_level": 0,
                "xla_llvm_disable_expensive_passes": True}


def compiled(fn, *args):
  """jax.jit(fn) compiled for `args` with FAST_COMPILE."""
  return jax.jit(fn).lower(*args).compile(compiler_options=FAST_COMPILE)


def to_nchw(x) -> torch.Tensor:
  return torch.from_numpy(np.array(np.asarray(x).transpose(0, 3, 1, 2)))


def perturbed(params, seed: int, scale: float = 0.05):
  rng = np.random.default_rng(seed)
  return jax.tree_util.tree_map(
      lambda p: (np.asarray(p) + scale * rng.standard_normal(p.shape)).astype(np.float32),
      params)


def count(params) -> int:
  return int(sum(np.size(p) for p in jax.tree_util.tree_leaves(params)))


def family_for(net: dict) -> DiffusionFamily:
  config = get_config("ddim", "mnist", "cpu")
  config.net.update(net)
  return DiffusionFamily(config, DataSpec(shape=(28, 28, 1), num_classes=10))


def check_forward(failures: list):
  flax_model = FlaxUNet()
  init = lambda rng: flax_model.init(rng, jnp.zeros((4, 28, 28, 1)), jnp.zeros((4,)),
                                    train=False)["params"]
  params = compiled(init, jax.random.PRNGKey(0))(jax.random.PRNGKey(0))
  params = perturbed(params, seed=1)
  twin = torch_twin.UNet().eval()
  torch_twin.load_flax_params(twin, params)
  n_flax, n_twin = count(params), torch_twin.parameter_count(twin)
  print(f"parameters: jaxgen UNet {n_flax:,}, torch twin {n_twin:,}")
  if n_flax != n_twin:
    failures.append(f"parameter counts differ: {n_flax} != {n_twin}")

  rng = np.random.default_rng(2)
  x = rng.standard_normal((4, 28, 28, 1)).astype(np.float32)
  t = np.array([0.0, 10.0, 500.0, 999.0], np.float32)
  apply = lambda p, x, t: flax_model.apply({"params": p}, x, t, train=False)
  out_flax = np.asarray(compiled(apply, params, x, t)(params, x, t))
  with torch.no_grad():
    out_twin = twin(to_nchw(x), torch.from_numpy(t)).numpy().transpose(0, 2, 3, 1)
  diff = float(np.max(np.abs(out_flax - out_twin)))
  print(f"UNet forward [4, 28, 28, 1]: max |jax - torch| = {diff:.3g} "
        f"(outputs' max |.| = {np.max(np.abs(out_flax)):.3g}; tolerance {FORWARD_TOL})")
  if not diff <= FORWARD_TOL:
    failures.append(f"forward difference {diff:.3g} > {FORWARD_TOL}")
  return params, twin


def check_ddim(params, twin, failures: list) -> None:
  family = family_for(DEFAULT_UNET)
  alphas_cumprod = torch_twin.linear_alphas_cumprod()
  if not np.array_equal(alphas_cumprod, np.asarray(family.schedule.alphas_cumprod)):
    failures.append("linear schedule alphas_cumprod differ")
  for steps in (5, 50, 1000):
    if not np.array_equal(torch_twin.ddim_timesteps(1000, steps),
                          ddim_timesteps(1000, steps)):
      failures.append(f"ddim timesteps differ for {steps} steps")

  rng = jax.random.PRNGKey(3)
  sample = lambda p, rng: family.sample(p, rng, 2, sampler="ddim", steps=5, eta=0.0)
  x_jax = np.asarray(compiled(sample, params, rng)(params, rng))
  _, x_T_rng = jax.random.split(rng)  # as sample_with_trajectory draws x_T
  x_T = jax.random.normal(x_T_rng, (2, 28, 28, 1))
  with torch.inference_mode():
    x_twin = torch_twin.ddim_sample(twin, to_nchw(x_T), alphas_cumprod, steps=5)
  x_twin = x_twin.numpy().transpose(0, 2, 3, 1)
  diff = float(np.max(np.abs(x_jax - x_twin)))
  print(f"DDIM, 5 steps, 2 images, same x_T: max |jax - torch| = {diff:.3g} "
        f"(samples' max |.| = {np.max(np.abs(x_jax)):.3g}; tolerance {DDIM_TOL})")
  if not diff <= DDIM_TOL:
    failures.append(f"DDIM difference {diff:.3g} > {DDIM_TOL}")


def check_train_step(failures: list, num_steps: int = 3, batch: int = 2) -> None:
  """The train step on SMALL_UNET (dropout 0) from perturbed params."""
  net = SMALL_UNET
  family = family_for(net)
  family.config.optim.update(learning_rate=1e-3, warmup_steps=2, grad_clip=1.0,
                             weight_decay=0.0)
  family.optimizer = make_optimizer(family.config.optim, family.config.num_steps)
  optim, decay = family.config.optim, family.config.ema_decay
  init = lambda rng: family.network.init(rng, jnp.zeros((1, 28, 28, 1)),
                                         jnp.zeros((1,)), train=False)["params"]
  params = perturbed(compiled(init, jax.random.PRNGKey(4))(jax.random.PRNGKey(4)),
                     seed=5)
  state = TrainState.create(params, family.optimizer.init(params), jax.random.PRNGKey(5))
  x0 = np.random.default_rng(6).uniform(-1, 1, (batch, 28, 28, 1)).astype(np.float32)

  def jax_step(state, x0, rng):  # training/loop.py compile_train_step, minus the gather
    new_state, metrics = family.train_step(state, {"x": x0, "labels": None}, rng)
    ema = ema_update(state.ema_params, new_state.params, state.step, decay)
    return new_state.replace(step=state.step + 1, ema_params=ema), metrics
  jax_step = compiled(jax_step, state, x0, jax.random.PRNGKey(0))

  twin = torch_twin.UNet(**net)
  torch_twin.load_flax_params(twin, params)
  step = torch_twin.TrainStep(
      twin, twin, torch_twin.linear_alphas_cumprod(), learning_rate=optim.learning_rate,
      warmup_steps=optim.warmup_steps, grad_clip=optim.grad_clip, ema_decay=decay)

  worst = 0.0
  for k in range(num_steps):
    rng = jax.random.PRNGKey(100 + k)
    state, metrics = jax_step(state, x0, rng)
    t_rng, noise_rng, _, _ = jax.random.split(rng, 4)  # as DiffusionFamily.loss
    t = jax.random.randint(t_rng, (batch,), 0, family.schedule.num_timesteps)
    noise = jax.random.normal(noise_rng, x0.shape)
    loss, grad_norm = step(to_nchw(x0), torch.from_numpy(np.array(t)).long(),
                           to_nchw(noise))
    for name, a, b in (("loss", float(metrics["loss"]), float(loss)),
                       ("grad norm", float(metrics["grad_norm"]), float(grad_norm))):
      rel = abs(a - b) / max(abs(a), 1e-12)
      worst = max(worst, rel)
      print(f"train step {k}: {name} jax {a:.6g} torch {b:.6g} (relative diff {rel:.2g})")

  expected = torch_twin.UNet(**net)
  diffs = {}
  for name, tree, tensors in (("params", state.params, step.params),
                              ("EMA params", state.ema_params, step.ema_params)):
    torch_twin.load_flax_params(expected, tree)
    diffs[name] = max(float((p.detach() - e.detach()).abs().max())
                      for p, e in zip(tensors, expected.parameters()))
  print(f"after {num_steps} train steps (batch {batch}, dropout 0, lr "
        f"{optim.learning_rate}, warm-up {optim.warmup_steps}, EMA {decay}): "
        f"max |jax - torch| params {diffs['params']:.3g}, EMA params "
        f"{diffs['EMA params']:.3g} (tolerance {TRAIN_TOL})")
  if not max(worst, *diffs.values()) <= TRAIN_TOL:
    failures.append(f"train step differences: loss/grad-norm relative {worst:.3g}, "
                    f"{diffs}")


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--parts", default="forward,ddim,train",
                      help="comma-separated subset of forward,ddim,train (ddim "
                           "runs forward too: it makes the params)")
  parts = set(parser.parse_args().parts.split(","))
  start = time.perf_counter()
  print(f"torch {torch.__version__}, jax {jax.__version__}")
  unknown = parts - {"forward", "ddim", "train"}
  if unknown:
    parser.error(f"unknown parts: {sorted(unknown)}")
  failures: list = []
  if parts & {"forward", "ddim"}:
    params, twin = check_forward(failures)
    if "ddim" in parts:
      check_ddim(params, twin, failures)
  if "train" in parts:
    check_train_step(failures)
  print(f"({time.perf_counter() - start:.0f} s)")
  if failures:
    print("FAILED: " + "; ".join(failures))
    return 1
  print("OK: the torch twin matches jaxgen")
  return 0


if __name__ == "__main__":
  sys.exit(main())
