"""MNIST / Fashion-MNIST through tensorflow-datasets, when no data dir is given.

A dataset already prepared in the tfds data dir is read with
`tfds.data_source` (array_record; needs no tensorflow). Otherwise tfds would
have to download and prepare it, which needs tensorflow and the network; both
are checked first, because tfds's downloader hangs for minutes offline.
"""

import importlib.util
import pathlib
import socket
import threading
from typing import Optional, Sequence, Tuple

import numpy as np

from jaxgen.errors import UsageError

# Where tfds downloads each dataset from (the URLs in its builders).
DOWNLOAD_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist":
        ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
}
_CONNECT_TIMEOUT_S = 3.0


def load_split(
    name: str, split: str, tfds_data_dir: Optional[pathlib.Path] = None,
) -> Tuple[np.ndarray, np.ndarray]:
  """Reads split `split` of tfds dataset `name`, preparing it if it can.

  Returns:
    images: uint8 [N, 28, 28, 1] in [0, 255].
    labels: int32 [N] in [0, 9].
  """
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  if not tfds.builder(name, data_dir=tfds_data_dir).is_prepared():
    _check_can_prepare(name)
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


def _check_can_prepare(name: str) -> None:
  host, port = DOWNLOAD_HOSTS[name]
  if not tensorflow_installed():
    reason = "tensorflow is not installed"
  elif not can_connect(host, port):
    reason = f"{host} is unreachable"
  else:
    return
  raise UsageError(
      f"{name}: no local copy and no way to download it ({reason}); pass "
      "--data-dir DIR (a folder with the IDX .gz files, e.g. ../shared/data) "
      "or set JAXGEN_DATA_DIR, or install tensorflow and connect to the "
      "network for tensorflow-datasets")
