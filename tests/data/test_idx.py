"""IDX parsing and checksum verification (jaxgen/data/idx.py)."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from jaxgen.data import idx
from jaxgen.errors import UsageError


def _idx_bytes(array: np.ndarray, type_byte: int) -> bytes:
  header = bytes([0, 0, type_byte, array.ndim])
  header += struct.pack(f">{array.ndim}I", *array.shape)
  return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _checksum_of(raw: bytes) -> idx.Checksum:
  gz = hashlib.sha256(gzip.compress(raw, mtime=0)).hexdigest()
  return idx.Checksum(gz=gz, raw=hashlib.sha256(raw).hexdigest())


def test_parse_idx_reads_header_dims_and_values():
  images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
  parsed = idx.parse_idx(_idx_bytes(images, 0x08))
  assert parsed.dtype == np.uint8 and parsed.shape == (3, 4, 5)
  np.testing.assert_array_equal(parsed, images)


def test_parse_idx_reads_big_endian_int32():
  values = np.array([1, -2, 70000], np.int32)
  parsed = idx.parse_idx(_idx_bytes(values, 0x0C))
  assert parsed.dtype == np.int32
  np.testing.assert_array_equal(parsed, values)


@pytest.mark.parametrize("data", [
    b"\x00\x00\x08",                       # Too short for a magic number.
    b"\x01\x00\x08\x01\x00\x00\x00\x00",   # Non-zero leading byte.
    b"\x00\x00\x07\x01\x00\x00\x00\x00",   # Unknown type byte.
])
def test_parse_idx_rejects_bad_magic(data):
  with pytest.raises(UsageError, match="not an IDX file"):
    idx.parse_idx(data, source="bad.idx")


def test_parse_idx_rejects_size_mismatch():
  data = _idx_bytes(np.zeros((2, 3), np.uint8), 0x08)
  with pytest.raises(UsageError, match=r"bad\.idx: IDX header says shape"):
    idx.parse_idx(data[:-1], source="bad.idx")


def test_read_verified_accepts_published_and_reheadered_gz(tmp_path):
  raw = _idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
  checksum = _checksum_of(raw)
  path = tmp_path / "file.gz"
  path.write_bytes(gzip.compress(raw, mtime=0))
  assert idx.read_verified(path, checksum) == raw
  # A different gzip header (as in Debian's copies) fails the .gz digest but
  # passes on the decompressed bytes.
  path.write_bytes(gzip.compress(raw, mtime=1591315200))
  assert idx.read_verified(path, checksum) == raw


def test_read_verified_rejects_checksum_mismatch(tmp_path):
  checksum = _checksum_of(b"expected contents")
  path = tmp_path / "train-labels-idx1-ubyte.gz"
  path.write_bytes(gzip.compress(b"other contents"))
  with pytest.raises(UsageError, match=r"train-labels-idx1-ubyte\.gz: sha256 .*"
                     r"replace it with the original"):
    idx.read_verified(path, checksum)


def test_read_verified_rejects_non_gzip(tmp_path):
  path = tmp_path / "file.gz"
  path.write_bytes(b"not gzip at all")
  with pytest.raises(UsageError, match="not a valid gzip file"):
    idx.read_verified(path, _checksum_of(b""))


def test_debian_style_header_passes_on_real_file(shared_data_dir, tmp_path):
  name = "t10k-labels-idx1-ubyte.gz"
  original = (shared_data_dir / "fashion-mnist" / name).read_bytes()
  assert original[3] == 0x08  # FNAME flag set in the original header.
  body = original[original.index(b"\0", 10) + 1:]
  # Debian's header: no FNAME, mtime 2020-06-05; the deflate body is unchanged.
  debian = original[:3] + b"\0" + struct.pack("<I", 1591315200) + original[8:10]
  path = tmp_path / name
  path.write_bytes(debian + body)
  checksum = idx.CHECKSUMS["fashion_mnist"][name]
  assert hashlib.sha256(path.read_bytes()).hexdigest() != checksum.gz
  raw = idx.read_verified(path, checksum)
  assert raw == gzip.decompress(original)


def test_wrong_dataset_file_is_named(shared_data_dir, tmp_path):
  name = "t10k-labels-idx1-ubyte.gz"
  path = tmp_path / name
  path.write_bytes((shared_data_dir / "mnist" / name).read_bytes())
  with pytest.raises(UsageError, match=r"it is mnist/t10k-labels"):
    idx.read_verified(path, idx.CHECKSUMS["fashion_mnist"][name])


def test_checksum_table_matches_real_files(shared_data_dir):
  for dataset, files in idx.CHECKSUMS.items():
    folder = shared_data_dir / idx.SUBDIRS[dataset][0]
    for name, checksum in files.items():
      if "labels" in name:  # The image files are large; load tests read them.
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == checksum.gz
        assert hashlib.sha256(gzip.decompress(data)).hexdigest() == checksum.raw
