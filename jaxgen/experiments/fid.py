"""FID (and KID, precision, recall) between two image sets, as pytorch-fid.

  python -m jaxgen.experiments.fid mnist:test mnist:train \
      --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt
  python -m jaxgen.experiments.fid samples.npz train_stats.npz --out fid.json
  python -m jaxgen.experiments.fid mnist:train --save-stats mnist_train.npz
  python -m jaxgen.experiments.fid samples.npz mnist:test --classifier mnist

Each input is a folder of images (read as RGB, like pytorch-fid), an .npz of
uint8 images [N, H, W(, C)] (key `images` or its only array), a dataset split
`name:split` or its first N images `name:split[:N]`, or an .npz of statistics with pytorch-fid's keys `mu`, `sigma`
(files are interchangeable with pytorch-fid's `--save-stats`).

It also reports precision, recall, density and coverage (k = 5) of A (the
generated set) against B (the real one), on the same seeded subsets of at most
10,000 features per input that KID uses: an image input's own, or those a
statistics file written by `--save-stats` holds; where an input is statistics
without features (pytorch-fid's), the output says they were left out. `--classifier mnist`
(or fashion_mnist) adds the digit classifier's class metrics of A's images
(`jaxgen.metrics.classifier`).
"""

import argparse
import dataclasses
import pathlib
import re
import sys
import zipfile
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from jaxgen import data
from jaxgen import report
from jaxgen.errors import UsageError
from jaxgen.experiments.cli import (ArgumentParser, add_process_flags, run_main,
                                    start_processes)
from jaxgen.metrics import fid as fid_lib
from jaxgen.metrics import inception_weights
from jaxgen.metrics import kid as kid_lib
from jaxgen.metrics import prdc as prdc_lib
from jaxgen.metrics.classifier import DATASETS, classifier_metrics, load_classifier
from jaxgen.metrics.features import FeatureExtractor
from jaxgen.training import distributed, runs

# pytorch-fid's IMAGE_EXTENSIONS.
IMAGE_EXTENSIONS = {".bmp", ".jpg", ".jpeg", ".pgm", ".png", ".ppm", ".tif",
                    ".tiff", ".webp"}
_INPUT_HELP = ("a folder of images, an .npz of uint8 images or of mu/sigma "
               "statistics, or a dataset split such as mnist:train or mnist:train[:1000]")


@dataclasses.dataclass
class Input:
  """One side of the comparison: images to stream, or ready statistics."""
  spec: str
  num_images: Optional[int]
  batches: Optional[Callable[[int], Iterator[np.ndarray]]] = None
  stats: Optional[Tuple[np.ndarray, np.ndarray]] = None
  features: Optional[np.ndarray] = None     # [N, 2048] a statistics file's subset


def _array_batches(images: np.ndarray) -> Callable[[int], Iterator[np.ndarray]]:
  return lambda size: (images[i:i + size] for i in range(0, len(images), size))


def _image_array_input(spec: str, images: np.ndarray) -> Input:
  if images.dtype != np.uint8 or images.ndim not in (3, 4) or (
      images.ndim == 4 and images.shape[-1] not in (1, 3)):
    raise UsageError(f"{spec} holds {images.dtype} {images.shape}; expected "
                     "uint8 images [N, H, W] or [N, H, W, 1|3]")
  return Input(spec, len(images), batches=_array_batches(images))


def _folder_input(spec: str, folder: pathlib.Path) -> Input:
  files = sorted(p for p in folder.iterdir()
                 if p.suffix.lower() in IMAGE_EXTENSIONS)
  if not files:
    raise UsageError(f"no images in {folder}; expected files ending in "
                     f"{', '.join(sorted(IMAGE_EXTENSIONS))}")

  def batches(size: int) -> Iterator[np.ndarray]:
    for i in range(0, len(files), size):
      images = []
      for file in files[i:i + size]:
        try:
          with Image.open(file) as image:
            images.append(np.asarray(image.convert("RGB")))
        except (OSError, ValueError) as error:  # PIL's UnidentifiedImageError is an OSError
          raise UsageError(f"cannot read the image {file} ({error}); remove or "
                           "replace it") from None
      if len({x.shape for x in images}) > 1:
        raise UsageError(f"images in {folder} differ in size; resize them to "
                         "one size first")
      yield np.stack(images)
  return Input(spec, len(files), batches=batches)


def _npz_input(spec: str, path: pathlib.Path) -> Input:
  try:
    with np.load(path) as arrays:
      keys = list(arrays.keys())
      if "mu" in keys and "sigma" in keys:
        stats = fid_lib.load_stats(path)
        return Input(spec, None, stats=(stats.mu, stats.sigma), features=stats.features)
      # jaxgen's samples files (the grid's .npz), the usual name, or a lone array.
      for key in (runs.SAMPLES_KEY, "images") + (tuple(keys) if len(keys) == 1 else ()):
        if key in keys:
          return _image_array_input(spec, arrays[key])
  except (OSError, ValueError, zipfile.BadZipFile) as error:  # not an npz; pickled objects
    raise UsageError(f"cannot read {path} as an .npz of numeric arrays ({error}); pass "
                     f"{_INPUT_HELP}") from None
  raise UsageError(f"{path} has arrays {keys}; expected 'mu' and 'sigma', "
                   f"'{runs.SAMPLES_KEY}', 'images', or a single uint8 image array")


def open_input(spec: str, data_dir: Optional[str]) -> Input:
  """Parses one input argument (see the module docstring)."""
  path = pathlib.Path(spec).expanduser()
  if path.is_dir():
    return _folder_input(spec, path)
  if path.is_file():
    if path.suffix != ".npz":
      raise UsageError(f"{spec} is not an .npz file; pass {_INPUT_HELP}")
    return _npz_input(spec, path)
  name, sep, split = spec.partition(":")
  if not sep:
    raise UsageError(f"{spec} not found; pass {_INPUT_HELP}")
  split, count = _split_and_count(spec, split)
  dataset = data.load(name, split, data_dir)
  if not dataset.is_image:
    raise UsageError(f"{spec} is not an image dataset; FID compares images")
  if count is not None and not 2 <= count <= len(dataset.x):
    raise UsageError(f"{spec} asks for {count} images, but {name}:{split} has "
                     f"{len(dataset.x)}; pass 2 to {len(dataset.x)}")
  return _image_array_input(spec, dataset.x[:count])


def _split_and_count(spec: str, split: str) -> Tuple[str, Optional[int]]:
  """"train" -> ("train", None); "train[:1000]" -> ("train", 1000)."""
  match = re.fullmatch(r"(\w+)(?:\[:(\d+)\])?", split)
  if not match:
    raise UsageError(f"bad split {split!r} in {spec}; write NAME:SPLIT or NAME:SPLIT[:N]")
  return match.group(1), int(match.group(2)) if match.group(2) else None


def input_statistics(source: Input, extractor: FeatureExtractor,
                     reservoir: Optional[kid_lib.FeatureReservoir]
                     ) -> Tuple[np.ndarray, np.ndarray]:
  """mu [2048], sigma [2048, 2048] of `source`, filling `reservoir` if given."""
  if source.stats is not None:
    return source.stats
  return fid_lib.image_statistics(source.batches(extractor.batch_size), extractor,
                                  reservoir, source.spec, source.num_images)


def precision_recall(sources: Sequence[Input],
                     features: Sequence[Optional[np.ndarray]]) -> Dict[str, Any]:
  """Precision, recall, density, coverage of A against B (`features` [N, 2048]
  of each, None for statistics without them), or why they are left out."""
  for source, rows in zip(sources, features):
    if rows is None:
      return {"prdc": f"left out ({source.spec} holds statistics without features)"}
    if len(rows) <= prdc_lib.NEAREST_K:
      return {"prdc": f"left out ({source.spec} has {len(rows)} feature rows; "
                      f"k = {prdc_lib.NEAREST_K} needs more)"}
  generated, real = features
  return prdc_lib.prdc(real, generated)


def class_metrics(source: Input, dataset: str) -> Dict[str, Any]:
  """The digit classifier's metrics of `source`'s images: 28x28, grey or RGB
  with equal channels (as an image folder of grey digits is read)."""
  if source.stats is not None:
    raise UsageError(f"--classifier needs images, but {source.spec} holds statistics; "
                     "pass images or drop --classifier")
  images = np.concatenate(list(source.batches(1000)))
  if images.ndim == 4 and images.shape[-1] == 3:
    images = images.mean(axis=-1).round().astype(np.uint8)
  images = images.reshape(images.shape[:3] + (1,)) if images.ndim == 3 else images
  if images.shape[1:] != (28, 28, 1):
    raise UsageError(f"--classifier scores 28x28 digits, but {source.spec} holds images "
                     f"of shape {list(images.shape[1:])}; drop --classifier")
  return classifier_metrics(images, load_classifier(dataset))


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(
      prog="python -m jaxgen.experiments.fid",
      description=__doc__.splitlines()[0])
  parser.add_argument("inputs", nargs="+", metavar="INPUT",
                      help=f"one or two inputs (generated, then real): {_INPUT_HELP}")
  parser.add_argument("--save-stats", nargs="+", metavar="OUT.npz",
                      help="write each input's mu/sigma and, for images, a seeded "
                      "subset of up to 10,000 features (KID and precision/recall "
                      "of runs that use the file), one path per input")
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--inception-weights", metavar="PATH",
                      help="default_1.pt or pytorch-fid's .pth (default: "
                      f"${inception_weights.ENV_VAR} or the cache)")
  parser.add_argument("--data-dir", help="folder with the dataset files")
  parser.add_argument("--kid", action="store_true",
                      help="also KID (needs images, not statistics)")
  parser.add_argument("--classifier", choices=DATASETS,
                      help="also score the first input's images with this dataset's "
                      "digit classifier (confident fraction, classes covered, class KL)")
  parser.add_argument("--out", metavar="JSON", help="write the results here")
  add_process_flags(parser)
  return parser.parse_args(argv)


def _check_args(args: argparse.Namespace) -> None:
  if len(args.inputs) > 2:
    raise UsageError(f"got {len(args.inputs)} inputs; pass one or two")
  if len(args.inputs) == 1 and not args.save_stats:
    raise UsageError("one input computes only statistics; pass a second input "
                     "or --save-stats OUT.npz")
  if args.save_stats and len(args.save_stats) != len(args.inputs):
    raise UsageError(f"--save-stats got {len(args.save_stats)} paths for "
                     f"{len(args.inputs)} inputs; pass one path per input")


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  _check_args(args)
  start_processes(args)
  main_process = distributed.is_main_process()
  sources = [open_input(spec, args.data_dir) for spec in args.inputs]
  if args.kid:
    for source in sources:
      if source.stats is not None and source.features is None:
        raise UsageError(f"--kid needs images or statistics with features, but "
                         f"{source.spec} holds statistics only; pass images, a file "
                         "written by --save-stats, or drop --kid")
  record = {"inputs": args.inputs}
  metrics = class_metrics(sources[0], args.classifier) if args.classifier else {}
  extractor = None
  if any(source.stats is None for source in sources):
    weights = inception_weights.resolve_weights_path(args.inception_weights)
    record["inception_weights"] = str(weights)
    extractor = FeatureExtractor(
        inception_weights.load_inception_params(str(weights)),
        batch_size=args.batch_size)
  stats, features = [], []
  for side, source in enumerate(sources):
    reservoir = kid_lib.FeatureReservoir() if source.stats is None else None
    stats.append(input_statistics(source, extractor, reservoir))
    features.append(reservoir.features if reservoir else source.features)
    if args.save_stats and main_process:
      fid_lib.save_stats(pathlib.Path(args.save_stats[side]), *stats[-1],
                         features=features[-1])
    if source.stats is None:
      metrics[f"images_{'ab'[side]}"] = source.num_images
  if len(sources) == 2:
    metrics["fid"] = fid_lib.frechet_distance(*stats[0], *stats[1])
    if args.kid:
      metrics["kid"], metrics["kid_std"] = kid_lib.kid(*features)
    metrics.update(precision_recall(sources, features))
  if extractor is not None:
    metrics["images/s"] = extractor.images_per_second
  if not main_process:
    return
  print(report.format_metrics(metrics))
  if args.out:
    report.write_json(pathlib.Path(args.out), {**record, **metrics})


if __name__ == "__main__":
  sys.exit(run_main(main))
