"""Variants of the cpu preset at equal training cost, scored by FID-1k.

Trains the headline model (`python -m jaxgen.experiments.run --model ddim`, the
`cpu` preset) once per variant and seed, draws 1,000 samples of each run with
the run's own sampler (the preset's guided DDIM-50) from the same noise and
labels, and scores them as headline_fid.py does (FID-1k against the MNIST test
split, the digit classifier). A variant that changes the cost of a train step
trains for as many steps as take the preset's 1000 steps (timed below), the
others for as many as the preset they change (batch 64 for 1000 steps, or
today's, batch 32 for 1750). Runs and samples found in --workdir are reused. Adds a
row per run to `variants.json` here (every number with the commands that made
it).

  python experiments/diffusion_cpu/variants.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/variants --variants preset "ema 0.995, no warm-up" --seeds 0 1
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import (BATCH_64_PRESET, open_results, study_parser,  # noqa: E402
                          train_and_score)
from jaxgen import report  # noqa: E402

# Variant name -> the run command's flags on top of the cpu preset. "preset" is
# the cpu preset before this study, batch 64 for 1000 steps (the study made
# "batch 32, 1750 steps" the preset); the EMA variant changes only its EMA, the
# learning-rate one changes today's preset.
VARIANTS = {
    "preset": BATCH_64_PRESET,
    "ema 0.995, no warm-up": [*BATCH_64_PRESET, "--config.ema_warmup=False"],
    # Cheaper steps, more of them: as many as take the preset's 1000 steps'
    # time (steps/s of each over 150 steps, on the 2-core AMD EPYC: 2.91, 5.13
    # and 6.24).
    "batch 32, 1750 steps": ["--config.batch_size=32", "--config.num_steps=1750"],
    "2 levels, no attention, batch 32, 2150 steps": [
        "--config.batch_size=32", "--config.net.channel_mults=(1,2)",
        "--config.net.attention_resolutions=()", "--config.num_steps=2150"],
    # The learning-rate schedule at today's preset (batch 32, 1750 steps).
    "cosine decay": ["--config.optim.decay=cosine"],
    # The noise schedule at today's preset: the linear schedule spends nearly half
    # of the training timesteps at sigma > 4, the cosine one a sixth.
    "cosine schedule": ["--config.diffusion.schedule=cosine"],
}


def main():
  parser = study_parser(__doc__.splitlines()[0], "runs/variants", "variants.json")
  parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
  args = parser.parse_args()
  results = open_results(args, variants=VARIANTS)
  for variant in args.variants:
    for seed in args.seeds:
      slug = "".join(c if c.isalnum() else "_" for c in variant)
      results["runs"][f"{variant}, seed {seed}"] = {
          "variant": variant, "seed": seed,
          **train_and_score(pathlib.Path(args.workdir) / f"{slug}_s{seed}",
                            [*VARIANTS[variant], f"--config.seed={seed}"], args)}
      report.write_json(pathlib.Path(args.out), results)  # each run as it lands
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
