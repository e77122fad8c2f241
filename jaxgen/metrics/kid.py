"""Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel.

k(x, y) = (x . y / D + 1)^3 on pool3 features, averaged over random subsets of
`subset_size` from each set (Bińkowski et al. 2018; the estimator of clean-fid
and torch-fidelity). Unlike FID it needs the features themselves, so streaming
callers keep a `FeatureReservoir`: a uniform random subset of at most
`capacity` features (10,000 x 2048 float32 = 80 MiB by default), enough for
100 subsets of 1,000.
"""

from typing import Tuple

import numpy as np

from jaxgen.errors import UsageError


class FeatureReservoir:
  """A uniform random sample of at most `capacity` rows of a feature stream."""

  def __init__(self, capacity: int = 10_000, seed: int = 0):
    self.capacity = capacity
    self.seen = 0
    self._rows = None
    self._rng = np.random.default_rng(seed)

  def update(self, features: np.ndarray) -> None:
    """Adds features [B, D]; each row seen so far is kept with equal chance."""
    features = np.asarray(features, np.float32)
    if self._rows is None:
      self._rows = np.zeros((self.capacity, features.shape[1]), np.float32)
    for row in features:  # Algorithm R.
      if self.seen < self.capacity:
        self._rows[self.seen] = row
      else:
        slot = self._rng.integers(0, self.seen + 1)
        if slot < self.capacity:
          self._rows[slot] = row
      self.seen += 1

  @property
  def features(self) -> np.ndarray:
    """[min(seen, capacity), D] float32."""
    if self._rows is None:
      return np.zeros((0, 0), np.float32)
    return self._rows[:min(self.seen, self.capacity)]


def kid(features1: np.ndarray, features2: np.ndarray, num_subsets: int = 100,
        subset_size: int = 1000, seed: int = 0) -> Tuple[float, float]:
  """KID mean and standard deviation over subsets.

  Args:
    features1, features2: [N1, D], [N2, D] features.
    num_subsets: random subsets drawn (without replacement within a subset).
    subset_size: rows per subset, reduced to min(N1, N2) when larger.
    seed: seeds the subset choice.

  Returns:
    (mean, std) of the unbiased MMD^2 estimates; about 0 for one distribution.
  """
  x_all = np.asarray(features1, np.float64)
  y_all = np.asarray(features2, np.float64)
  m = min(len(x_all), len(y_all), subset_size)
  if m < 2:
    raise UsageError(f"KID needs at least 2 images per set, got {len(x_all)} "
                     f"and {len(y_all)}")
  dim = x_all.shape[1]
  rng = np.random.default_rng(seed)
  estimates = []
  for _ in range(num_subsets):
    x = x_all[rng.choice(len(x_all), m, replace=False)]
    y = y_all[rng.choice(len(y_all), m, replace=False)]
    k_xx = (x @ x.T / dim + 1) ** 3
    k_yy = (y @ y.T / dim + 1) ** 3
    k_xy = (x @ y.T / dim + 1) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy))
    estimates.append(within / (m * (m - 1)) - 2 * k_xy.mean())
  return float(np.mean(estimates)), float(np.std(estimates))
