"""Sample from a trained run: `python -m jaxgen.experiments.sample --workdir runs/ddim_mnist`.

Reads the run's config and latest checkpoint; sampler options default to the
run's config. Samples are drawn batch-parallel over every device the process
sees. Writes a PNG grid (or scatter), an .npz of the samples and a .json of
the sampler's speed beside it (compiled, compilation excluded), and prints
images/s.
"""

import argparse
import functools
import pathlib
import sys
import time
from typing import List, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import plotting
from jaxgen import report
from jaxgen.errors import UsageError
from jaxgen.experiments.cli import ArgumentParser, run_main
from jaxgen.families import cycling_labels
from jaxgen.families.diffusion import config as diffusion_config
from jaxgen.families.diffusion import dpm_solver
from jaxgen.families.diffusion.samplers import SAMPLERS, TUNABLE
from jaxgen.training import sharding
from jaxgen.training import runs
from jaxgen.training.runs import load_run


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(prog="python -m jaxgen.experiments.sample",
                                   description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="a training run's workdir")
  parser.add_argument("--num", type=int, default=64, help="number of samples")
  parser.add_argument("--sampler", default=None,
                      help=f"one of: {', '.join(SAMPLERS.names())} (default: the run's)")
  parser.add_argument("--steps", type=int, default=None,
                      help=f"network calls S, for {', '.join(_taking('steps'))} "
                           "(default: the run's diffusion.sample_steps)")
  parser.add_argument("--eta", type=float, default=None,
                      help=f"noise eta in [0, 1], for {', '.join(_taking('eta'))} "
                           "(the dpm_solver++ samplers run at their own: the ODE solvers 0, "
                           "the _sde ones 1)")
  parser.add_argument("--spacing", default=None, choices=dpm_solver.SPACINGS,
                      help=f"timesteps uniform in log-SNR or in time, for "
                           f"{', '.join(_taking('spacing'))} (default: the run's "
                           "diffusion.solver_spacing)")
  parser.add_argument("--guidance-scale", type=float, default=None,
                      help="classifier-free guidance w (conditional runs; 1 = plain "
                           "conditional, 0 = unconditional)")
  parser.add_argument("--guidance-interval", type=float, nargs=2, default=None,
                      metavar=("LO", "HI"),
                      help="guide only where the noise level sigma_t is in (LO, HI] "
                           "(conditional runs; default: the run's "
                           "diffusion.guidance_interval; 0 inf guides every step)")
  parser.add_argument("--clip-x0", action=argparse.BooleanOptionalAction, default=None,
                      help="clip every step's prediction of x0 to [-1, 1] (image runs; "
                           "default: the run's diffusion.clip_x0)")
  parser.add_argument("--label", type=int, default=None,
                      help="class of every sample (conditional runs; default: one "
                           "class per column)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--raw-params", action="store_true",
                      help="sample with the raw params instead of the EMA params")
  parser.add_argument("--trajectory", action="store_true",
                      help="also write the denoising trajectory of the first 8 samples")
  parser.add_argument("--out", default=None,
                      help="output PNG (default: WORKDIR/samples/sample_SAMPLER.png); "
                           "the .npz and .json go beside it")
  return parser.parse_args(argv)


def _taking(option: str) -> List[str]:
  """The samplers that take `option` (see samplers.TUNABLE), by name."""
  return [name for name in SAMPLERS.names() if option in TUNABLE[name]]


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  if args.num < 1:
    raise UsageError(f"--num must be at least 1, got {args.num}")
  if args.guidance_interval and not diffusion_config.is_noise_interval(args.guidance_interval):
    low, high = args.guidance_interval
    raise UsageError(f"--guidance-interval {low:g} {high:g}: needs 0 <= LO < HI "
                     "(noise levels sigma_t; 0 inf guides every step)")
  if args.out and pathlib.Path(args.out).suffix.lower() != ".png":
    raise UsageError(f"--out {args.out}: the samples are drawn as a PNG; pass a path "
                     "ending in .png (their .npz goes beside it)")
  config, family, state = load_run(args.workdir)
  labels = _labels(args, config, family.spec.num_classes)
  mesh = sharding.make_mesh()
  params = jax.device_put(family.sampling_params(state, use_ema=not args.raw_params),
                          sharding.replicated(mesh))
  sample_fn, sampler = _sample_fn(args, config, family, mesh)
  rng = jax.random.PRNGKey(args.seed)
  compiled = sample_fn.lower(params, rng, labels=labels).compile()
  start = time.perf_counter()
  samples, trajectory = jax.block_until_ready(compiled(params, rng, labels=labels))
  seconds = time.perf_counter() - start

  out = pathlib.Path(args.out or pathlib.Path(args.workdir) / "samples" / f"sample_{sampler}.png")
  samples = np.asarray(samples)
  runs.write_samples(samples, out, config.dataset,
                     ncols=10 if labels is not None and args.label is None else None,
                     labels=labels)
  if trajectory is not None:
    plotting.save_trajectory(np.asarray(trajectory)[:, :8], out.with_name(
        out.stem + "_trajectory.png"), config.dataset)
  speed = {"images/s": args.num / seconds, "seconds": seconds}
  report.write_json(out.with_suffix(".json"), {
      "command": report.command_line(), "hardware": report.hardware(), "sampler": sampler,
      "num": args.num, **speed})
  print(f"{args.num} samples ({sampler}) -> {out}: {report.format_metrics(speed)}")


def _sample_fn(args: argparse.Namespace, config, family, mesh):
  """(jit(params, rng, labels=...) -> (samples, trajectory or None), name), the
  samples drawn batch-parallel over the mesh."""
  diffusion_flags = [flag for flag, value in (
      ("--sampler", args.sampler), ("--steps", args.steps), ("--eta", args.eta),
      ("--spacing", args.spacing), ("--guidance-scale", args.guidance_scale),
      ("--guidance-interval", args.guidance_interval),
      ("--clip-x0" if args.clip_x0 else "--no-clip-x0", args.clip_x0),
      ("--trajectory", args.trajectory or None))
      if value is not None]
  if "diffusion" not in config:
    if diffusion_flags:
      raise UsageError(f"{', '.join(diffusion_flags)}: only for diffusion runs; "
                       f"{args.workdir} is a {config.model} run")
    return sharding.batch_parallel(lambda params, rng, labels: (
        family.sample(params, rng, args.num, labels), None), mesh), config.model
  sampler = args.sampler or config.diffusion.sampler
  SAMPLERS.get(sampler)
  if args.clip_x0 is not None and not family.spec.is_image:
    raise UsageError(f"--clip-x0 and --no-clip-x0 are for image runs; {args.workdir} "
                     f"samples {config.dataset} points, which are never clipped")
  if sampler == "ddpm" and (args.steps is not None or args.eta is not None):
    raise UsageError("ddpm always runs all timesteps with eta=1; use --sampler ddim "
                     "to choose --steps or --eta")
  return sharding.batch_parallel(functools.partial(
      family.sample_with_trajectory, num=args.num, sampler=sampler, steps=args.steps,
      eta=args.eta, spacing=args.spacing, guidance_scale=args.guidance_scale,
      guidance_interval=args.guidance_interval, clip_x0=args.clip_x0,
      keep_trajectory=args.trajectory), mesh), sampler


def _labels(args: argparse.Namespace, config, num_classes: int) -> Optional[jnp.ndarray]:
  if not config.conditional:
    if (args.label, args.guidance_scale, args.guidance_interval) != (None, None, None):
      raise UsageError(f"{args.workdir} is an unconditional model; --label, "
                       f"--guidance-scale and --guidance-interval need a run trained "
                       f"with --config.conditional=True")
    return None
  if args.label is None:
    return cycling_labels(args.num, num_classes)
  if not 0 <= args.label < num_classes:
    raise UsageError(f"--label must be in [0, {num_classes - 1}], got {args.label}")
  return jnp.full((args.num,), args.label, jnp.int32)


if __name__ == "__main__":
  sys.exit(run_main(main))
