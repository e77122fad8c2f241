"""Every generative model on gmm_ring8 at one preset, over several seeds.

  python experiments/families_2d/seeds.py --preset cpu --seeds 0,1,2,3,4

For each seed, `jaxgen.experiments.compare.run_models` trains every model with
`--config.seed=SEED` (WORKDIR/PRESET/seedSEED/MODEL_gmm_ring8) and writes its
comparison table under OUT/seeds_PRESET/seedSEED/; then OUT/seeds_PRESET.{md,json}
holds, per model, modes covered and the high-quality fraction of every seed and
their minimum over seeds: the measurement behind the quality floors in
tests/quality/test_floors_2d.py. Extra --config.FIELD=VALUE flags apply to
every model: an ablation of a default (give it its own --workdir and --out).
"""

import argparse
import json
import pathlib
import sys
from typing import Optional, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import report  # noqa: E402  (sets XLA flags before JAX starts)
from jaxgen.experiments import compare  # noqa: E402
from jaxgen.experiments.cli import (ArgumentParser, parse_with_overrides,  # noqa: E402
                                    run_main)

HERE = pathlib.Path(__file__).resolve().parent
DATASET = "gmm_ring8"
MODELS = ("gan", "lsgan", "wgan_gp", "cgan", "vae", "cvae", "ddpm", "ddim")
METRICS = ("modes_covered", "high_quality_fraction")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--preset", default="cpu", choices=("cpu", "full"))
  parser.add_argument("--seeds", default="0,1,2,3,4", help="comma list of seeds")
  parser.add_argument("--models", default=",".join(MODELS), help="comma list of models")
  parser.add_argument("--workdir", default="runs/families_2d_seeds")
  parser.add_argument("--out", default=str(HERE), help="folder for the tables")
  args, args.overrides = parse_with_overrides(parser, argv)
  return args


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  models = compare.parse_models(args.models)
  seeds = [int(seed) for seed in args.seeds.split(",")]
  out = pathlib.Path(args.out) / f"seeds_{args.preset}"
  scores = {model: {} for model in models}
  for seed in seeds:
    rows = compare.run_models(models, DATASET, args.preset,
                              [*args.overrides, f"seed={seed}"],
                              pathlib.Path(args.workdir) / args.preset / f"seed{seed}",
                              table_dir=out / f"seed{seed}")
    for row in rows:
      scores[row["model"]][seed] = {k: row[k] for k in METRICS}
  lowest = {model: {k: min(s[k] for s in by_seed.values()) for k in METRICS}
            for model, by_seed in scores.items()}
  report.write_json(out.with_suffix(".json"), {
      "dataset": DATASET, "preset": args.preset, "seeds": seeds,
      "command": report.command_line(), "hardware": report.hardware(),
      "scores": {m: {str(s): v for s, v in by_seed.items()} for m, by_seed in scores.items()},
      "lowest": lowest})
  lines = [f"# {DATASET}, preset {args.preset}: modes covered / high-quality fraction "
           f"per seed\n", f"Measured on {report.hardware()} with\n"
           f"`{report.command_line()}`.\n",
           "| model | " + " | ".join(f"seed {s}" for s in seeds) + " | lowest |",
           "|---|" + "---|" * (len(seeds) + 1)]
  for model, by_seed in scores.items():
    cells = [f"{by_seed[s]['modes_covered']}/8, "
             f"{report.format_value('high_quality_fraction', by_seed[s]['high_quality_fraction'])}"
             for s in seeds]
    low = lowest[model]
    cells.append(f"{low['modes_covered']}/8, "
                 f"{report.format_value('high_quality_fraction', low['high_quality_fraction'])}")
    lines.append(f"| {model} | " + " | ".join(cells) + " |")
  out.with_suffix(".md").write_text("\n".join(lines) + "\n")
  print(f"jaxgen: seeds table in {out.with_suffix('.md')}", file=sys.stderr)


if __name__ == "__main__":
  sys.exit(run_main(main))
