"""Diffusion training recipes on MNIST: which target, weighting and lr learn digits fastest.

  python experiments/diffusion_recipe/study.py --preset cpu --data-dir ../shared/data

Trains `ddim` once per recipe and seed at the preset, for the preset's number
of steps (--train-steps for all), except the recipes that change the network
or batch: they name their own step count, one that takes about as long to
train. Scores each run's final DDIM samples with the digit classifier
(confident fraction, classes covered, class KL). Extra --config.FIELD=VALUE flags apply to every
recipe, e.g. a smaller network. Runs are reused from --workdir when finished.
Writes results.md and results.json under PRESET/ beside this file (or --out).
"""

import json
import pathlib
import sys
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import config as config_lib  # noqa: E402  (sets XLA flags before JAX starts)
from jaxgen import report  # noqa: E402
from jaxgen.errors import UsageError  # noqa: E402
from jaxgen.experiments import compare  # noqa: E402
from jaxgen.experiments.cli import parse_with_overrides, run_main, study_parser  # noqa: E402
from jaxgen.training.loop import train_and_evaluate  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
METRICS = ("confident_fraction", "classes_covered", "class_kl")
# Recipe name -> config overrides on top of the preset's defaults; each names
# its target and weighting, so the table keeps its meaning when the preset's change.
EPS = ["diffusion.target=eps", "diffusion.loss_weighting=none"]
V_MIN_SNR = ["diffusion.target=v", "diffusion.loss_weighting=min_snr"]
RECIPES = {
    "eps": EPS,
    "eps, cosine lr decay": [*EPS, "optim.decay=cosine"],
    "eps, lr 2e-3, cosine decay": [*EPS, "optim.learning_rate=2e-3", "optim.decay=cosine"],
    "eps, min-snr": ["diffusion.target=eps", "diffusion.loss_weighting=min_snr"],
    "v": ["diffusion.target=v", "diffusion.loss_weighting=none"],
    "v, min-snr": V_MIN_SNR,
    "v, min-snr, lr 2e-3, cosine decay": [
        *V_MIN_SNR, "optim.learning_rate=2e-3", "optim.decay=cosine"],
    "eps, cosine schedule": [*EPS, "diffusion.schedule=cosine"],
    "v, min-snr, lr 2e-3": [*V_MIN_SNR, "optim.learning_rate=2e-3"],
    "v, min-snr, lr 3e-3, cosine decay": [
        *V_MIN_SNR, "optim.learning_rate=3e-3", "optim.decay=cosine"],
    # Network and batch at equal wall time: each step count makes the run train
    # about as long as the cpu preset's 1000 steps (see the README's timing).
    "v, min-snr, no attention, 1250 steps": [
        *V_MIN_SNR, "net.attention_resolutions=()", "num_steps=1250"],
    "v, min-snr, batch 32, 1850 steps": [*V_MIN_SNR, "batch_size=32", "num_steps=1850"],
    "v, min-snr, 2 levels, no attention, batch 32, 2100 steps": [
        *V_MIN_SNR, "net.channel_mults=(1,2)", "net.attention_resolutions=()",
        "batch_size=32", "num_steps=2100"],
    "v, min-snr, 32 channels, 2 levels, no attention, 560 steps": [
        *V_MIN_SNR, "net.channels=32", "net.channel_mults=(1,2)",
        "net.attention_resolutions=()", "num_steps=560"],
}


def parse_args(argv: Optional[Sequence[str]]):
  parser = study_parser(__doc__.splitlines()[0], default_workdir="runs/diffusion_recipe")
  parser.add_argument("--recipes", nargs="+", default=list(RECIPES), metavar="NAME",
                      help=f"recipes to train (default: all): {'; '.join(RECIPES)}")
  parser.add_argument("--seeds", type=int, nargs="+", default=[0])
  parser.add_argument("--samples", type=int, default=256,
                      help="final samples per run that the classifier scores")
  args, args.overrides = parse_with_overrides(parser, argv)
  for recipe in args.recipes:
    if recipe not in RECIPES:
      raise UsageError(f"unknown recipe {recipe!r}; choose from: {'; '.join(RECIPES)}")
  return args


def train(recipe: str, seed: int, args) -> Dict[str, Any]:
  """Trains (or reuses) one recipe at one seed; its summary.json."""
  config = config_lib.get_config("ddim", "mnist", args.preset)
  overrides = [*args.overrides, *RECIPES[recipe], f"seed={seed}",
               f"num_samples={args.samples}"]
  if args.train_steps:
    overrides.append(f"num_steps={args.train_steps}")
  if args.fid_samples is not None:  # the cpu preset logs no FID, the full one 10,000
    overrides.append(f"fid.num_samples={args.fid_samples}")
  config_lib.apply_overrides(config, overrides)
  slug = "".join(c if c.isalnum() else "_" for c in recipe)
  run_dir = pathlib.Path(args.workdir) / args.preset / f"{slug}_seed{seed}"
  if not compare.finished(run_dir, config):
    train_and_evaluate(config, run_dir, data_dir=args.data_dir,
                       inception_weights=args.inception_weights)
  return json.loads((run_dir / "summary.json").read_text())


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  out = pathlib.Path(args.out) if args.out else HERE / args.preset
  out.mkdir(parents=True, exist_ok=True)
  rows: List[Dict[str, Any]] = []
  for recipe in args.recipes:
    for seed in args.seeds:
      summary = train(recipe, seed, args)
      rows.append({"recipe": recipe, "seed": seed, "steps": summary["steps"],
                   "train_seconds": summary["train_seconds"],
                   **{k: summary[k] for k in METRICS}})
      shown = {k: rows[-1][k] for k in ("train_seconds", *METRICS)}
      print(f"{recipe}, seed {seed}: {report.format_metrics(shown)}", file=sys.stderr)
  write_results(rows, args, out)


def write_results(rows: Sequence[Dict[str, Any]], args, out: pathlib.Path) -> None:
  """results.md (one row per recipe and seed) and results.json."""
  lines = [f"# Diffusion recipes on MNIST, preset {args.preset}", "",
           f"Measured on {report.hardware()} with `{report.command_line()}`. "
           f"Classifier metrics of {args.samples} final DDIM samples of each run (trained "
           f"by this command or an earlier one with the same workdir).", "",
           "| recipe | seed | steps | train s | " + " | ".join(METRICS) + " |",
           "|---|---|---|---|" + "---|" * len(METRICS)]
  lines += [f"| {r['recipe']} | {r['seed']} | {r['steps']} | "
            f"{report.format_value('train_seconds', r['train_seconds'])} | "
            + " | ".join(report.format_value(k, r[k]) for k in METRICS) + " |" for r in rows]
  (out / "results.md").write_text("\n".join(lines) + "\n")
  report.write_json(out / "results.json", {
      "hardware": report.hardware(), "command": report.command_line(),
      "overrides": args.overrides, "samples": args.samples,
      "recipes": {name: RECIPES[name] for name in args.recipes},
      "rows": list(rows)})


if __name__ == "__main__":
  sys.exit(run_main(main))
