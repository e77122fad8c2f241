"""Images/s of the FID feature extractor at a few batch sizes.

  python scripts/measure_inception_throughput.py \
      --weights ../shared/data/fid_inception/default_1.pt --batch-sizes 16 64

For each batch size: the first call (compilation included), then as many calls
as fit in --seconds on random 28x28 uint8 images, reported as images/s
(with --out, also into a JSON file with the command and hardware).
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import jaxgen  # noqa: E402,F401  (sets XLA flags before JAX starts)
from jaxgen import report  # noqa: E402
from jaxgen.metrics import inception_weights  # noqa: E402
from jaxgen.metrics.features import FeatureExtractor  # noqa: E402
import numpy as np  # noqa: E402


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--weights", required=True, help="default_1.pt or pytorch-fid's .pth")
  parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
  parser.add_argument("--seconds", type=float, default=20.0)
  parser.add_argument("--out", default=None, metavar="JSON")
  args = parser.parse_args()
  params = inception_weights.load_inception_params(args.weights)
  print(f"on {report.hardware()}")
  rows = []
  for batch_size in args.batch_sizes:
    extractor = FeatureExtractor(params, batch_size=batch_size)
    images = np.random.default_rng(0).integers(0, 256, (batch_size, 28, 28, 1), np.uint8)
    start = time.perf_counter()
    extractor(images)
    first = time.perf_counter() - start
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds:
      extractor(images)
      count += batch_size
    rate = count / (time.perf_counter() - start)
    print(f"batch {batch_size}: first call {first:.1f} s, "
          f"{report.format_metrics({'images/s': rate})}", flush=True)
    rows.append({"batch_size": batch_size, "first_call_seconds": first, "images/s": rate})
  if args.out:
    report.write_json(args.out, {"command": report.command_line(),
                                 "hardware": report.hardware(), "rows": rows})


if __name__ == "__main__":
  main()
