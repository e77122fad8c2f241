"""Offline reader for the original MNIST / Fashion-MNIST IDX gzip files.

Every file is checked against the sha256 that tfds publishes for the official
`.gz`. Debian's `dataset-fashion-mnist` package rewrites the 10-byte gzip header
(same deflate body, same contents), so when the `.gz` digest differs the digest
of the decompressed bytes is checked instead; both copies pass.

IDX format (http://yann.lecun.com/exdb/mnist/): bytes 0-1 are zero, byte 2 is
the element type, byte 3 the number of dimensions; then one big-endian uint32
per dimension, then the elements in C order, big-endian.
"""

import dataclasses
import gzip
import hashlib
import math
import pathlib
import struct
import zlib
from typing import Sequence, Tuple

import numpy as np

from jaxgen.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Checksum:
  """sha256 hex digests of one published file."""
  gz: str   # The official .gz, byte for byte.
  raw: str  # Its decompressed contents (what any re-gzipped copy must hold).


# dataset -> file -> Checksum(gz, raw). The gz digests are tfds's (also in
# ../shared/data/SOURCES.md); raw is `gzip -dc FILE | sha256sum` of those files.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": Checksum(
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte.gz": Checksum(
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte.gz": Checksum(
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte.gz": Checksum(
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": Checksum(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte.gz": Checksum(
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte.gz": Checksum(
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte.gz": Checksum(
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
}

# Sub-folders of a data dir that may hold each dataset's files.
SUBDIRS = {"mnist": ("mnist",),
           "fashion_mnist": ("fashion-mnist", "fashion_mnist")}

_SPLIT_PREFIX = {"train": "train", "test": "t10k"}

# IDX element type byte -> numpy dtype (big-endian on disk).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
               0x0E: ">f8"}


def parse_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
  """Decodes raw (decompressed) IDX bytes into a native-endian array.

  Raises UsageError, naming `source`, on a bad magic number or a size that
  does not match the header's dims.
  """
  if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_DTYPES:
    raise UsageError(
        f"{source}: not an IDX file (magic {data[:4].hex()}, expected 0000 "
        "then a type byte 08-0e); pass the original *-idx?-ubyte.gz files")
  ndim = data[3]
  header_size = 4 + 4 * ndim
  if ndim == 0 or len(data) < header_size:
    raise UsageError(f"{source}: IDX header with {ndim} dims is cut short; "
                     "the file is corrupt, replace it with the original")
  dims = struct.unpack(f">{ndim}I", data[4:header_size])
  dtype = np.dtype(_IDX_DTYPES[data[2]])
  expected_size = header_size + math.prod(dims) * dtype.itemsize
  if len(data) != expected_size:
    raise UsageError(
        f"{source}: IDX header says shape {dims} ({expected_size} bytes) but "
        f"there are {len(data)} bytes; the file is corrupt, replace it")
  array = np.frombuffer(data, dtype, offset=header_size).reshape(dims)
  return array.astype(dtype.newbyteorder("="))


def read_verified(path: pathlib.Path, checksum: Checksum) -> bytes:
  """Returns the decompressed bytes of `path` once its sha256 checks out."""
  compressed = path.read_bytes()
  digest = hashlib.sha256(compressed).hexdigest()
  if digest == checksum.gz:
    return _gunzip(compressed, path)
  raw = _gunzip(compressed, path)
  raw_digest = hashlib.sha256(raw).hexdigest()
  if raw_digest == checksum.raw:
    return raw
  raise UsageError(
      f"{path}: sha256 {digest} is not the published one, nor are its "
      f"decompressed bytes{_identify(digest, raw_digest)}; replace it with the "
      "original download (see ../shared/data/SOURCES.md)")


def find_dir(root: pathlib.Path, dataset: str,
             filenames: Sequence[str]) -> pathlib.Path:
  """The folder holding `filenames`: `root/<dataset subdir>` or `root`."""
  for folder in [root / sub for sub in SUBDIRS[dataset]] + [root]:
    if all((folder / name).is_file() for name in filenames):
      return folder
  raise UsageError(
      f"{dataset}: {root} does not hold {' and '.join(filenames)} (directly or "
      f"in {'/ or '.join(SUBDIRS[dataset])}/); point the data dir at a folder "
      "with the IDX .gz files, e.g. ../shared/data")


def load_split(root: pathlib.Path, dataset: str,
               split: str) -> Tuple[np.ndarray, np.ndarray]:
  """Reads one split from the IDX files under `root` (see `find_dir`).

  Returns:
    images: uint8 [N, 28, 28, 1] in [0, 255].
    labels: int32 [N] in [0, 9].
  """
  prefix = _SPLIT_PREFIX[split]
  image_file = f"{prefix}-images-idx3-ubyte.gz"
  label_file = f"{prefix}-labels-idx1-ubyte.gz"
  folder = find_dir(pathlib.Path(root), dataset, (image_file, label_file))
  arrays = []
  for name in (image_file, label_file):
    path = folder / name
    arrays.append(parse_idx(read_verified(path, CHECKSUMS[dataset][name]),
                            source=str(path)))
  images, labels = arrays
  if (images.dtype != np.uint8 or images.ndim != 3 or labels.ndim != 1
      or len(images) != len(labels)):
    raise UsageError(
        f"{folder}: images {images.dtype}{list(images.shape)} and labels "
        f"{labels.dtype}{list(labels.shape)} do not pair up; replace the files "
        "with the originals")
  return images[..., None], labels.astype(np.int32)


def _gunzip(compressed: bytes, path: pathlib.Path) -> bytes:
  try:
    return gzip.decompress(compressed)
  except (OSError, EOFError, zlib.error) as e:
    raise UsageError(f"{path}: not a valid gzip file ({e}); replace it with "
                     "the original download") from e


def _identify(digest: str, raw_digest: str) -> str:
  """`' (it is mnist/t10k-...)'` when the digests are another known file's."""
  for dataset, files in CHECKSUMS.items():
    for name, checksum in files.items():
      if digest == checksum.gz or raw_digest == checksum.raw:
        return f" (it is {dataset}/{name})"
  return ""
