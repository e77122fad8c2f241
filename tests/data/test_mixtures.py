"""Synthetic 2-D Gaussian mixtures (jaxgen/data/mixtures.py)."""

import itertools

import numpy as np
import pytest

from jaxgen.data import mixtures
from jaxgen.errors import UsageError


def test_ring8_modes_on_circle():
  mixture = mixtures.get_mixture("gmm_ring8")
  assert mixture.means.shape == (8, 2) and mixture.means.dtype == np.float32
  np.testing.assert_allclose(np.linalg.norm(mixture.means, axis=1), 2.0,
                             rtol=1e-6)
  angles = np.sort(np.arctan2(mixture.means[:, 1], mixture.means[:, 0]) % (
      2 * np.pi))
  np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-6)
  assert mixture.std == 0.02
  np.testing.assert_allclose(mixture.weights, 1 / 8)


def test_grid25_modes_on_grid():
  mixture = mixtures.get_mixture("gmm_grid25")
  expected = set(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
  assert set(map(tuple, mixture.means.tolist())) == expected
  assert mixture.std == 0.05 and mixture.weights.sum() == pytest.approx(1.0)


def test_unknown_mixture():
  with pytest.raises(UsageError, match="unknown mixture 'ring9'"):
    mixtures.get_mixture("ring9")


@pytest.mark.parametrize("name", ["gmm_ring8", "gmm_grid25"])
def test_sample_moments(name):
  mixture = mixtures.get_mixture(name)
  points, components = mixture.sample(np.random.default_rng(0), 50_000)
  assert points.dtype == np.float32 and points.shape == (50_000, 2)
  assert components.dtype == np.int32
  k = mixture.num_modes
  frequencies = np.bincount(components, minlength=k) / len(components)
  np.testing.assert_allclose(frequencies, 1 / k, atol=5 * np.sqrt(1 / k / 5e4))
  offsets = points - mixture.means[components]
  np.testing.assert_allclose(offsets.mean(axis=0), 0,
                             atol=5 * mixture.std / np.sqrt(5e4))
  np.testing.assert_allclose(offsets.std(axis=0), mixture.std, rtol=0.02)


def test_log_density_matches_direct_formula():
  mixture = mixtures.get_mixture("gmm_ring8")
  points, _ = mixture.sample(np.random.default_rng(1), 100)
  points = np.concatenate([points, [[1.99, 0.03], [1.4, 1.4]]])
  sq = ((points[:, None, :] - mixture.means[None]) ** 2).sum(-1)
  density = (mixture.weights * np.exp(-sq / (2 * mixture.std**2))
             / (2 * np.pi * mixture.std**2)).sum(axis=1)
  np.testing.assert_allclose(mixture.log_density(points), np.log(density),
                             rtol=1e-6)


def test_log_density_stable_far_from_modes():
  mixture = mixtures.get_mixture("gmm_grid25")
  far = np.array([[100.0, 100.0]])
  nearest_sq = 2 * 96.0**2  # The mode at (4, 4).
  expected = (np.log(1 / 25) - nearest_sq / (2 * 0.05**2)
              - np.log(2 * np.pi * 0.05**2))
  np.testing.assert_allclose(mixture.log_density(far), [expected], rtol=1e-12)


def test_splits_are_fixed_and_distinct():
  train, train_components = mixtures.load_split("gmm_ring8", "train")
  test, _ = mixtures.load_split("gmm_ring8", "test")
  assert train.shape == (100_000, 2) and test.shape == (10_000, 2)
  assert train_components.shape == (100_000,)
  np.testing.assert_array_equal(test, mixtures.load_split("gmm_ring8",
                                                          "test")[0])
  assert not np.array_equal(train[:10_000], test)
