"""Mode coverage, sample quality and mode KL (jaxgen/metrics/mixtures.py)."""

import numpy as np
import pytest

from jaxgen.data.mixtures import get_mixture
from jaxgen.errors import UsageError
from jaxgen.metrics.mixtures import mixture_metrics, nearest_mode

RING = get_mixture("gmm_ring8")


def _near_modes(counts, radius_stds=1.0, seed=0):
  """counts[k] points at distance `radius_stds` std from mode k."""
  rng = np.random.default_rng(seed)
  points = []
  for mean, count in zip(RING.means, counts):
    angle = rng.uniform(0, 2 * np.pi, count)
    direction = np.stack([np.cos(angle), np.sin(angle)], 1)
    points.append(mean + direction * radius_stds * RING.std)
  return np.concatenate(points).astype(np.float32)


def _smoothed_kl(counts):
  q = (np.asarray(counts) + 0.5) / (np.sum(counts) + 0.5 * len(counts))
  return float(np.sum(q * np.log(q * len(counts))))


def test_all_modes_covered_exact_proportions():
  metrics = mixture_metrics(_near_modes([100] * 8), RING)
  assert metrics == {"modes_covered": 8, "high_quality_fraction": 1.0,
                     "kl": pytest.approx(0.0, abs=1e-12)}
  assert isinstance(metrics["modes_covered"], int)


def test_nearest_mode_names_each_point_s_mode():
  counts = [3, 1, 4, 1, 5, 9, 2, 6]
  points = np.concatenate([_near_modes(counts), [[np.nan, 0.0]]])
  expected = np.repeat(np.arange(8), counts)
  np.testing.assert_array_equal(nearest_mode(points[:-1], RING), expected)
  assert nearest_mode(points, RING).shape == (len(points),)


def test_dropped_mode():
  counts = [100] * 7 + [0]
  metrics = mixture_metrics(_near_modes(counts), RING)
  assert metrics["modes_covered"] == 7
  assert metrics["high_quality_fraction"] == 1.0
  assert metrics["kl"] == pytest.approx(_smoothed_kl(counts))
  assert metrics["kl"] > 0.1


def test_coverage_threshold_is_a_fifth_of_the_expected_count():
  # n = 800, so each mode expects 100 and needs 20 high-quality samples.
  counts = [20, 19] + [(800 - 39) // 6] * 6
  counts[2] += 800 - sum(counts)
  assert mixture_metrics(_near_modes(counts), RING)["modes_covered"] == 7


def test_off_mode_samples_lower_quality_but_still_count_for_kl():
  on_mode = _near_modes([100] * 8)
  off_mode = _near_modes([100] * 8, radius_stds=4.0)
  metrics = mixture_metrics(np.concatenate([on_mode, off_mode]), RING)
  assert metrics["modes_covered"] == 8
  assert metrics["high_quality_fraction"] == pytest.approx(0.5)
  assert metrics["kl"] == pytest.approx(0.0, abs=1e-12)


def test_samples_far_from_every_mode_cover_nothing():
  metrics = mixture_metrics(np.zeros((500, 2)), RING)
  assert metrics["modes_covered"] == 0
  assert metrics["high_quality_fraction"] == 0.0


def test_kl_grows_with_imbalance():
  balanced = mixture_metrics(_near_modes([100] * 8), RING)["kl"]
  skewed = mixture_metrics(_near_modes([300] + [72] * 7), RING)["kl"]
  collapsed = mixture_metrics(_near_modes([800] + [0] * 7), RING)["kl"]
  assert balanced < skewed < collapsed
  assert collapsed == pytest.approx(np.log(8), rel=0.02)


def test_true_samples_score_well():
  points, _ = RING.sample(np.random.default_rng(0), 10_000)
  metrics = mixture_metrics(points, RING)
  assert metrics["modes_covered"] == 8
  # Within 3 std in 2-D: 1 - exp(-9 / 2) = 0.9889.
  assert metrics["high_quality_fraction"] == pytest.approx(0.9889, abs=0.005)
  assert metrics["kl"] < 0.005


def test_non_finite_samples_are_low_quality():
  points = _near_modes([100] * 8)
  points[:70] = np.nan
  metrics = mixture_metrics(points, RING)
  assert metrics["high_quality_fraction"] == pytest.approx(730 / 800)
  assert metrics["modes_covered"] == 8
  assert metrics["kl"] == pytest.approx(_smoothed_kl([30] + [100] * 7))
  assert np.isnan(mixture_metrics(np.full((4, 2), np.inf), RING)["kl"])


@pytest.mark.parametrize("shape", [(10,), (10, 3), (0, 2)])
def test_bad_shape(shape):
  with pytest.raises(UsageError, match=r"shape \[n, 2\]"):
    mixture_metrics(np.zeros(shape), RING)
