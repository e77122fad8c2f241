"""`jaxgen.data.load`: names, splits, data dirs and the tfds fallback."""

import socket
import time

import numpy as np
import pytest

from jaxgen import data
from jaxgen.data import tfds_source
from jaxgen.errors import UsageError


def test_names():
  assert data.names() == ["fashion_mnist", "gmm_grid25", "gmm_ring8", "mnist"]


def test_unknown_name_lists_valid_names():
  with pytest.raises(UsageError, match="unknown dataset 'cifar10'; choose one "
                     "of: fashion_mnist, gmm_grid25, gmm_ring8, mnist"):
    data.load("cifar10")


def test_unknown_split_lists_valid_splits():
  with pytest.raises(UsageError, match="unknown split 'val'.*train, test"):
    data.load("gmm_ring8", "val")


def test_missing_files_name_the_dir_and_files(tmp_path):
  with pytest.raises(UsageError) as info:
    data.load("fashion_mnist", "test", data_dir=str(tmp_path))
  message = str(info.value)
  assert str(tmp_path) in message
  assert "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz" in message
  assert "fashion-mnist/" in message and "\n" not in message


@pytest.mark.parametrize("name,subdir", [("mnist", "mnist"),
                                         ("fashion_mnist", "fashion-mnist")])
def test_real_files_both_layouts(shared_data_dir, name, subdir):
  train = data.load(name, "train", data_dir=str(shared_data_dir))
  test = data.load(name, "test", data_dir=str(shared_data_dir / subdir))
  for ds, size in ((train, 60000), (test, 10000)):
    assert ds.is_image and ds.num_classes == 10
    assert ds.x.shape == (size, 28, 28, 1) and ds.x.dtype == np.uint8
    assert ds.labels.shape == (size,) and ds.labels.dtype == np.int32
    assert set(np.unique(ds.labels)) == set(range(10))
    assert ds.x.max() == 255


def test_env_var_is_used_and_argument_wins(shared_data_dir, tmp_path,
                                           monkeypatch):
  monkeypatch.setenv(data.DATA_DIR_ENV, str(shared_data_dir))
  assert data.load("mnist", "test").x.shape == (10000, 28, 28, 1)
  with pytest.raises(UsageError, match=str(tmp_path)):
    data.load("mnist", "test", data_dir=str(tmp_path))


def test_no_dir_goes_to_tfds_where_it_can_load(monkeypatch):
  monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
  calls = []

  def fake_load_split(*args):
    calls.append(args)
    return np.zeros((1, 28, 28, 1), np.uint8), np.zeros(1, np.int32)

  monkeypatch.setattr(tfds_source, "can_load", lambda name: True)
  monkeypatch.setattr(tfds_source, "load_split", fake_load_split)
  assert data.load("fashion_mnist", "test").x.shape == (1, 28, 28, 1)
  assert calls == [("fashion_mnist", "test")]


def test_tfds_cannot_prepare_offline_and_says_so_fast(monkeypatch, tmp_path):
  hosts = []

  def offline(*host):
    hosts.append(host)
    return False

  monkeypatch.setattr(tfds_source, "tensorflow_installed", lambda: True)
  monkeypatch.setattr(tfds_source, "can_connect", offline)
  start = time.monotonic()
  assert not tfds_source.can_load("mnist", tfds_data_dir=tmp_path)
  assert time.monotonic() - start < 30
  assert hosts == [tfds_source.DOWNLOAD_HOSTS["mnist"]]


def test_tfds_cannot_prepare_without_tensorflow(monkeypatch, tmp_path):
  monkeypatch.setattr(tfds_source, "tensorflow_installed", lambda: False)
  monkeypatch.setattr(tfds_source, "can_connect", lambda *host: True)
  assert not tfds_source.can_load("fashion_mnist", tfds_data_dir=tmp_path)


def test_tfds_records_become_dataset_arrays():
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=6):
    images, labels = tfds_source.load_split("mnist", "test")
  assert images.shape == (6, 28, 28, 1) and images.dtype == np.uint8
  assert labels.shape == (6,) and labels.dtype == np.int32
  assert labels.min() >= 0 and labels.max() <= 9


def test_can_connect_on_local_ports():
  with socket.socket() as server:
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    assert tfds_source.can_connect("127.0.0.1", port)
  assert not tfds_source.can_connect("127.0.0.1", port)


def test_mixture_dataset():
  ds = data.load("gmm_grid25", "test")
  assert not ds.is_image and ds.num_classes == 25
  assert ds.x.shape == (10000, 2) and ds.x.dtype == np.float32
  assert ds.labels.dtype == np.int32 and ds.labels.max() == 24
