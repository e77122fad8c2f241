"""How much of a diffusion model's FID on MNIST is faint background haze.

Real MNIST digits sit on a background of exact zeros; a briefly trained
diffusion model's samples sit on a haze of a few grey levels. For each samples
file (the sample command's .npz, uint8 in [0, 255]), writes the fraction of
pixels at 0 and at 1-7 of 255 beside the real train images', and the FID-1k and
digit-classifier scores of the samples with every pixel below --threshold set to
0, scored as headline_fid.py does. A diagnostic of the metric, not a sampler:
jaxgen's samplers never do this. Writes `haze.json` here.

  python experiments/diffusion_cpu/haze.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      runs/learning_curve/ddim-50-eta0-w3.npz runs/learning_curve/dpm_solver++-20-w3.npz
"""

import argparse
import pathlib
import sys
from typing import Dict

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import HERE, fid_of  # noqa: E402
from jaxgen import data, report  # noqa: E402


def background(images: np.ndarray) -> Dict[str, float]:
  """images: uint8 [N, ...]. Fractions of pixels at 0 and at 1-7 of 255."""
  return {"pixels at 0": float(np.mean(images == 0)),
          "pixels at 1-7": float(np.mean((images >= 1) & (images <= 7)))}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--threshold", type=int, default=8,
                      help="pixels below it (of 255) are set to 0")
  parser.add_argument("--out", default=str(HERE / "haze.json"))
  parser.add_argument("samples", nargs="+", help="the sample command's .npz files")
  args = parser.parse_args()
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  real = data.load("mnist", "train", args.data_dir).x[:1000]  # uint8
  results = {"command": report.command_line(), "hardware": report.hardware(),
             "threshold": args.threshold, "reference": args.reference_stats,
             "real: mnist:train[:1000]": background(real), "samples": {}}
  for path in map(pathlib.Path, args.samples):
    with np.load(path) as arrays:
      samples = arrays["samples"]
    dehazed = path.with_name(f"{path.stem}-below{args.threshold}to0.npz")
    np.savez(dehazed, samples=np.where(samples < args.threshold, 0, samples))
    record = fid_of([str(dehazed)], args, dehazed.with_suffix(".json"))
    results["samples"][str(path)] = {**background(samples),
                                     "with the haze set to 0": record}
    report.write_json(pathlib.Path(args.out), results)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
