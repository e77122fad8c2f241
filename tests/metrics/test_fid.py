"""Streaming statistics and the Fréchet distance."""

import logging

import numpy as np
import pytest
import scipy.linalg

from jaxgen.errors import UsageError
from jaxgen.metrics import fid


def _features(n=300, dim=64, shift=0.0, seed=0):
  """Non-negative, correlated features like pool3's, [n, dim] float32."""
  rng = np.random.default_rng(seed)
  mixing = np.random.default_rng(99).normal(size=(dim, dim)) / np.sqrt(dim)
  return np.abs(rng.normal(size=(n, dim)) @ mixing + shift).astype(np.float32)


def _random_spd(dim, seed):
  a = np.random.default_rng(seed).normal(size=(dim, dim))
  return a @ a.T / dim + 0.1 * np.eye(dim)


def test_streaming_stats_equal_batch_stats():
  x = _features(n=257)
  stats = fid.FeatureStats(dim=x.shape[1])
  for start in range(0, len(x), 50):
    stats.update(x[start:start + 50])
  mu, sigma = stats.mean_cov()
  assert stats.n == 257
  np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False),
                             rtol=1e-9, atol=1e-12)


def test_frechet_distance_of_diagonal_gaussians_is_closed_form():
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
  var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum(
      (np.sqrt(var1) - np.sqrt(var2)) ** 2)
  assert fid.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == (
      pytest.approx(expected, rel=1e-12))


def test_frechet_distance_of_isotropic_vs_general_gaussian():
  # tr sqrt(s^2 I S) = s tr sqrt(S) = s * sum(sqrt(eig(S))).
  sigma2 = _random_spd(16, seed=1)
  s = 1.7
  expected = 16 * s**2 + np.trace(sigma2) - 2 * s * np.sqrt(
      np.linalg.eigvalsh(sigma2)).sum()
  mu = np.zeros(16)
  assert fid.frechet_distance(mu, s**2 * np.eye(16), mu, sigma2) == (
      pytest.approx(expected, rel=1e-10))


def test_frechet_distance_matches_pytorch_fid_formula():
  # pytorch-fid: tr sqrtm(sigma1 @ sigma2), here on rank-deficient covariances.
  x, y = _features(n=40, seed=1), _features(n=50, shift=0.3, seed=2)
  mu1, sigma1 = x.mean(0), np.cov(x, rowvar=False)
  mu2, sigma2 = y.mean(0), np.cov(y, rowvar=False)
  covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
  expected = (np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
              - 2 * np.trace(covmean))
  assert fid.frechet_distance(mu1, sigma1, mu2, sigma2) == (
      pytest.approx(expected, rel=1e-6))


def test_fid_of_a_set_with_itself_is_zero():
  x = _features(n=100, dim=128)  # Fewer samples than dims: singular sigma.
  mu, sigma = x.mean(0), np.cov(x, rowvar=False)
  distance = fid.frechet_distance(mu, sigma, mu, sigma)
  assert abs(distance) < 1e-4 * np.trace(sigma)


def test_non_finite_product_retries_with_eps(monkeypatch):
  calls = []
  real = fid._trace_sqrt_product

  def first_call_fails(sigma1, sigma2):
    calls.append(sigma1[0, 0])
    return float("nan") if len(calls) == 1 else real(sigma1, sigma2)

  monkeypatch.setattr(fid, "_trace_sqrt_product", first_call_fails)
  value = fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2),
                               eps=1e-3)
  assert calls == [1.0, 1.001]
  # As in pytorch-fid, only the square root term sees the offset.
  assert value == pytest.approx(2 + 2 - 2 * 2 * 1.001, rel=1e-12)


def test_imaginary_square_root_raises():
  with pytest.raises(ValueError, match="Imaginary component"):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2),
                         np.diag([1.0, -1.0]))


def test_mismatched_statistics_are_a_usage_error():
  with pytest.raises(UsageError, match="do not match"):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_stats_file_round_trip_uses_pytorch_fid_keys(tmp_path):
  mu, sigma = np.arange(3.0), _random_spd(3, seed=0)
  path = tmp_path / "stats.npz"
  fid.save_stats(path, mu, sigma)
  with np.load(path) as data:
    assert sorted(data.keys()) == ["mu", "sigma"]
  loaded_mu, loaded_sigma, features = fid.load_stats(path)
  assert features is None
  np.testing.assert_array_equal(loaded_mu, mu)
  np.testing.assert_array_equal(loaded_sigma, sigma)


def test_stats_file_without_mu_is_a_usage_error(tmp_path):
  path = tmp_path / "other.npz"
  np.savez(path, features=np.zeros(3))
  with pytest.raises(UsageError, match="'mu' and 'sigma'"):
    fid.load_stats(path)


def test_unreadable_stats_file_is_one_line_with_the_callers_fix(tmp_path):
  path = tmp_path / "broken.npz"
  path.write_bytes(b"PK\x03\x04 cut short")
  with pytest.raises(UsageError, match="cannot read FID statistics file .*; delete it") as error:
    fid.load_stats(path, fix="delete it")
  assert "\n" not in str(error.value)


class _PixelFeatures:
  """Stands in for the FeatureExtractor: an image's features are its pixels."""

  def batches(self, batches):
    for images in batches:
      yield images.reshape(len(images), -1).astype(np.float64)


def test_image_statistics_reports_progress_while_images_are_drawn(monkeypatch, caplog):
  monkeypatch.setattr(fid, "PROGRESS_SECONDS", 0.0)
  batches = (np.full((2, 32, 32, 2), i, np.uint8) for i in range(3))  # 2048 features
  with caplog.at_level(logging.INFO, logger=fid.__name__):
    mu, _ = fid.image_statistics(batches, _PixelFeatures(), label="samples", total=6)
  np.testing.assert_allclose(mu, np.ones(2048))
  progress = [m for m in caplog.messages if m.startswith("samples:")]
  assert len(progress) == 3 and progress[-1].startswith("samples: 6/6 images, ")
