"""MNIST / Fashion-MNIST through tensorflow-datasets, when no data dir is given.

A dataset already prepared in the tfds data dir is read with
`tfds.data_source` (array_record; needs no tensorflow). Preparing it needs
tensorflow and the network; both are checked first (`can_load`), because tfds's
downloader hangs for minutes offline, and without them the data comes from
`download.py` instead.
"""

import importlib.util
import logging
import pathlib
import socket
import threading
from typing import Optional, Sequence, Tuple

import numpy as np


# Where tfds downloads each dataset from (the URLs in its builders).
DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist":
        ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
}
_CONNECT_TIMEOUT_S = 3.0


def can_load(name: str, tfds_data_dir: Optional[pathlib.Path] = None) -> bool:
  """Whether tfds has dataset `name` prepared, or can prepare it: tensorflow is
  installed and tfds's download host answers within 3 s."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  absl_log = logging.getLogger("absl")
  level = absl_log.level
  absl_log.setLevel(logging.ERROR)  # tfds warns that the data it looks for is absent
  try:
    if tfds.builder(name, data_dir=tfds_data_dir).is_prepared():
      return True
  finally:
    absl_log.setLevel(level)
  return tensorflow_installed() and can_connect(*DOWNLOAD_HOSTS[name])


def load_split(
    name: str, split: str, tfds_data_dir: Optional[pathlib.Path] = None,
) -> Tuple[np.ndarray, np.ndarray]:
  """Reads split `split` of tfds dataset `name`, preparing it first if it must
  (see `can_load`).

  Returns:
    images: uint8 [N, 28, 28, 1] in [0, 255].
    labels: int32 [N] in [0, 9].
  """
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  source = tfds.data_source(
      name, split=split, data_dir=tfds_data_dir,
      download_and_prepare_kwargs={"file_format": "array_record"})
  return records_to_arrays([source[i] for i in range(len(source))])


def records_to_arrays(
    records: Sequence[dict]) -> Tuple[np.ndarray, np.ndarray]:
  """`[{'image': uint8 [28, 28, 1], 'label': int}, ...]` -> (images, labels)."""
  images = np.stack([r["image"] for r in records]).astype(np.uint8)
  labels = np.array([r["label"] for r in records], np.int32)
  return images, labels


def can_connect(host: str, port: int) -> bool:
  """Whether a TCP connection opens within 3 s (DNS included)."""
  opened = []

  def connect():
    try:
      socket.create_connection((host, port), _CONNECT_TIMEOUT_S).close()
      opened.append(True)
    except OSError:
      pass

  thread = threading.Thread(target=connect, daemon=True)
  thread.start()
  thread.join(_CONNECT_TIMEOUT_S)
  return bool(opened)


def tensorflow_installed() -> bool:
  return importlib.util.find_spec("tensorflow") is not None
