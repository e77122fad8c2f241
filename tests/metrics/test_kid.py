"""KID against a direct U-statistic, and the feature reservoir it draws from."""

import numpy as np

from jaxgen.metrics import kid


def _features(n=300, dim=64, shift=0.0, seed=0):
  """Non-negative, correlated features like pool3's, [n, dim] float32."""
  rng = np.random.default_rng(seed)
  mixing = np.random.default_rng(99).normal(size=(dim, dim)) / np.sqrt(dim)
  return np.abs(rng.normal(size=(n, dim)) @ mixing + shift).astype(np.float32)


def _mmd2_unbiased(x, y):
  """Bińkowski et al.'s MMD^2_u with k(a, b) = (a . b / D + 1)^3, pair by pair."""
  m, dim = x.shape
  x, y = x.astype(np.float64), y.astype(np.float64)

  def k(a, b):
    return (np.dot(a, b) / dim + 1) ** 3

  within = sum(k(x[i], x[j]) + k(y[i], y[j])
               for i in range(m) for j in range(m) if i != j)
  between = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
  return within / (m * (m - 1)) - 2 * between / m**2


def test_kid_of_whole_sets_is_the_unbiased_mmd():
  # A subset as large as both sets is each set in another order, which the
  # estimate does not see: every subset gives the U-statistic of the sets.
  x, y = _features(n=12, dim=5, seed=1), _features(n=12, dim=5, shift=0.2, seed=2)
  mean, std = kid.kid(x, y, num_subsets=3, subset_size=12)
  expected = _mmd2_unbiased(x, y)
  assert abs(expected) > 1e-3
  np.testing.assert_allclose(mean, expected, rtol=1e-10)
  assert std < 1e-12 * abs(expected)


def test_kid_is_zero_for_one_distribution_and_positive_when_shifted():
  a, b = _features(n=400, seed=1), _features(n=400, seed=2)
  same, same_std = kid.kid(a, b, num_subsets=20, subset_size=200)
  shifted, _ = kid.kid(a, _features(n=400, shift=0.5, seed=3), num_subsets=20,
                       subset_size=200)
  assert abs(same) < 3 * same_std + 1e-3
  assert shifted > 10 * abs(same) and shifted > 0.01


def test_reservoir_keeps_a_uniform_bounded_sample():
  reservoir = kid.FeatureReservoir(capacity=500, seed=0)
  index = np.arange(5000, dtype=np.float32)[:, None]
  for start in range(0, 5000, 64):
    reservoir.update(index[start:start + 64])
  kept = reservoir.features[:, 0]
  assert reservoir.seen == 5000 and kept.shape == (500,)
  assert len(np.unique(kept)) == 500
  assert abs(kept.mean() - 2500) < 200  # Uniform over 0..4999: sd ~ 64.


def test_reservoir_keeps_everything_below_capacity():
  reservoir = kid.FeatureReservoir(capacity=100)
  reservoir.update(np.ones((30, 4)))
  assert reservoir.features.shape == (30, 4)
