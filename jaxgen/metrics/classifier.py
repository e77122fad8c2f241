"""Class metrics of MNIST / Fashion-MNIST samples from a small conv classifier.

The image analogue of the mode metrics of `mixtures.py`, cheap enough for
every sample grid on a CPU:

- `confident_fraction`: the fraction of samples whose largest class
  probability is at least `CONFIDENCE` (a sample the classifier reads as one
  clear digit or garment).
- `classes_covered`: the number of classes that are the most probable class
  of at least `COVERAGE_FRACTION * n / 10` samples, a fifth of the uniform
  share (the rule of `mixtures.py`'s `modes_covered`).
- `class_kl`: KL(q || uniform) in nats of the histogram q of the samples'
  most probable classes, with the add-1/2 smoothing of `mixtures.py`'s `kl`:
  0 for equal classes, about log 10 when every sample falls in one class.

The classifier is trained to give uniform-noise images uniform probabilities,
so noise is not confident; its most probable classes are then spread evenly,
so coverage and KL, like `kl` of the mixtures, measure balance, not quality.

Images with a non-finite pixel (a diverged model) count as not confident and
are left out of q; if none is finite, `class_kl` is NaN.

Weights ship in `classifier_weights/DATASET.npz`, made by
`python -m jaxgen.experiments.train_classifier --dataset DATASET --data-dir ../shared/data`.
"""

import dataclasses
import pathlib
import zipfile
from typing import Any, Dict, Optional, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from jaxgen.errors import UsageError
from jaxgen.metrics.mixtures import COVERAGE_FRACTION, SMOOTHING

DATASETS = ("mnist", "fashion_mnist")
WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "classifier_weights"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
CONFIDENCE = 0.9
BATCH_SIZE = 250  # one compiled shape; divides the 10,000-image test splits
PARAMS_PREFIX = "params/"


class ClassifierNet(nn.Module):
  """3x3 convs of 16, 32 and 64 channels with 2x2 max-pools after the first
  two (28 -> 14 -> 7), then one dense layer:
  [B, 28, 28, 1] float32 in [-1, 1] -> logits [B, 10]."""

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    x = nn.max_pool(nn.relu(nn.Conv(16, (3, 3))(x)), (2, 2), strides=(2, 2))
    x = nn.max_pool(nn.relu(nn.Conv(32, (3, 3))(x)), (2, 2), strides=(2, 2))
    x = nn.relu(nn.Conv(64, (3, 3))(x))
    return nn.Dense(NUM_CLASSES)(x.reshape((x.shape[0], -1)))


@dataclasses.dataclass(frozen=True)
class Classifier:
  """ClassifierNet params for one dataset, with their measured test accuracy
  (None while training)."""
  dataset: str
  params: Any
  test_accuracy: Optional[float] = None


def weights_path(dataset: str) -> pathlib.Path:
  """The shipped weights file for `dataset`."""
  return WEIGHTS_DIR / f"{dataset}.npz"


def init_params(seed: int = 0) -> Any:
  """Freshly initialised ClassifierNet params."""
  return ClassifierNet().init(jax.random.PRNGKey(seed),
                              jnp.zeros((1, *IMAGE_SHAPE), jnp.float32))["params"]


def save_classifier(path: pathlib.Path, params: Any, dataset: str, test_accuracy: float,
                    command: str) -> None:
  """Writes params (flattened "params/Conv_0/kernel" -> array) and metadata."""
  arrays = {PARAMS_PREFIX + "/".join(key): np.asarray(value) for key, value in
            traverse_util.flatten_dict(jax.device_get(params)).items()}
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  partial = path.with_name(path.name + ".partial.npz")
  np.savez_compressed(partial, dataset=np.str_(dataset), command=np.str_(command),
                      test_accuracy=np.float64(test_accuracy), **arrays)
  partial.replace(path)


def load_classifier(dataset: str, path: Optional[Union[str, pathlib.Path]] = None
                    ) -> Classifier:
  """The classifier for `dataset` from `path` (default: the shipped file).

  Raises UsageError naming the file and the fix when it is missing, not a
  weights file of this network, or made for another dataset.
  """
  if dataset not in DATASETS:
    raise UsageError(f"no digit classifier for dataset {dataset!r}; it exists for "
                     f"{', '.join(DATASETS)}")
  path = pathlib.Path(path) if path else weights_path(dataset)
  fix = (f"rerun python -m jaxgen.experiments.train_classifier --dataset {dataset} "
         f"--out {path}")
  if not path.is_file():
    raise UsageError(f"classifier weights {path} not found; {fix}")
  try:
    with np.load(path, allow_pickle=False) as arrays:
      stored = {key: arrays[key] for key in arrays.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile):
    stored = None
  expected = traverse_util.flatten_dict(jax.eval_shape(init_params))
  wanted = {PARAMS_PREFIX + "/".join(key): value for key, value in expected.items()}
  if stored is None or not {"dataset", "test_accuracy"} <= stored.keys() or any(
      key not in stored or stored[key].shape != value.shape for key, value in wanted.items()):
    raise UsageError(f"{path} is not a classifier weights file of this jaxgen version; {fix}")
  if str(stored["dataset"]) != dataset:
    raise UsageError(f"{path} holds {stored['dataset']} classifier weights, not {dataset}; "
                     f"{fix}")
  params = traverse_util.unflatten_dict(
      {key: jnp.asarray(stored[PARAMS_PREFIX + "/".join(key)], jnp.float32)
       for key in expected})
  return Classifier(dataset, params, float(stored["test_accuracy"]))


@jax.jit
def _probabilities(params: Any, images: jnp.ndarray) -> jnp.ndarray:
  return jax.nn.softmax(ClassifierNet().apply({"params": params}, images))


def _model_input(images: np.ndarray) -> np.ndarray:
  """[N, 28, 28, 1] uint8 in [0, 255] or float -> float32 in [-1, 1]
  (floats clipped to it; NaN stays NaN)."""
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
    raise UsageError(f"the digit classifier needs images of shape [N, 28, 28, 1], got "
                     f"{list(images.shape)}")
  if images.dtype == np.uint8:
    return images.astype(np.float32) / 127.5 - 1.0
  return np.clip(images.astype(np.float32), -1.0, 1.0)


def class_probabilities(images: np.ndarray, classifier: Classifier) -> np.ndarray:
  """Finite images [N, 28, 28, 1] (uint8, or float in [-1, 1]) -> float32 [N, 10],
  in batches of BATCH_SIZE."""
  images = _model_input(images)
  count = len(images)
  padded = np.zeros((-(-count // BATCH_SIZE) * BATCH_SIZE, *IMAGE_SHAPE), np.float32)
  padded[:count] = images
  batches = [_probabilities(classifier.params, padded[i:i + BATCH_SIZE])
             for i in range(0, len(padded), BATCH_SIZE)]
  return np.concatenate(jax.device_get(batches))[:count]


def classifier_metrics(images: np.ndarray, classifier: Classifier) -> Dict[str, float]:
  """Scores images [N, 28, 28, 1] (uint8, or float in [-1, 1]) with N > 0.

  Returns:
    {'confident_fraction': float in [0, 1], 'classes_covered': int in [0, 10],
     'class_kl': float >= 0, NaN when no image is finite}.
  """
  images = _model_input(images)
  if not len(images):
    raise UsageError("classifier metrics need at least one image, got none")
  finite = np.isfinite(images).all(axis=(1, 2, 3))
  probabilities = class_probabilities(
      np.where(finite[:, None, None, None], images, 0.0), classifier)
  counts = np.bincount(probabilities[finite].argmax(axis=1), minlength=NUM_CLASSES)
  confident = finite & (probabilities.max(axis=1) >= CONFIDENCE)
  return {
      "confident_fraction": float(confident.mean()),
      "classes_covered": int((counts >= COVERAGE_FRACTION * len(images) / NUM_CLASSES).sum()),
      "class_kl": _uniform_kl(counts),
  }


def _uniform_kl(counts: np.ndarray) -> float:
  """KL(q || uniform) in nats, q the add-1/2 smoothed histogram `counts` [K]."""
  if not counts.sum():
    return float("nan")
  q = (counts + SMOOTHING) / (counts.sum() + SMOOTHING * len(counts))
  return float(np.sum(q * np.log(q * len(counts))))
