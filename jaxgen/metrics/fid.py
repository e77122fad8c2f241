"""Streaming feature statistics and the Fréchet distance, as pytorch-fid does.

`FeatureStats` keeps n, the sum and the sum of outer products in float64, so
statistics of any number of images take O(D^2) memory and can be merged by
addition. The mean and covariance it returns equal numpy's `mean(axis=0)` and
`np.cov(rowvar=False)` (ddof 1), the statistics pytorch-fid saves as `mu`,
`sigma`.

`frechet_distance` needs tr sqrt(sigma1 sigma2). Instead of
`scipy.linalg.sqrtm(..., disp=False)` (the `disp` argument is gone in SciPy
1.18) it uses a symmetric form: for any factor sigma1 = F F^T (Cholesky, or
the eigen-factor when sigma1 is singular), the non-zero eigenvalues of
sigma1 sigma2 are those of the symmetric PSD F^T sigma2 F, so the trace is the
sum of square roots of its `eigvalsh`. This is also several times faster than `sqrtm` at D = 2048.
pytorch-fid's safeguards carry over: if the result is not finite, eps is added
to both diagonals and it retries; a clearly negative eigenvalue (an imaginary
part above 1e-3 in the square root) raises, as pytorch-fid's check of the
imaginary component does.
"""

import logging
import pathlib
import time
import zipfile
from typing import Iterable, NamedTuple, Optional, Tuple

import numpy as np

from jaxgen.errors import UsageError
from jaxgen.metrics.features import FeatureExtractor
from jaxgen.metrics.kid import FeatureReservoir

_IMAGINARY_TOLERANCE = 1e-3
_log = logging.getLogger(__name__)
PROGRESS_SECONDS = 30.0


class FeatureStats:
  """Running float64 statistics of feature vectors [N, D]."""

  def __init__(self, dim: int = 2048):
    self.n = 0
    self.sum = np.zeros(dim, np.float64)
    self.outer_sum = np.zeros((dim, dim), np.float64)

  def update(self, features: np.ndarray) -> None:
    """Adds a batch: features [B, D] float."""
    features = np.asarray(features, np.float64)
    self.n += len(features)
    self.sum += features.sum(axis=0)
    self.outer_sum += features.T @ features

  def mean_cov(self) -> Tuple[np.ndarray, np.ndarray]:
    """mu [D] and sigma [D, D] (unbiased, ddof 1), float64."""
    if self.n < 2:
      raise UsageError(f"FID needs at least 2 images, got {self.n}")
    mu = self.sum / self.n
    sigma = (self.outer_sum - self.n * np.outer(mu, mu)) / (self.n - 1)
    return mu, sigma


def image_statistics(batches: Iterable[np.ndarray], extractor: FeatureExtractor,
                     reservoir: Optional[FeatureReservoir] = None,
                     label: str = "images", total: Optional[int] = None
                     ) -> Tuple[np.ndarray, np.ndarray]:
  """mu [2048], sigma [2048, 2048] of uint8 image batches, streamed.

  Fills `reservoir` (for KID) when given and logs progress every 30 s, since
  drawing the images (a sampler) can take minutes.
  """
  stats = FeatureStats()
  start = last_log = time.perf_counter()
  for features in extractor.batches(batches):
    stats.update(features)
    if reservoir is not None:
      reservoir.update(features)
    now = time.perf_counter()
    if now - last_log >= PROGRESS_SECONDS:
      last_log = now
      _log.info("%s: %d/%s images, %.1f images/s", label, stats.n, total or "?",
                stats.n / (now - start))
  return stats.mean_cov()


def save_stats(path: pathlib.Path, mu: np.ndarray, sigma: np.ndarray,
               features: Optional[np.ndarray] = None) -> None:
  """Writes pytorch-fid's statistics file: an .npz with `mu` and `sigma`.

  `features` [N, D] (a random subset, for KID) is stored under its own key,
  which pytorch-fid ignores. The file appears whole or not at all.
  """
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  arrays = {"mu": mu, "sigma": sigma}
  if features is not None:
    arrays["features"] = np.asarray(features, np.float32)
  partial = path.with_name(path.name + ".partial.npz")
  np.savez(partial, **arrays)
  partial.replace(path)


class Statistics(NamedTuple):
  """The contents of a statistics file."""
  mu: np.ndarray                      # [D] float64
  sigma: np.ndarray                   # [D, D] float64
  features: Optional[np.ndarray]      # [N, D] float32 subset, where the file has one


def load_stats(path: pathlib.Path,
               fix: str = "pass a statistics file written by --save-stats or pytorch-fid"
               ) -> Statistics:
  """Reads a pytorch-fid .npz (`mu`, `sigma`; `features` where saved); a file
  that cannot be read or lacks the keys is a UsageError ending in `fix`."""
  try:
    with np.load(path) as arrays:
      stored = {key: arrays[key] for key in ("mu", "sigma", "features") if key in arrays}
  except (OSError, ValueError, zipfile.BadZipFile) as error:
    raise UsageError(f"cannot read FID statistics file {path} ({error}); {fix}") from None
  if "mu" not in stored or "sigma" not in stored:
    raise UsageError(f"{path} has no 'mu' and 'sigma'; {fix}")
  mu, sigma = stored["mu"].astype(np.float64), stored["sigma"].astype(np.float64)
  problem = _covariance_problem(mu, sigma)
  if problem:
    raise UsageError(f"{path} {problem}; {fix}")
  return Statistics(mu, sigma, stored.get("features"))


def _covariance_problem(mu: np.ndarray, sigma: np.ndarray) -> Optional[str]:
  """What makes (mu, sigma) unusable as Gaussian statistics, or None."""
  if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
    return f"holds mu {mu.shape} and sigma {sigma.shape}; expected [D] and [D, D]"
  if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
    return "holds non-finite values in mu or sigma"
  scale = max(np.abs(np.diag(sigma)).max(initial=0.0), np.finfo(float).tiny)
  try:  # a covariance is symmetric PSD: with a jitter far above rounding, Cholesky succeeds
    if not np.allclose(sigma, sigma.T, atol=1e-6 * scale):
      raise np.linalg.LinAlgError
    np.linalg.cholesky(sigma + 1e-6 * scale * np.eye(mu.size))
  except np.linalg.LinAlgError:
    return "holds a sigma that is not a covariance (symmetric positive semi-definite)"
  return None


def _psd_factor(matrix: np.ndarray) -> np.ndarray:
  """F with F F^T = matrix (PSD), [D, rank].

  Cholesky when positive definite; else the eigenvectors of the eigenvalues
  above rounding noise, scaled by their square roots (fewer than D columns
  when fewer than D samples made the covariance, which keeps the next
  eigenvalue problem small).
  """
  try:
    return np.linalg.cholesky(matrix)
  except np.linalg.LinAlgError:
    values, vectors = np.linalg.eigh(matrix)
    keep = values > values.max(initial=0.0) * len(values) * np.finfo(float).eps
    return vectors[:, keep] * np.sqrt(values[keep])


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
  """tr sqrt(sigma1 sigma2) for PSD sigma1, sigma2."""
  factor = _psd_factor(sigma1)
  product = factor.T @ sigma2 @ factor
  values = np.linalg.eigvalsh((product + product.T) / 2)
  imaginary = np.sqrt(np.maximum(-values, 0)).max(initial=0.0)
  if imaginary > _IMAGINARY_TOLERANCE:
    raise ValueError(f"Imaginary component {imaginary}")
  return float(np.sqrt(np.maximum(values, 0)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray, eps: float = 1e-6) -> float:
  """||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)).

  Args:
    mu1, mu2: [D] means.
    sigma1, sigma2: [D, D] covariances (symmetric PSD).
    eps: added to both diagonals when the first try is not finite.
  """
  mu1 = np.atleast_1d(mu1).astype(np.float64)
  mu2 = np.atleast_1d(mu2).astype(np.float64)
  sigma1 = np.atleast_2d(sigma1).astype(np.float64)
  sigma2 = np.atleast_2d(sigma2).astype(np.float64)
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or (
      sigma1.shape != (len(mu1), len(mu1))):
    raise UsageError(
        f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma "
        f"{sigma1.shape} vs {sigma2.shape}; compare features of one network")
  diff = mu1 - mu2
  try:
    trace_sqrt = _trace_sqrt_product(sigma1, sigma2)
  except np.linalg.LinAlgError:
    trace_sqrt = float("nan")
  if not np.isfinite(trace_sqrt):
    _log.warning("fid calculation produces singular product; adding %s to "
                 "diagonal of cov estimates", eps)
    offset = np.eye(len(mu1)) * eps
    trace_sqrt = _trace_sqrt_product(sigma1 + offset, sigma2 + offset)
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
               - 2 * trace_sqrt)
