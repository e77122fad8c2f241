"""Mode-collapse metrics for samples of a 2-D Gaussian mixture.

Each sample is assigned to its nearest mode (Euclidean distance to the means).

- `high_quality_fraction`: the fraction of samples within 3 std of their
  nearest mode (Metz et al. 2017, "Unrolled GANs"; Srivastava et al. 2017,
  "VEEGAN", Sec. 5.1; Lin et al. 2018, "PacGAN", Sec. 4.1).
- `modes_covered`: the number of modes k with at least
  `COVERAGE_FRACTION * w_k * n` high-quality samples, i.e. a fifth of the
  count expected under the true weights w. This is PacGAN's rule (2,500
  samples on the 25-mode grid, a mode is lost below 20 samples, a fifth of the
  100 it should get) written as a fraction so it holds for any n and K.
  (VEEGAN counts a mode with a single high-quality sample.)
- `kl`: KL(q || p) in nats, where p are the true mode weights and q is the
  share of all finite samples nearest to each mode, with add-1/2 (Jeffreys)
  smoothing: q_k = (c_k + 1/2) / (sum(c) + K/2). With equal weights it is 0
  for exact proportions and about log K when every sample sits in one mode.

Non-finite samples (a diverged model) count as low quality and are left out
of q; if none is finite, `kl` is NaN.
"""

import numpy as np

from jaxgen.data.mixtures import GaussianMixture
from jaxgen.errors import UsageError

HIGH_QUALITY_STDS = 3.0
COVERAGE_FRACTION = 0.2
SMOOTHING = 0.5


def mixture_metrics(samples: np.ndarray, mixture: GaussianMixture) -> dict:
  """Scores samples [n, 2] (any float dtype) against `mixture`.

  Returns:
    {'modes_covered': int in [0, K], 'high_quality_fraction': float in [0, 1],
     'kl': float >= 0}.
  """
  samples = np.asarray(samples, np.float64)
  if samples.ndim != 2 or samples.shape[1] != 2 or not len(samples):
    raise UsageError(
        f"mixture metrics need samples of shape [n, 2] with n > 0, got "
        f"{list(samples.shape)}; reshape the generator output")
  finite = np.isfinite(samples).all(axis=1)
  nearest, distance = _nearest(samples, mixture)
  high_quality = distance <= HIGH_QUALITY_STDS * mixture.std
  num_modes = mixture.num_modes
  n = len(samples)
  good_counts = np.bincount(nearest[high_quality], minlength=num_modes)
  covered = good_counts >= COVERAGE_FRACTION * mixture.weights * n
  return {
      "modes_covered": int(covered.sum()),
      "high_quality_fraction": float(high_quality.mean()),
      "kl": _mode_kl(np.bincount(nearest[finite], minlength=num_modes),
                     mixture.weights),
  }


def nearest_mode(samples: np.ndarray, mixture: GaussianMixture) -> np.ndarray:
  """The index in [0, K) of the mode nearest each sample [n, 2]; int [n]."""
  return _nearest(np.asarray(samples, np.float64), mixture)[0]


def _nearest(samples: np.ndarray, mixture: GaussianMixture):
  """(nearest mode [n], its distance [n]); non-finite samples get distance inf."""
  distances = np.linalg.norm(
      samples[:, None, :] - mixture.means[None].astype(np.float64), axis=-1)
  distances = np.where(np.isfinite(samples).all(axis=1)[:, None], distances, np.inf)
  return distances.argmin(axis=1), distances.min(axis=1)


def _mode_kl(counts: np.ndarray, weights: np.ndarray) -> float:
  """KL(q || p) with q the add-1/2 smoothed histogram `counts` [K], p [K]."""
  if not counts.sum():
    return float("nan")
  q = (counts + SMOOTHING) / (counts.sum() + SMOOTHING * len(counts))
  return float(np.sum(q * np.log(q / weights)))
