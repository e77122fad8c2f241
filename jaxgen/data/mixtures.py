"""Synthetic 2-D Gaussian mixtures: the standard mode-collapse benchmarks.

- `gmm_ring8`: 8 equal-weight modes on a circle of radius 2, std 0.02 (Metz et
  al. 2017, "Unrolled GANs"; Srivastava et al. 2017, "VEEGAN").
- `gmm_grid25`: 25 equal-weight modes at {-4, -2, 0, 2, 4}^2, std 0.05 (VEEGAN;
  Lin et al. 2018, "PacGAN").

Nothing is downloaded: splits are drawn from fixed seeds, so they are the same
on every machine.
"""

import dataclasses
import itertools
from typing import Tuple

import numpy as np

from jaxgen.registry import Registry

# split -> (number of points, seed).
_SPLITS = {"train": (100_000, 0), "test": (10_000, 1)}

_MIXTURES = Registry("mixture")


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
  """Isotropic Gaussian mixture in 2-D.

  Attributes:
    means: float32 [K, 2], the mode centres.
    std: per-coordinate standard deviation, shared by all modes.
    weights: float64 [K], mixture weights summing to 1.
  """
  means: np.ndarray
  std: float
  weights: np.ndarray

  @property
  def num_modes(self) -> int:
    return len(self.means)

  def sample(self, rng: np.random.Generator,
             n: int) -> Tuple[np.ndarray, np.ndarray]:
    """Returns points float32 [n, 2] and their components int32 [n]."""
    components = rng.choice(self.num_modes, size=n, p=self.weights)
    noise = rng.standard_normal((n, 2))
    points = self.means[components] + self.std * noise
    return points.astype(np.float32), components.astype(np.int32)

  def log_density(self, points: np.ndarray) -> np.ndarray:
    """log p(x) for points [n, 2]; float64 [n], stable far from all modes."""
    points = np.asarray(points, np.float64)
    sq_dist = np.sum(
        (points[:, None, :] - self.means[None].astype(np.float64)) ** 2, -1)
    log_terms = (np.log(self.weights) - sq_dist / (2 * self.std**2)
                 - np.log(2 * np.pi * self.std**2))
    peak = log_terms.max(axis=1)
    return peak + np.log(np.exp(log_terms - peak[:, None]).sum(axis=1))


def _equal_weights(means, std: float) -> GaussianMixture:
  means = np.asarray(means, np.float32)
  return GaussianMixture(means, std, np.full(len(means), 1 / len(means)))


@_MIXTURES.register("gmm_ring8")
def ring8() -> GaussianMixture:
  angles = 2 * np.pi * np.arange(8) / 8
  means = np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1)
  return _equal_weights(means, std=0.02)


@_MIXTURES.register("gmm_grid25")
def grid25() -> GaussianMixture:
  means = list(itertools.product([-4, -2, 0, 2, 4], repeat=2))
  return _equal_weights(means, std=0.05)


def get_mixture(name: str) -> GaussianMixture:
  """The mixture called `name`; an unknown name raises UsageError."""
  return _MIXTURES.get(name)()


def names() -> list[str]:
  return _MIXTURES.names()


def load_split(name: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
  """Fixed split of mixture `name`: train 100,000 points, test 10,000.

  Returns points float32 [N, 2] and components int32 [N].
  """
  size, seed = _SPLITS[split]
  return get_mixture(name).sample(np.random.default_rng(seed), size)
