"""Datasets by name: MNIST, Fashion-MNIST and synthetic 2-D Gaussian mixtures.

Images come from, in order: the `data_dir` argument, `$JAXGEN_DATA_DIR`,
tensorflow-datasets where it has the data or can prepare it (it needs
TensorFlow for that), else the IDX .gz files downloaded once into
`$JAXGEN_CACHE_DIR/data` (`download.py`). A data dir holds the IDX .gz files
directly or in `mnist/` and `fashion-mnist/` (or `fashion_mnist/`)
sub-folders, so both `../shared/data` and `../shared/data/mnist` work.
Mixtures are generated.
"""

import dataclasses
import os
import pathlib
from typing import Optional

import numpy as np

from jaxgen.data import download
from jaxgen.data import idx
from jaxgen.data import mixtures
from jaxgen.data import tfds_source
from jaxgen.errors import UsageError

DATA_DIR_ENV = "JAXGEN_DATA_DIR"
SPLITS = ("train", "test")
_IMAGE_DATASETS = ("mnist", "fashion_mnist")


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
  """One split of a dataset, held in memory.

  Attributes:
    name: 'mnist', 'fashion_mnist', 'gmm_ring8' or 'gmm_grid25'.
    split: 'train' or 'test'.
    x: images uint8 [N, H, W, C] in [0, 255], or points float32 [N, 2].
    labels: int32 [N], the class (images) or mixture component (points).
    num_classes: 10 for images, the number of modes K for mixtures.
  """
  name: str
  split: str
  x: np.ndarray
  labels: np.ndarray
  num_classes: int

  @property
  def is_image(self) -> bool:
    return self.x.ndim == 4


def names() -> list[str]:
  return sorted(_IMAGE_DATASETS + tuple(mixtures.names()))


def is_image_dataset(name: str) -> bool:
  """True for image datasets, False for 2-D point mixtures."""
  return name in _IMAGE_DATASETS


def load(name: str, split: str = "train",
         data_dir: Optional[str] = None) -> Dataset:
  """Loads split `split` of dataset `name` (see the module docstring)."""
  if name not in names():
    raise UsageError(
        f"unknown dataset {name!r}; choose one of: {', '.join(names())}")
  if split not in SPLITS:
    raise UsageError(
        f"unknown split {split!r} for {name}; choose one of: "
        f"{', '.join(SPLITS)}")
  if name in _IMAGE_DATASETS:
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if data_dir:
      images, labels = idx.load_split(pathlib.Path(data_dir).expanduser(), name, split)
    elif tfds_source.can_load(name):
      images, labels = tfds_source.load_split(name, split)
    else:
      images, labels = idx.load_split(download.ensure_files(name), name, split)
    return Dataset(name, split, images, labels, num_classes=10)
  points, components = mixtures.load_split(name, split)
  return Dataset(name, split, points, components,
                 num_classes=mixtures.get_mixture(name).num_modes)
