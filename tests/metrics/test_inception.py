"""The FID Inception port: architecture, weight files, features vs torch."""

import hashlib
import io
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.metrics import inception
from jaxgen.metrics import inception_weights
from jaxgen.metrics.features import FeatureExtractor

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"
GOLDEN = np.load(GOLDEN_DIR / "inception_golden.npz")


@pytest.fixture(scope="module")
def weights_path(shared_data_dir):
  return shared_data_dir / "fid_inception" / "default_1.pt"


@pytest.fixture(scope="module")
def params(weights_path):
  return inception_weights.load_inception_params(str(weights_path))


def _param_shapes():
  variables = jax.eval_shape(inception.InceptionV3().init, jax.random.key(0),
                             jnp.zeros((1, 299, 299, 3)))
  return variables["params"]


def test_parameter_count_and_layer_shapes():
  shapes = _param_shapes()
  leaves = jax.tree_util.tree_leaves(shapes)
  assert len(leaves) == 94 * 4
  assert sum(int(np.prod(leaf.shape)) for leaf in leaves) == 21_802_784
  # HWIO kernels of a few layers from SOURCES.md's table (O, I, kh, kw).
  assert shapes["Conv2d_1a_3x3"]["kernel"].shape == (3, 3, 3, 32)
  assert shapes["Mixed_6b"]["branch7x7_2"]["kernel"].shape == (1, 7, 128, 128)
  assert shapes["Mixed_7c"]["branch3x3dbl_3b"]["kernel"].shape == (
      3, 1, 384, 384)
  assert shapes["Mixed_7c"]["branch_pool"]["var"].shape == (192,)


def test_output_is_pool3():
  out = jax.eval_shape(inception.InceptionV3().apply,
                       {"params": _param_shapes()}, jnp.zeros((2, 299, 299, 3)))
  assert out.shape == (2, inception.FEATURE_DIM)


def test_avg_pool_excludes_padding():
  x = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1)
  pooled = np.asarray(inception.avg_pool_exclude_padding(x))[0, :, :, 0]
  padded = np.pad(x[0, :, :, 0], 1, constant_values=np.nan)
  for i in range(3):
    for j in range(4):
      assert pooled[i, j] == pytest.approx(np.nanmean(padded[i:i + 3, j:j + 3]))


def test_max_pool_pads_with_minus_infinity():
  x = -np.ones((1, 2, 2, 1), np.float32)
  np.testing.assert_array_equal(
      np.asarray(inception.max_pool(x, stride=1, padding=1)), x)


@pytest.mark.parametrize("name", ["tiny_legacy.pth", "tiny_zip.pth"])
def test_reads_both_torch_save_formats(name):
  tensors = inception_weights.read_torch_tensors(GOLDEN_DIR / name)
  np.testing.assert_array_equal(
      tensors["layer.conv.weight"],
      np.arange(6, dtype=np.float32).reshape(2, 3, 1, 1))
  np.testing.assert_array_equal(tensors["layer.bn.running_var"],
                                np.linspace(0.5, 2.0, 4))
  assert tensors["layer.bn.running_var"].dtype == np.float64
  assert tensors["layer.bn.num_batches_tracked"] == 7
  np.testing.assert_array_equal(
      tensors["transposed"], np.arange(12, dtype=np.float32).reshape(3, 4).T)


def test_not_a_weights_file_is_a_usage_error(tmp_path):
  path = tmp_path / "weights.pth"
  path.write_bytes(b"not a pickle")
  with pytest.raises(UsageError, match="cannot read torch weights"):
    inception_weights.read_torch_tensors(path)


def test_default_1_names_follow_the_shared_key_map(shared_data_dir):
  key_map = json.loads((shared_data_dir / "fid_inception" /
                        "pytorch_fid_to_default_1_map.json").read_text())["map"]
  for pytorch_fid_key, entry in key_map.items():
    layer = entry["default_1_key"][len("net.layers."):].rsplit(".", 1)[0]
    assert pytorch_fid_key.startswith(
        inception_weights._pytorch_fid_name(layer) + ".")


def test_loaded_params_fill_the_model(params):
  leaves = jax.tree_util.tree_leaves(params)
  assert sum(leaf.size for leaf in leaves) == 21_802_784
  assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(
      _param_shapes())


@pytest.mark.parametrize("name", ["rgb", "gray"])
def test_features_match_torchscript_reference(params, name):
  extractor = FeatureExtractor(params, batch_size=8)
  features = extractor(GOLDEN[f"{name}_images"])
  expected = GOLDEN[f"{name}_features"]
  assert features.shape == expected.shape and features.dtype == np.float32
  np.testing.assert_allclose(features, expected, atol=5e-5, rtol=1e-5)


def test_weights_path_prefers_argument_then_environment(tmp_path, monkeypatch):
  given, env = tmp_path / "given.pt", tmp_path / "env.pt"
  given.touch()
  env.touch()
  monkeypatch.setenv(inception_weights.ENV_VAR, str(env))
  assert inception_weights.resolve_weights_path(str(given)) == given
  assert inception_weights.resolve_weights_path() == env
  with pytest.raises(UsageError, match="--inception-weights PATH"):
    inception_weights.resolve_weights_path(str(tmp_path / "missing.pt"))


def test_offline_without_weights_is_one_line(tmp_path, monkeypatch):
  monkeypatch.delenv(inception_weights.ENV_VAR, raising=False)
  monkeypatch.setattr(inception_weights, "CACHE_DIR", tmp_path)
  monkeypatch.setattr(inception_weights, "_online", lambda: False)
  with pytest.raises(UsageError, match="JAXGEN_FID_WEIGHTS") as error:
    inception_weights.resolve_weights_path()
  assert "\n" not in str(error.value)


@pytest.mark.parametrize("checksum_ok", [True, False])
def test_download_is_checksum_verified_and_cached(tmp_path, monkeypatch,
                                                  checksum_ok):
  payload = b"weights"
  monkeypatch.delenv(inception_weights.ENV_VAR, raising=False)
  monkeypatch.setattr(inception_weights, "CACHE_DIR", tmp_path)
  monkeypatch.setattr(inception_weights, "_online", lambda: True)
  monkeypatch.setattr(inception_weights.urllib.request, "urlopen",
                      lambda url, timeout: io.BytesIO(payload))
  if checksum_ok:
    monkeypatch.setattr(inception_weights, "WEIGHTS_SHA256",
                        hashlib.sha256(payload).hexdigest())
    path = inception_weights.resolve_weights_path()
    assert path.parent == tmp_path and path.read_bytes() == payload
  else:
    with pytest.raises(UsageError, match="sha256"):
      inception_weights.resolve_weights_path()
    assert not list(tmp_path.iterdir())
