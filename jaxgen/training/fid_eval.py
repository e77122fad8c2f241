"""FID (KID, precision/recall) of a model's samples against a dataset split.

The reference statistics of a split (mu, sigma and a random subset of 10,000
features for KID and precision/recall) are computed once and cached in
`$JAXGEN_CACHE_DIR/fid_stats/` (default `~/.cache/jaxgen/fid_stats/`) as
pytorch-fid-compatible .npz files, e.g. `mnist_train.npz`; a run, a study or
`python -m jaxgen.experiments.fid ... --save-stats` can fill that cache.
"""

import dataclasses
import logging
import pathlib
import time
from typing import Any, Callable, Dict, Optional, Sequence

import jax
import ml_collections
import numpy as np

from jaxgen import cache
from jaxgen import data
from jaxgen import plotting
from jaxgen.errors import UsageError
from jaxgen.metrics import fid as fid_lib
from jaxgen.metrics import inception_weights
from jaxgen.metrics import kid as kid_lib
from jaxgen.metrics import prdc as prdc_lib
from jaxgen.metrics.features import FeatureExtractor
from jaxgen.metrics.inception import FEATURE_DIM
from jaxgen.training import distributed

_log = logging.getLogger(__name__)


def cache_dir() -> pathlib.Path:
  """Where reference statistics are cached: $JAXGEN_CACHE_DIR/fid_stats."""
  return cache.cache_root() / "fid_stats"


@dataclasses.dataclass(frozen=True)
class Reference:
  """Statistics of the real images that samples are compared with."""
  name: str                           # e.g. "mnist:train" or "mnist:train[:5000]"
  mu: np.ndarray                      # [2048] float64
  sigma: np.ndarray                   # [2048, 2048] float64
  features: Optional[np.ndarray]      # [<=10000, 2048] float32, for KID and PRDC
  features_fix: str                   # how to get features where there are none


def dataset_reference(dataset: str, split: str, extractor: FeatureExtractor, *,
                      size: int = 0, data_dir: Optional[str] = None) -> Reference:
  """Statistics of `dataset:split` (its first `size` images; 0: all), cached."""
  images = data.load(dataset, split, data_dir).x
  if not 0 <= size <= len(images):
    raise UsageError(f"fid.reference_size is {size}, but {dataset}:{split} has "
                     f"{len(images)} images; pass 0 (all) up to {len(images)}")
  name = f"{dataset}:{split}" + (f"[:{size}]" if size else "")
  path = cache_dir() / (f"{dataset}_{split}" + (f"_{size}" if size else "") + ".npz")
  recompute = f"delete {path} to recompute it"
  if path.is_file():
    return Reference(name, *fid_lib.load_stats(path, fix=recompute), features_fix=recompute)
  images = images[:size] if size else images
  _log.info("computing FID statistics of %s once (%d images; cached in %s)",
            name, len(images), path)
  reservoir = kid_lib.FeatureReservoir()
  mu, sigma = fid_lib.image_statistics(
      (images[i:i + extractor.batch_size] for i in range(0, len(images), extractor.batch_size)),
      extractor, reservoir, name, len(images))
  if distributed.is_main_process():
    fid_lib.save_stats(path, mu, sigma, features=reservoir.features)
  return Reference(name, mu, sigma, reservoir.features, features_fix=recompute)


def file_reference(path: str) -> Reference:
  """Statistics from a pytorch-fid .npz (`mu`, `sigma`; `features` if it has
  them), e.g. ../shared/data/fid_stats/mnist_test.npz; named by its path."""
  file = pathlib.Path(path).expanduser()
  fix = ("pass a pytorch-fid statistics .npz (--config.fid.reference_stats=PATH), or "
         "--config.fid.reference_stats='' to use the reference split")
  if not file.is_file():
    raise UsageError(f"FID statistics file {file} not found; {fix}")
  stats = fid_lib.load_stats(file, fix)
  if stats.mu.shape != (FEATURE_DIM,) or stats.sigma.shape != (FEATURE_DIM,) * 2:
    raise UsageError(f"{file} holds statistics of {stats.mu.shape[-1] if stats.mu.ndim else 0}"
                     f"-d features, not Inception pool3 ({FEATURE_DIM}); {fix}")
  return Reference(str(file), *stats, features_fix="use a file written by the FID "
                   "command's --save-stats, which holds them")


def _prdc_left_out(reference: Reference, num_samples: int) -> str:
  """Why precision/recall cannot be computed against `reference` ("" when they can)."""
  if reference.features is None:
    return (f"left out (the statistics of {reference.name} hold no features; "
            f"{reference.features_fix})")
  if min(num_samples, len(reference.features)) <= prdc_lib.NEAREST_K:
    return (f"left out ({num_samples} samples, {len(reference.features)} reference "
            f"features; k = {prdc_lib.NEAREST_K} needs more of each)")
  return ""


class FidEvaluator:
  """Draws `num_samples` samples, streams them through Inception, compares.

  Call it with `draw(rng) -> [B, H, W, C]` float samples in [-1, 1] (or uint8);
  it returns {"fid", "fid/samples", "fid/seconds"}; with `kid`, "kid" and
  "kid_std" against the reference's feature subset; and "precision", "recall",
  "density", "coverage" (k = 5) of a seeded subset of at most 10,000 sample
  features against that subset, or "prdc" saying why they are left out.
  """

  def __init__(self, reference: Reference, extractor: FeatureExtractor,
               num_samples: int, kid: bool = False):
    if num_samples < 2:
      raise UsageError(f"fid.num_samples must be at least 2, got {num_samples}")
    if kid and reference.features is None:
      raise UsageError(f"KID needs features of {reference.name}, but its statistics "
                       f"have none; {reference.features_fix}, or set "
                       "--config.fid.kid=False")
    self.reference = reference
    self.extractor = extractor
    self.num_samples = num_samples
    self.kid = kid
    self.prdc_left_out = _prdc_left_out(reference, num_samples)

  @classmethod
  def from_config(cls, config: ml_collections.ConfigDict, *,
                  data_dir: Optional[str] = None,
                  inception_weights_path: Optional[str] = None,
                  devices: Optional[Sequence[jax.Device]] = None) -> "FidEvaluator":
    """The evaluator that `config.fid` describes, for config.dataset."""
    fid = config.fid
    if not data.is_image_dataset(config.dataset):
      raise UsageError(f"FID needs images, but {config.dataset} is 2-D points (its "
                       "runs log mixture metrics); set --config.fid.num_samples=0")
    weights = inception_weights.resolve_weights_path(inception_weights_path)
    # No batch beyond the samples: Inception (and the sampler) would run on padding.
    extractor = FeatureExtractor(inception_weights.load_inception_params(str(weights)),
                                 batch_size=min(fid.batch_size, max(fid.num_samples, 1)),
                                 devices=devices)
    if fid.reference_stats:
      reference = file_reference(fid.reference_stats)
    else:
      reference = dataset_reference(config.dataset, fid.reference_split, extractor,
                                    size=fid.reference_size, data_dir=data_dir)
    return cls(reference, extractor, fid.num_samples, fid.kid)

  def __call__(self, draw: Callable[[jax.Array], jax.Array],
               rng: jax.Array) -> Dict[str, Any]:
    start = time.perf_counter()
    keep_features = self.kid or not self.prdc_left_out
    reservoir = kid_lib.FeatureReservoir() if keep_features else None

    def batches():
      remaining, index = self.num_samples, 0
      while remaining > 0:
        images = plotting.to_uint8(np.asarray(draw(jax.random.fold_in(rng, index))))
        yield images[:remaining]
        remaining -= len(images)
        index += 1

    mu, sigma = fid_lib.image_statistics(batches(), self.extractor, reservoir,
                                         "samples", self.num_samples)
    metrics = {"fid": fid_lib.frechet_distance(mu, sigma, self.reference.mu,
                                               self.reference.sigma)}
    if self.kid:
      metrics["kid"], metrics["kid_std"] = kid_lib.kid(reservoir.features,
                                                       self.reference.features)
    if self.prdc_left_out:
      metrics["prdc"] = self.prdc_left_out
    else:
      metrics.update(prdc_lib.prdc(self.reference.features, reservoir.features))
    metrics["fid/samples"] = self.num_samples
    metrics["fid/seconds"] = time.perf_counter() - start
    return metrics
