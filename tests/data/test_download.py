"""MNIST without TensorFlow and without a data dir: the IDX files downloaded
from a mirror (here an HTTP server on loopback serving the shared files, or
broken copies of them), verified, cached, read; never the internet."""

import http.server
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from jaxgen import data
from jaxgen.data import download, tfds_source
from jaxgen.errors import UsageError


class Mirror(http.server.ThreadingHTTPServer):
  """Serves the files of a folder on 127.0.0.1 and counts the requests; a file
  named in `cut_short` is announced whole but sent in part."""

  def __init__(self, folder):
    self.folder, self.requests, self.cut_short = folder, [], set()
    super().__init__(("127.0.0.1", 0), Handler)
    self.url = f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(http.server.BaseHTTPRequestHandler):

  def do_GET(self):  # pylint: disable=invalid-name
    name = self.path.lstrip("/")
    self.server.requests.append(name)
    path = self.server.folder / name
    if not path.is_file():
      self.send_error(404)
      return
    body = path.read_bytes()
    self.send_response(200)
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    self.wfile.write(body[:len(body) // 2] if name in self.server.cut_short else body)

  def log_message(self, *args):
    pass


@pytest.fixture(name="mirror")
def mirror_fixture(shared_data_dir, tmp_path, monkeypatch):
  """A loopback MNIST mirror, no data dir, no way for tfds, an empty cache."""
  folder = tmp_path / "served"
  shutil.copytree(shared_data_dir / "mnist", folder)
  server = Mirror(folder)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  monkeypatch.setitem(download.MIRRORS, "mnist", server.url)
  monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
  monkeypatch.setenv("JAXGEN_CACHE_DIR", str(tmp_path / "cache"))
  monkeypatch.setattr(tfds_source, "can_load", lambda name: False)
  yield server
  server.shutdown()
  server.server_close()


def test_mnist_is_downloaded_once_verified_and_read(mirror, shared_data_dir):
  test = data.load("mnist", "test")
  assert test.x.shape == (10000, 28, 28, 1) and test.labels.shape == (10000,)
  expected = data.load("mnist", "test", data_dir=str(shared_data_dir))
  np.testing.assert_array_equal(test.x, expected.x)
  assert sorted(mirror.requests) == sorted(data.idx.CHECKSUMS["mnist"])  # all four
  data.load("mnist", "train")  # from the cache: no more requests
  assert len(mirror.requests) == 4
  assert sorted(p.name for p in download.cache_dir("mnist").iterdir()) == sorted(
      data.idx.CHECKSUMS["mnist"])


@pytest.mark.parametrize("damage", ["corrupt", "cut short"])
def test_a_bad_download_is_one_line_and_nothing_is_kept(damage, mirror):
  name = "t10k-images-idx3-ubyte.gz"
  if damage == "corrupt":
    served = mirror.folder / name
    corrupt = bytearray(served.read_bytes())
    corrupt[len(corrupt) // 2] ^= 0xFF
    served.write_bytes(bytes(corrupt))
  else:
    mirror.cut_short.add(name)
  with pytest.raises(UsageError) as info:
    data.load("mnist", "test")
  message = str(info.value)
  assert "\n" not in message and message.startswith(f"{mirror.url}{name}" if damage ==
                                                    "corrupt" else "cannot download")
  assert "--data-dir" in message
  assert not (download.cache_dir("mnist") / name).exists()
  assert not list(download.cache_dir("mnist").glob("*.partial"))


def test_offline_fails_within_seconds_naming_the_data_dir(mirror, monkeypatch, capsys):
  with socket.socket() as unused:  # a port nobody listens on
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
  monkeypatch.setitem(download.MIRRORS, "mnist", f"http://127.0.0.1:{port}/")
  start = time.monotonic()
  with pytest.raises(UsageError, match=r"^cannot download .*; pass --data-dir DIR"):
    data.load("mnist", "test")
  assert time.monotonic() - start < 10
  assert not mirror.requests
  assert not capsys.readouterr().err  # the error is the one line; no "downloading"
