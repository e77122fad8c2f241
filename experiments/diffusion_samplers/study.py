"""Diffusion samplers on MNIST: FID against sampling time, schedules, guidance.

  python experiments/diffusion_samplers/study.py --preset cpu --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt

Extra --config.FIELD=VALUE flags apply to every model (and to config.fid).
Trains (or reuses, from --workdir) three DDPM-trained models of the preset: linear
schedule, cosine schedule, and class-conditional (linear, label dropout 0.1).
Then, every FID from the preset's number of samples against the cached MNIST
train statistics (or a statistics file: --config.fid.reference_stats=PATH):
  - samplers on the linear model: DDPM (all timesteps), DDIM at each of the
    preset's step counts and etas, and DPM-Solver++ (2M and 3M) at each of the
    preset's solver step counts, with images/s of the sampler alone;
  - schedules: linear against cosine with DDIM-50 (eta 0) and DDPM;
  - guidance: the conditional model with DDIM-50 at each guidance scale w
    (w = 0 unconditional, 1 plain conditional), plus one-row-per-class grids.
Writes, beside this file under PRESET/: results.md, results.json,
fid_vs_time.png and guidance_grids.png.
"""

import argparse
import dataclasses
import functools
import json
import pathlib
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import config as config_lib  # noqa: E402  (sets XLA flags before JAX starts)
from jaxgen import plotting  # noqa: E402
from jaxgen import report  # noqa: E402
from jaxgen.experiments import compare  # noqa: E402
from jaxgen.experiments.cli import parse_with_overrides, run_main, study_parser  # noqa: E402
from jaxgen.families import cycling_labels  # noqa: E402
from jaxgen.families.diffusion import samplers  # noqa: E402
from jaxgen.training import sharding  # noqa: E402
from jaxgen.training.fid_eval import FidEvaluator  # noqa: E402
from jaxgen.training.loop import train_and_evaluate  # noqa: E402
from jaxgen.training.runs import load_run  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Budget:
  fid_samples: int
  fid_batch: int  # samples per sampler call and per Inception call
  ddim_steps: Sequence[int]
  etas: Sequence[float]
  solver_steps: Sequence[int]  # for each of samplers.ODE_SOLVERS
  guidance_scales: Sequence[float]


BUDGETS = {
    "cpu": Budget(fid_samples=1000, fid_batch=100, ddim_steps=(10, 20, 50, 100),
                  etas=(0.0, 1.0), solver_steps=(5, 10, 20),
                  guidance_scales=(0.0, 1.0, 2.0, 4.0)),
    "full": Budget(fid_samples=10_000, fid_batch=500, ddim_steps=(10, 20, 50, 100, 1000),
                   etas=(0.0, 0.5, 1.0), solver_steps=(5, 10, 20),
                   guidance_scales=(0.0, 1.0, 2.0, 3.0, 5.0)),
}
MODELS = {"linear": [], "cosine": ["diffusion.schedule=cosine"],
          "conditional": ["conditional=True"]}


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = study_parser(__doc__.splitlines()[0], default_workdir="runs/diffusion_samplers")
  parser.add_argument("--ddim-steps", type=int, nargs="+", default=None,
                      help="DDIM step counts (default: the preset's budget)")
  parser.add_argument("--etas", type=float, nargs="+", default=None,
                      help="DDIM etas (default: the preset's budget)")
  parser.add_argument("--solver-steps", type=int, nargs="+", default=None,
                      help="DPM-Solver++ step counts (default: the preset's budget)")
  parser.add_argument("--guidance-scales", type=float, nargs="+", default=None,
                      help="guidance scales w (default: the preset's budget)")
  args, args.overrides = parse_with_overrides(parser, argv)
  return args


def train(name: str, args: argparse.Namespace) -> pathlib.Path:
  """Trains (or reuses) one model; returns its workdir."""
  config = config_lib.get_config("ddpm", "mnist", args.preset)
  overrides = [*args.overrides, *MODELS[name]]
  if args.train_steps:
    overrides.append(f"num_steps={args.train_steps}")
  config_lib.apply_overrides(config, overrides)
  run_dir = pathlib.Path(args.workdir) / args.preset / name
  if not compare.finished(run_dir, config):
    train_and_evaluate(config, run_dir, data_dir=args.data_dir)
  return run_dir


class Sampling:
  """One trained model's sampler settings, each timed and scored by FID."""

  def __init__(self, run_dir: pathlib.Path, evaluator: FidEvaluator):
    self.config, self.family, state = load_run(str(run_dir))
    self.mesh = sharding.make_mesh()
    self.params = jax.device_put(self.family.sampling_params(state),
                                 sharding.replicated(self.mesh))
    self.evaluator = evaluator
    batch = evaluator.extractor.batch_size
    self.labels = (cycling_labels(batch, self.family.spec.num_classes)
                   if self.config.conditional else None)
    self.scores: Dict[tuple, Dict[str, float]] = {}

  def score(self, **options: Any) -> Dict[str, float]:
    """FID and the sampler's images/s for sampler options (see
    DiffusionFamily.sample_with_trajectory); a setting already scored is reused."""
    key = tuple(sorted(options.items()))
    if key not in self.scores:
      self.scores[key] = self._score(options)
    return self.scores[key]

  def _score(self, options: Dict[str, Any]) -> Dict[str, float]:
    batch = self.evaluator.extractor.batch_size
    rng = jax.random.PRNGKey(0)
    draw = sharding.batch_parallel(lambda rng: self.family.sample_with_trajectory(
        self.params, rng, batch, self.labels, **options)[0], self.mesh).lower(rng).compile()
    sampling_seconds = 0.0

    def timed_draw(rng: jax.Array) -> jax.Array:
      nonlocal sampling_seconds
      start = time.perf_counter()
      images = jax.block_until_ready(draw(rng))
      sampling_seconds += time.perf_counter() - start
      return images

    metrics = self.evaluator(timed_draw, rng)
    drawn = -(-self.evaluator.num_samples // batch) * batch
    return {"fid": metrics["fid"], "images/s": drawn / sampling_seconds}

  def class_grid(self, guidance_scale: float, steps: int) -> np.ndarray:
    """[100, H, W, C] DDIM samples, ten per class, class c in row c."""
    labels = jnp.repeat(jnp.arange(10), 10)
    samples, _ = sharding.batch_parallel(functools.partial(
        self.family.sample_with_trajectory, num=100, sampler="ddim", steps=steps, eta=0.0,
        guidance_scale=guidance_scale), self.mesh)(self.params, jax.random.PRNGKey(2),
                                                   labels=labels)
    return np.asarray(samples)


def main(argv: Optional[Sequence[str]] = None) -> None:
  start = time.perf_counter()
  args = parse_args(argv)
  budget = dataclasses.replace(
      BUDGETS[args.preset], **{k: getattr(args, k) for k in (
          "ddim_steps", "etas", "solver_steps", "guidance_scales") if getattr(args, k)})
  out = pathlib.Path(args.out) if args.out else HERE / args.preset
  out.mkdir(parents=True, exist_ok=True)
  runs = {name: train(name, args) for name in MODELS}
  config = config_lib.get_config("ddpm", "mnist", args.preset)
  config.fid.batch_size = budget.fid_batch
  config_lib.apply_overrides(config, args.overrides)
  config.fid.num_samples = args.fid_samples or budget.fid_samples
  evaluator = FidEvaluator.from_config(config, data_dir=args.data_dir,
                                       inception_weights_path=args.inception_weights)
  rows: List[Dict[str, Any]] = []

  def record(table: str, model: Sampling, label: str, **options: Any) -> None:
    row = {"table": table, "setting": label, **model.score(**options)}
    rows.append(row)
    print(f"{table}: {label}: {report.format_metrics({k: row[k] for k in ('fid', 'images/s')})}",
          file=sys.stderr)

  linear = Sampling(runs["linear"], evaluator)
  timesteps = linear.config.diffusion.timesteps
  fixed = min(50, timesteps)  # DDIM steps for the schedule and guidance tables
  record("samplers", linear, f"ddpm-{timesteps}", sampler="ddpm")
  for steps in budget.ddim_steps:
    for eta in budget.etas:
      record("samplers", linear, f"ddim-{steps} eta={eta:g}", sampler="ddim", steps=steps,
             eta=eta)
  for solver in samplers.ODE_SOLVERS:
    for steps in budget.solver_steps:
      record("samplers", linear, f"{solver}-{steps}", sampler=solver, steps=steps)
  cosine = Sampling(runs["cosine"], evaluator)
  for name, model in (("linear", linear), ("cosine", cosine)):
    record("schedules", model, f"{name} ddim-{fixed}", sampler="ddim", steps=fixed,
           eta=0.0)
    record("schedules", model, f"{name} ddpm-{timesteps}", sampler="ddpm")
  conditional = Sampling(runs["conditional"], evaluator)
  grids = {}
  for scale in budget.guidance_scales:
    record("guidance", conditional, f"w={scale:g}", sampler="ddim", steps=fixed,
           eta=0.0, guidance_scale=scale)
    grids[f"w = {scale:g}"] = conditional.class_grid(scale, fixed)

  trained = {name: {k: json.loads((run_dir / "summary.json").read_text())[k]
                    for k in ("steps", "train_seconds")} for name, run_dir in runs.items()}
  write_results(rows, trained, config.fid.num_samples, evaluator.extractor.batch_size,
                evaluator.reference.name, time.perf_counter() - start, out)
  plotting.save_sample_panels(grids, out / "guidance_grids.png", "mnist")


def write_results(rows: Sequence[Dict[str, Any]], trained: Dict[str, Dict[str, float]],
                  fid_samples: int, batch: int, reference: str, wall_seconds: float,
                  out: pathlib.Path) -> None:
  """results.md (three tables), results.json and fid_vs_time.png; `trained`
  holds each model's steps and train_seconds."""
  models = ", ".join(f"{name} {t['steps']} steps in "
                     f"{report.format_value('train_seconds', t['train_seconds'])} s"
                     for name, t in trained.items())
  lines = [f"# Diffusion samplers on MNIST, preset {out.name}", "",
           f"Measured on {report.hardware()} with `{report.command_line()}`. FID of "
           f"{fid_samples} samples against {reference}; images/s of the sampler alone "
           f"(batches of {batch}, compiled). Models: {models} (trained by this command or "
           f"an earlier one with the same workdir). Wall time of this command: "
           f"{report.format_value('wall_seconds', wall_seconds)} s.", ""]
  for table in ("samplers", "schedules", "guidance"):
    lines += [f"## {table}", "", "| setting | FID | images/s |", "|---|---|---|"]
    lines += [f"| {r['setting']} | {report.format_value('fid', r['fid'])} | "
              f"{report.format_value('images/s', r['images/s'])} |"
              for r in rows if r["table"] == table]
    lines.append("")
  (out / "results.md").write_text("\n".join(lines))
  report.write_json(out / "results.json", {
      "hardware": report.hardware(), "command": report.command_line(),
      "fid_samples": fid_samples, "reference": reference, "models": trained,
      "wall_seconds": wall_seconds, "rows": list(rows)})
  plotting.save_fid_against_seconds(
      [(r["setting"], 1000 / r["images/s"], r["fid"]) for r in rows if r["table"] == "samplers"],
      out / "fid_vs_time.png", fid_samples)


if __name__ == "__main__":
  sys.exit(run_main(main))
