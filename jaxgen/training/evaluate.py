"""Metrics of a batch of samples, chosen by dataset: mode metrics on 2-D
mixtures, the digit classifier's class metrics on MNIST and Fashion-MNIST."""

from typing import Dict, Optional

import ml_collections
import numpy as np

from jaxgen import data
from jaxgen.data import mixtures
from jaxgen.errors import UsageError
from jaxgen.metrics.classifier import Classifier, classifier_metrics, load_classifier
from jaxgen.metrics.mixtures import mixture_metrics

CLASSIFIER_OFF = "off"


def sample_classifier(config: ml_collections.ConfigDict) -> Optional[Classifier]:
  """The classifier that scores config.dataset's image samples, from
  config.classifier_weights ("": the shipped file); None for 2-D data or when
  it is "off". Raises UsageError, with both fixes, for a bad weights file."""
  if not data.is_image_dataset(config.dataset) or (
      config.classifier_weights == CLASSIFIER_OFF):
    return None
  try:
    return load_classifier(config.dataset, config.classifier_weights or None)
  except UsageError as error:
    raise UsageError(f"{error}, or turn the classifier metrics off with "
                     f"--config.classifier_weights={CLASSIFIER_OFF}") from None


def sample_metrics(samples: np.ndarray, dataset: str,
                   classifier: Optional[Classifier] = None) -> Dict[str, float]:
  """samples: [N, *shape], float32 in the data's range (images also uint8).
  Mode metrics for a 2-D mixture; for images the classifier's metrics (from
  sample_classifier, loaded once per run), empty when it is None."""
  if dataset in mixtures.names():
    return mixture_metrics(samples, mixtures.get_mixture(dataset))
  return classifier_metrics(samples, classifier) if classifier else {}


def real_data_metrics(config: ml_collections.ConfigDict,
                      data_dir: Optional[str] = None) -> Dict[str, float]:
  """sample_metrics of the real test split: the ceiling for a model's samples."""
  return sample_metrics(data.load(config.dataset, "test", data_dir).x, config.dataset,
                        sample_classifier(config))
