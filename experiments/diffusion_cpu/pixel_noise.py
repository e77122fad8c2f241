"""How far FID-1k on MNIST moves for pixel noise no eye sees.

Adds Gaussian noise of a few grey levels (std in units of 1/255) to 1,000 MNIST
train images, rounds and clips them back to uint8, and scores each set as
headline_fid.py scores samples (FID against the test split's statistics, the
digit classifier), beside the fractions of pixels at 0 and at 1-7 that haze.py
reports for samples. It tells how precise a generator's last denoising step must
be before FID-1k can approach the real-data floor. Writes `pixel_noise.json` here.

  python experiments/diffusion_cpu/pixel_noise.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/pixel_noise --stds 0.5 1 2 4
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from haze import background  # noqa: E402
from headline_fid import HERE, NUM, fid_of  # noqa: E402
from jaxgen import data, report  # noqa: E402


def with_noise(images: np.ndarray, std: float, seed: int) -> np.ndarray:
  """images: uint8 [N, ...]; the same plus N(0, std^2) grey levels, as uint8."""
  noise = std * np.random.default_rng(seed).standard_normal(images.shape)
  return np.clip(np.round(images + noise), 0, 255).astype(np.uint8)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/pixel_noise")
  parser.add_argument("--stds", type=float, nargs="+", required=True,
                      help="noise standard deviations in grey levels (of 255)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--out", default=str(HERE / "pixel_noise.json"))
  args = parser.parse_args()
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  workdir = pathlib.Path(args.workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  real = data.load("mnist", "train", args.data_dir).x[:NUM]
  results = {"command": report.command_line(), "hardware": report.hardware(),
             "images": f"mnist:train[:{NUM}]", "reference": args.reference_stats,
             "noise std (grey levels)": {}}
  for std in args.stds:
    path = workdir / f"noise{std:g}.npz"
    noisy = with_noise(real, std, args.seed)
    np.savez(path, samples=noisy)
    results["noise std (grey levels)"][f"{std:g}"] = {
        **background(noisy), **fid_of([str(path)], args, path.with_suffix(".json"))}
    report.write_json(pathlib.Path(args.out), results)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
