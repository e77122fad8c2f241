"""MNIST / Fashion-MNIST without TensorFlow: the original IDX .gz files,
downloaded once from their public mirrors into a cache folder and verified
against the sha256 digests `idx.CHECKSUMS` knows.

Used when no data dir is given and tensorflow-datasets cannot prepare the data
(it needs TensorFlow for that). Offline, the first connection fails within
seconds and the error names --data-dir; nothing is retried.
"""

import hashlib
import http.client
import pathlib
import sys
import urllib.request
from typing import Dict

from jaxgen import cache
from jaxgen.data import idx
from jaxgen.errors import UsageError

# The mirrors tensorflow-datasets downloads the same files from.
MIRRORS: Dict[str, str] = {
    "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
TIMEOUT_S = 10.0  # per connection and per read


def cache_dir(dataset: str) -> pathlib.Path:
  """$JAXGEN_CACHE_DIR/data/<dataset> (default ~/.cache/jaxgen/data/<dataset>)."""
  return cache.cache_root() / "data" / dataset


def ensure_files(dataset: str) -> pathlib.Path:
  """The cache folder of `dataset`, holding its four IDX .gz files once each
  has been downloaded (where missing) and its sha256 checked."""
  folder = cache_dir(dataset)
  for name, checksum in idx.CHECKSUMS[dataset].items():
    path = folder / name
    if not path.is_file():
      _download(MIRRORS[dataset] + name, path, checksum.gz)
  return folder


def _download(url: str, path: pathlib.Path, sha256: str) -> None:
  """Fetches `url` to `path` (whole, verified, or not at all)."""
  fix = ("pass --data-dir DIR (a folder with the IDX .gz files, e.g. ../shared/data) "
         "or set JAXGEN_DATA_DIR")
  try:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
      # Said once the host answers, so an offline run's answer stays one line.
      print(f"downloading {url} -> {path}", file=sys.stderr, flush=True)
      data = response.read()
  except (OSError, http.client.HTTPException) as error:  # offline, refused, cut short
    reason = getattr(error, "reason", None) or repr(error)
    raise UsageError(f"cannot download {url} ({reason}); {fix}") from None
  digest = hashlib.sha256(data).hexdigest()
  if digest != sha256:
    raise UsageError(f"{url} sent {len(data)} bytes whose sha256 {digest[:16]}... is not "
                     f"the published {sha256[:16]}... (a corrupt or cut-short download); "
                     f"nothing was kept: rerun to try again, or {fix}")
  path.parent.mkdir(parents=True, exist_ok=True)
  partial = path.with_name(path.name + ".partial")
  partial.write_bytes(data)
  partial.replace(path)
