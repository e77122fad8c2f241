"""Metrics of a batch of samples, chosen by dataset (2-D mixtures: mode metrics)."""

from typing import Dict

import numpy as np

from jaxgen.data import mixtures
from jaxgen.metrics.mixtures import mixture_metrics


def sample_metrics(samples: np.ndarray, dataset: str) -> Dict[str, float]:
  """samples: float32 [N, *shape] in the data's range. Empty for image data."""
  if dataset in mixtures.names():
    return mixture_metrics(samples, mixtures.get_mixture(dataset))
  return {}
