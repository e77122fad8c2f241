"""Loss weighting at the cpu preset: the v target with or without Min-SNR-gamma.

Trains the headline model (`python -m jaxgen.experiments.run --model ddim`, the
`cpu` preset at the batch and steps of the time, 64 and 1000) once per loss
weighting and seed, draws 1,000 samples of each run with the preset's own
sampler (guided DDIM-50, eta = 1, w = 3) and scores them as headline_fid.py
does (FID-1k against the MNIST test split, the digit classifier). Runs and samples found in --workdir are reused. Adds a row
per run to `weighting.json` here (every number with the commands that made it).

  python experiments/diffusion_cpu/weighting.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/weighting --weightings none min_snr --seeds 0 1
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import (BATCH_64_PRESET, open_results, study_parser,  # noqa: E402
                          train_and_score)
from jaxgen import report  # noqa: E402


def main():
  parser = study_parser(__doc__.splitlines()[0], "runs/weighting", "weighting.json")
  parser.add_argument("--weightings", nargs="+", default=["none", "min_snr"])
  args = parser.parse_args()
  results = open_results(args)
  for weighting in args.weightings:
    for seed in args.seeds:
      workdir = pathlib.Path(args.workdir) / f"{weighting}_s{seed}"
      results["runs"][f"v, {weighting}, seed {seed}"] = train_and_score(
          workdir, [*BATCH_64_PRESET, f"--config.diffusion.loss_weighting={weighting}",
                    f"--config.seed={seed}"], args)
      report.write_json(pathlib.Path(args.out), results)  # each run as it lands
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
