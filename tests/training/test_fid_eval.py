"""In-run FID: cached reference statistics, the evaluator, and the loop's records.

Most tests use a stand-in feature extractor (a fixed random projection of the
pixels) so the caching and streaming logic runs in milliseconds; the last test
runs the real Inception inside the loop.
"""

import dataclasses
import json

import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen.errors import UsageError
from jaxgen.metrics.features import FeatureExtractor
from jaxgen.training import fid_eval
from jaxgen.training.loop import train_and_evaluate


class ProjectionExtractor(FeatureExtractor):
  """uint8 images -> a fixed random 2048-d projection of their pixels."""

  def __init__(self, batch_size=32):  # pylint: disable=super-init-not-called
    self.batch_size = batch_size
    self.calls = 0
    self._batches, self._images, self._seconds, self._first = 0, 0, 0.0, (0, 0.0)

  def __call__(self, images):
    self.calls += 1
    flat = np.asarray(images, np.float32).reshape(len(images), -1) / 255.0
    projection = np.random.default_rng(0).normal(size=(flat.shape[1], 2048))
    self._record(len(images), 1e-3)
    return (flat @ projection).astype(np.float32)


@pytest.fixture
def cache(tmp_path, monkeypatch):
  monkeypatch.setenv("JAXGEN_CACHE_DIR", str(tmp_path / "cache"))
  return tmp_path / "cache" / "fid_stats"


def test_reference_statistics_are_computed_once_and_cached(cache, shared_data_dir):
  extractor = ProjectionExtractor()
  first = fid_eval.dataset_reference("mnist", "test", extractor, size=100,
                                     data_dir=str(shared_data_dir))
  assert first.name == "mnist:test[:100]"
  assert (cache / "mnist_test_100.npz").is_file()
  assert first.mu.shape == (2048,) and first.sigma.shape == (2048, 2048)
  assert first.features.shape == (100, 2048)
  calls = extractor.calls
  again = fid_eval.dataset_reference("mnist", "test", extractor, size=100,
                                     data_dir=str(shared_data_dir))
  assert extractor.calls == calls  # read from the cache
  np.testing.assert_array_equal(again.sigma, first.sigma)
  np.testing.assert_array_equal(again.features, first.features)


def test_reference_size_beyond_the_split_is_a_usage_error(cache, shared_data_dir):
  with pytest.raises(UsageError, match="reference_size"):
    fid_eval.dataset_reference("mnist", "test", ProjectionExtractor(), size=10**6,
                               data_dir=str(shared_data_dir))


def test_fid_is_low_for_real_images_and_high_for_noise(cache, shared_data_dir):
  extractor = ProjectionExtractor()
  reference = fid_eval.dataset_reference("mnist", "train", extractor, size=600,
                                         data_dir=str(shared_data_dir))
  evaluator = fid_eval.FidEvaluator(reference, extractor, num_samples=300, kid=True)
  test_images = data.load("mnist", "test", str(shared_data_dir)).x
  draws = []

  def real(rng):  # 128 at a time, so the last draw is cut to what is needed
    draws.append(rng)
    start = 128 * (len(draws) - 1)
    return test_images[start:start + 128]

  def noise(rng):
    return np.random.default_rng(len(draws)).uniform(-1, 1, (128, 28, 28, 1))

  real_metrics = evaluator(real, jax.random.PRNGKey(0))
  assert len(draws) == 3 and real_metrics["fid/samples"] == 300
  noise_metrics = evaluator(noise, jax.random.PRNGKey(0))
  assert real_metrics["fid"] * 10 < noise_metrics["fid"]
  assert abs(real_metrics["kid"]) < noise_metrics["kid"] / 10
  for name in ("precision", "recall", "coverage"):
    assert 0 <= noise_metrics[name] < real_metrics[name] <= 1
  assert real_metrics["density"] > noise_metrics["density"] >= 0


def test_kid_without_reference_features_names_the_fix(cache):
  reference = fid_eval.Reference("x:train", np.zeros(2048), np.eye(2048), None,
                                 features_fix="delete x.npz to recompute it")
  with pytest.raises(UsageError, match="delete x.npz to recompute it, or set .*fid.kid=False"):
    fid_eval.FidEvaluator(reference, ProjectionExtractor(), num_samples=10, kid=True)


def test_precision_recall_need_reference_features_not_kid(cache, monkeypatch):
  # FID is tested elsewhere; its eigen-decomposition at D = 2048 would be most of this test.
  monkeypatch.setattr(fid_eval.fid_lib, "frechet_distance", lambda *stats: 1.0)
  images = np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1), np.uint8)
  extractor = ProjectionExtractor(batch_size=16)
  reference = fid_eval.Reference("x:train", np.zeros(2048), np.eye(2048),
                                 extractor(images), features_fix="delete x.npz to recompute it")
  metrics = fid_eval.FidEvaluator(reference, extractor, num_samples=16)(
      lambda rng: images, jax.random.PRNGKey(0))
  assert metrics["precision"] == metrics["recall"] == metrics["coverage"] == 1.0
  without_features = dataclasses.replace(reference, features=None)
  metrics = fid_eval.FidEvaluator(without_features, extractor, num_samples=16)(
      lambda rng: images, jax.random.PRNGKey(0))
  assert "precision" not in metrics
  assert "x:train hold no features; delete x.npz to recompute it" in metrics["prdc"]


def test_fid_on_points_is_a_usage_error(tmp_path):
  config = config_lib.get_config("ddim", "gmm_ring8", "cpu")
  config.fid.num_samples = 100
  with pytest.raises(UsageError, match="fid.num_samples=0"):
    train_and_evaluate(config, tmp_path)


def test_full_preset_turns_fid_on_for_images_only():
  assert config_lib.get_config("ddpm", "mnist", "full").fid.num_samples == 10_000
  assert config_lib.get_config("ddpm", "gmm_ring8", "full").fid.num_samples == 0
  assert config_lib.get_config("ddpm", "mnist", "cpu").fid.num_samples == 0


def test_run_logs_fid_at_intervals_and_at_the_end(cache, tmp_path, shared_data_dir):
  config = config_lib.get_config("vae", "mnist", "cpu")
  config.update(dict(batch_size=16, num_steps=4, log_every=2, checkpoint_every=4,
                     sample_every=4, num_samples=8))
  config.fid.update(dict(num_samples=10, every=2, batch_size=8, reference_size=16,
                         kid=True))
  train_and_evaluate(config, tmp_path / "run", data_dir=str(shared_data_dir),
                     inception_weights=str(shared_data_dir / "fid_inception" /
                                           "default_1.pt"))
  records = [json.loads(line)
             for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
  fids = [r for r in records if "fid" in r]
  assert [r["step"] for r in fids] == [2, 4]
  for record in fids:
    assert record["fid/reference"] == "mnist:train[:16]"
    assert record["fid/samples"] == 10
    assert np.isfinite(record["fid"]) and record["fid"] > 0
    assert np.isfinite(record["kid"])
    for name in ("precision", "recall", "coverage"):
      assert 0 <= record[name] <= 1
    assert record["density"] >= 0
  summary = json.loads((tmp_path / "run" / "summary.json").read_text())
  assert summary["precision"] == fids[-1]["precision"]
  assert (cache / "mnist_train_16.npz").is_file()


def test_a_statistics_file_is_the_reference_when_the_config_names_it(
    tmp_path, shared_data_dir):
  config = config_lib.get_config("ddim", "mnist", "cpu")
  config.fid.update(num_samples=10, batch_size=64,
                    reference_stats=str(shared_data_dir / "fid_stats" / "mnist_test.npz"))
  evaluator = fid_eval.FidEvaluator.from_config(
      config, inception_weights_path=str(shared_data_dir / "fid_inception" / "default_1.pt"))
  # Batches no larger than the samples (rounded up to a multiple of the 8 devices).
  assert evaluator.extractor.batch_size == 16
  reference = evaluator.reference
  assert reference.name == config.fid.reference_stats
  assert reference.mu.shape == (2048,) and reference.sigma.dtype == np.float64
  assert reference.features is None and "hold no features" in evaluator.prdc_left_out
  assert "--save-stats" in evaluator.prdc_left_out


@pytest.mark.parametrize("write, problem", [
    (None, "not found"),
    (lambda path: path.write_bytes(b"not a zip"), "cannot read"),
    (lambda path: np.savez(path, images=np.zeros(3)), "no 'mu' and 'sigma'"),
    (lambda path: np.savez(path, mu=np.zeros(10), sigma=np.eye(10)), "10-d features"),
])
def test_a_bad_statistics_file_is_one_line_naming_it_and_the_fix(tmp_path, write, problem):
  path = tmp_path / "stats.npz"
  if write:
    write(path)
  with pytest.raises(UsageError, match=problem) as error:
    fid_eval.file_reference(str(path))
  assert str(path) in str(error.value) and "\n" not in str(error.value)
  assert "reference_stats" in str(error.value)
