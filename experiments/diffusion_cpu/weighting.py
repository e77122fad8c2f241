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

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import BATCH_64_PRESET, HERE, NUM, train_and_score  # noqa: E402
from jaxgen import report  # noqa: E402


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/weighting")
  parser.add_argument("--weightings", nargs="+", default=["none", "min_snr"])
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
  parser.add_argument("--out", default=str(HERE / "weighting.json"))
  args = parser.parse_args()
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  results_path = pathlib.Path(args.out)
  results = (json.loads(results_path.read_text()) if results_path.is_file()
             else {"commands": [], "runs": {}})
  results["commands"].append(report.command_line())
  results.update({"hardware": report.hardware(), "reference": args.reference_stats,
                  "samples": NUM})
  for weighting in args.weightings:
    for seed in args.seeds:
      workdir = pathlib.Path(args.workdir) / f"{weighting}_s{seed}"
      results["runs"][f"v, {weighting}, seed {seed}"] = train_and_score(
          workdir, [*BATCH_64_PRESET, f"--config.diffusion.loss_weighting={weighting}",
                    f"--config.seed={seed}"], args)
      report.write_json(results_path, results)  # each run as it lands
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
