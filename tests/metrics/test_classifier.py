"""The digit classifier metric: shipped weights, what the metrics say about
real, one-class, noise and diverged images, and bad weight files."""

import math
import pathlib

import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen.errors import UsageError
from jaxgen.experiments import train_classifier
from jaxgen.experiments.cli import run_main
from jaxgen.metrics import classifier as classifier_lib
from jaxgen.training.evaluate import real_data_metrics, sample_classifier, sample_metrics
from jaxgen.training.loop import train_and_evaluate

ACCURACY_TARGET = {"mnist": 0.99, "fashion_mnist": 0.90}
# Fashion-MNIST's shirts, T-shirts and pullovers look alike: its classifier is
# sure of fewer real test images.
REAL_CONFIDENT_FRACTION = {"mnist": 0.95, "fashion_mnist": 0.7}


def image_config(dataset="mnist", **fields):
  config = config_lib.get_config("vae", dataset, "cpu")
  config.update(fields)
  return config


def classifier_metrics_of(images, classifier):
  metrics = classifier_lib.classifier_metrics(images, classifier)
  assert set(metrics) == {"confident_fraction", "classes_covered", "class_kl"}
  return metrics


def smoothed_uniform_kl(counts):
  """KL(q || uniform), q = (counts + 1/2) / (n + 10/2): mixtures.py's convention."""
  q = [(c + 0.5) / (sum(counts) + 5) for c in counts]
  return sum(p * math.log(10 * p) for p in q)


def constant_classifier(probabilities):
  """A Classifier that gives every image the class probabilities [10]."""
  params = jax.tree_util.tree_map(np.zeros_like, classifier_lib.init_params())
  params["Dense_0"]["bias"] = np.log(np.asarray(probabilities, np.float32))
  return classifier_lib.Classifier("mnist", params)


def rewrite(path: pathlib.Path, drop=(), **replace) -> pathlib.Path:
  """A copy of the shipped MNIST weights at `path` without `drop`, with `replace`."""
  with np.load(classifier_lib.weights_path("mnist")) as arrays:
    stored = {k: arrays[k] for k in arrays.files if k not in drop}
  np.savez(path, **{**stored, **replace})
  return path


def not_a_zip_file(path: pathlib.Path) -> pathlib.Path:
  path.write_bytes(b"not a zip file")
  return path


@pytest.fixture(scope="module")
def mnist_test(shared_data_dir):
  return data.load("mnist", "test", str(shared_data_dir))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_shipped_weights_are_small_and_accurate_on_the_real_test_split(
    dataset, shared_data_dir):
  path = classifier_lib.weights_path(dataset)
  assert path.stat().st_size < 1_000_000
  with np.load(path) as stored:
    assert str(stored["command"]) == ("python -m jaxgen.experiments.train_classifier "
                                      f"--dataset {dataset} --data-dir ../shared/data")
  classifier = classifier_lib.load_classifier(dataset)
  assert classifier.test_accuracy >= ACCURACY_TARGET[dataset]
  test = data.load(dataset, "test", str(shared_data_dir))
  predictions = classifier_lib.class_probabilities(test.x, classifier).argmax(axis=1)
  accuracy = np.mean(predictions == test.labels)
  assert accuracy >= ACCURACY_TARGET[dataset]
  assert accuracy == pytest.approx(classifier.test_accuracy, abs=1e-3)
  ceiling = real_data_metrics(image_config(dataset), str(shared_data_dir))
  assert ceiling["classes_covered"] == 10
  assert ceiling["confident_fraction"] > REAL_CONFIDENT_FRACTION[dataset]
  assert ceiling["class_kl"] < 0.01


@pytest.mark.parametrize("top, confident", [(0.91, 1.0), (0.89, 0.0)])
def test_a_sample_is_confident_from_a_class_probability_of_0_9(top, confident):
  classifier = constant_classifier([top] + 9 * [(1 - top) / 9])
  images = np.zeros((4, 28, 28, 1), np.uint8)
  assert classifier_metrics_of(images, classifier)["confident_fraction"] == confident


def test_a_class_is_covered_from_a_fifth_of_its_share_and_kl_is_smoothed(mnist_test):
  classifier = classifier_lib.load_classifier("mnist")
  probabilities = classifier_lib.class_probabilities(mnist_test.x, classifier)
  predicted, confident = probabilities.argmax(axis=1), probabilities.max(axis=1) >= 0.9
  # 100 images: 95 confident 0s, 2 confident 1s (a fifth of the uniform share
  # of 10, so covered), 1 confident 2 (not covered) and 2 unsure 3s (covered:
  # a class counts every sample it is the most probable class of).
  images = np.concatenate([mnist_test.x[(predicted == k) & (confident == sure)][:count]
                           for k, sure, count in ((0, True, 95), (1, True, 2),
                                                  (2, True, 1), (3, False, 2))])
  metrics = classifier_metrics_of(images, classifier)
  assert metrics["confident_fraction"] == pytest.approx(0.98)
  assert metrics["classes_covered"] == 3
  assert metrics["class_kl"] == pytest.approx(smoothed_uniform_kl([95, 2, 1, 2] + 6 * [0]))


def test_one_class_covers_one_and_has_the_kl_of_a_single_class(mnist_test):
  classifier = classifier_lib.load_classifier("mnist")
  threes = mnist_test.x[mnist_test.labels == 3]
  metrics = classifier_metrics_of(threes, classifier)
  assert metrics["classes_covered"] == 1
  assert metrics["confident_fraction"] > 0.95
  # log 10 less the smoothing, as if every image were read as a 3.
  single_class_kl = smoothed_uniform_kl([len(threes)] + 9 * [0])
  assert single_class_kl == pytest.approx(math.log(10), abs=0.05)
  assert metrics["class_kl"] == pytest.approx(single_class_kl, abs=0.05)


def test_uint8_and_float_images_score_alike(mnist_test):
  classifier = classifier_lib.load_classifier("mnist")
  images = mnist_test.x[:500]
  as_float = images.astype(np.float32) / 127.5 - 1.0
  assert classifier_metrics_of(images, classifier) == pytest.approx(
      classifier_metrics_of(as_float, classifier))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_noise_is_not_confident(dataset):
  classifier = classifier_lib.load_classifier(dataset)
  noise = np.random.default_rng(0).uniform(-1, 1, (500, 28, 28, 1)).astype(np.float32)
  assert classifier_metrics_of(noise, classifier)["confident_fraction"] < 0.05


def test_non_finite_images_are_not_confident_and_left_out_of_the_histogram():
  classifier = constant_classifier([0.95] + 9 * [0.05 / 9])
  images = np.zeros((100, 28, 28, 1), np.float32)
  images[50:, 0, 0, 0] = np.nan
  images[99, 5, 5, 0] = np.inf
  metrics = classifier_metrics_of(images, classifier)
  assert metrics["confident_fraction"] == 0.5
  assert metrics["classes_covered"] == 1
  assert metrics["class_kl"] == pytest.approx(smoothed_uniform_kl([50] + 9 * [0]))
  assert math.isnan(classifier_metrics_of(images[50:], classifier)["class_kl"])


def test_sample_metrics_follow_config_classifier_weights(mnist_test, tmp_path):
  images = mnist_test.x[:20]
  assert set(sample_metrics(images, "mnist", sample_classifier(image_config()))) == {
      "confident_fraction", "classes_covered", "class_kl"}
  assert sample_classifier(image_config(classifier_weights="off")) is None
  assert sample_metrics(images, "mnist", None) == {}
  missing = tmp_path / "missing.npz"
  with pytest.raises(UsageError, match="classifier_weights=off"):
    sample_classifier(image_config(classifier_weights=str(missing)))


@pytest.mark.parametrize("make_file, problem", [
    (lambda path: path, "not found"),
    (not_a_zip_file, "not a classifier weights"),
    (lambda path: rewrite(path, drop=["params/Dense_0/kernel"]), "not a classifier weights"),
    (lambda path: rewrite(path, drop=["dataset"]), "not a classifier weights"),
    (lambda path: rewrite(path, **{"params/Conv_0/kernel": np.zeros((5, 5, 1, 16))}),
     "not a classifier weights"),
    (lambda path: rewrite(path, dataset=np.str_("fashion_mnist")),
     "holds fashion_mnist classifier weights, not mnist"),
], ids=["missing", "not_npz", "missing_param", "missing_dataset", "wrong_shape",
        "other_dataset"])
def test_bad_weight_files_name_the_file_and_the_command_that_remakes_it(
    make_file, problem, tmp_path):
  path = make_file(tmp_path / "weights.npz")
  with pytest.raises(UsageError) as error:
    classifier_lib.load_classifier("mnist", path)
  message = str(error.value)
  assert problem in message and str(path) in message and "\n" not in message
  assert (f"python -m jaxgen.experiments.train_classifier --dataset mnist --out {path}"
          in message)


def test_a_run_with_a_bad_weights_file_fails_before_anything_is_written(tmp_path):
  with pytest.raises(UsageError, match="missing.npz not found"):
    train_and_evaluate(image_config(classifier_weights=str(tmp_path / "missing.npz")),
                       tmp_path / "run")
  assert not (tmp_path / "run").exists()


def test_training_command_writes_weights_that_load(tmp_path, monkeypatch, mnist_test):
  small = data.Dataset("mnist", "test", mnist_test.x[:500], mnist_test.labels[:500], 10)
  monkeypatch.setattr(train_classifier, "EPOCHS", 1)
  monkeypatch.setattr(train_classifier.data, "load", lambda *args: small)
  out = tmp_path / "mnist.npz"
  assert run_main(train_classifier.main, ["--dataset", "mnist", "--out", str(out)]) == 0
  classifier = classifier_lib.load_classifier("mnist", out)
  assert 0.1 < classifier.test_accuracy <= 1  # better than chance after 5 steps
  with pytest.raises(UsageError, match="holds mnist classifier weights, not fashion_mnist"):
    classifier_lib.load_classifier("fashion_mnist", out)
