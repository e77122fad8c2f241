"""Train the digit classifier behind the class metrics of image samples.

  python -m jaxgen.experiments.train_classifier --dataset mnist --data-dir ../shared/data
  python -m jaxgen.experiments.train_classifier --dataset fashion_mnist --data-dir ../shared/data

Trains `jaxgen.metrics.classifier.ClassifierNet` on the train split (plus
uniform-noise images that should get no class) with Adam and a cosine-decayed
learning rate, from a fixed seed in a fixed data order, so the same machine and
jaxlib give the same weights. Prints each epoch's loss and test accuracy, and
writes the weights with the dataset, the test accuracy and this command to
`--out` (default: the file shipped in the package).
"""

import argparse
import sys
import time
from typing import Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgen import data
from jaxgen import report
from jaxgen.experiments.cli import ArgumentParser, run_main
from jaxgen.metrics import classifier as classifier_lib

SEED = 0
EPOCHS = 3
BATCH_SIZE = 100  # divides both 60,000-image train splits: every step sees a full batch
LEARNING_RATE = 2e-3  # at the first step, decayed to 0 at the last
# Uniform-noise images beside each batch, taught to give uniform class
# probabilities (outlier exposure, Hendrycks et al. 2019): a plain classifier
# reads such noise as a confident digit, which would count noise as quality.
NOISE_PER_BATCH = 20
NOISE_WEIGHT = 0.5


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(prog="python -m jaxgen.experiments.train_classifier",
                                   description=__doc__.splitlines()[0])
  parser.add_argument("--dataset", required=True, choices=classifier_lib.DATASETS)
  parser.add_argument("--data-dir", default=None, help="folder with the IDX files")
  parser.add_argument("--out", default=None,
                      help="weights file (default: the package's classifier_weights/"
                           "DATASET.npz)")
  return parser.parse_args(argv)


def make_train_step(optimizer: optax.GradientTransformation):
  """jit(params, opt_state, images [B, 28, 28, 1] and noise [M, 28, 28, 1] in
  [-1, 1], labels [B] int32) -> (params, opt_state, loss): the images' mean
  cross-entropy plus NOISE_WEIGHT times the noise's mean KL(uniform || p)."""
  net = classifier_lib.ClassifierNet()

  def loss_fn(params, images, noise, labels):
    logits = net.apply({"params": params}, jnp.concatenate([images, noise]))
    image_logits, noise_logits = logits[:len(images)], logits[len(images):]
    uniform = jnp.full_like(noise_logits, 1 / classifier_lib.NUM_CLASSES)
    noise_kl = (optax.softmax_cross_entropy(noise_logits, uniform).mean()
                - jnp.log(classifier_lib.NUM_CLASSES))
    return (optax.softmax_cross_entropy_with_integer_labels(image_logits, labels).mean()
            + NOISE_WEIGHT * noise_kl)

  @jax.jit
  def train_step(params, opt_state, images, noise, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, images, noise, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
  return train_step


def accuracy(classifier: classifier_lib.Classifier, split: data.Dataset) -> float:
  """The fraction of `split`'s images whose most probable class is their label."""
  predictions = classifier_lib.class_probabilities(split.x, classifier).argmax(axis=1)
  return float(np.mean(predictions == split.labels))


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  out = args.out or classifier_lib.weights_path(args.dataset)
  train = data.load(args.dataset, "train", args.data_dir)
  test = data.load(args.dataset, "test", args.data_dir)
  train_images = train.x.astype(np.float32) / 127.5 - 1.0
  train_labels = train.labels.astype(np.int32)
  steps = EPOCHS * len(train_images) // BATCH_SIZE
  optimizer = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE, steps))
  params = classifier_lib.init_params(SEED)
  opt_state = optimizer.init(params)
  train_step = make_train_step(optimizer)
  order_rng = np.random.default_rng(SEED)
  started = time.perf_counter()
  for epoch in range(1, EPOCHS + 1):
    losses = []
    for batch in order_rng.permutation(len(train_images)).reshape(-1, BATCH_SIZE):
      noise = order_rng.uniform(-1, 1, (NOISE_PER_BATCH, *classifier_lib.IMAGE_SHAPE))
      params, opt_state, loss = train_step(params, opt_state, train_images[batch],
                                           noise.astype(np.float32), train_labels[batch])
      losses.append(loss)
    test_accuracy = accuracy(classifier_lib.Classifier(args.dataset, params), test)
    print(f"epoch {epoch}/{EPOCHS}: loss {np.mean(jax.device_get(losses)):.4f} | "
          f"test accuracy {test_accuracy:.4f} | {time.perf_counter() - started:.0f} s",
          flush=True)
  classifier_lib.save_classifier(out, params, args.dataset, test_accuracy,
                                 report.command_line())
  print(f"{args.dataset} test accuracy {test_accuracy:.4f}; weights written to {out}")


if __name__ == "__main__":
  sys.exit(run_main(main))
