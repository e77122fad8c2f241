"""Pool3 features of uint8 images: jit-compiled, batched, sharded over devices.

The batch is split along the mesh axis "data" over `jax.devices()` and the
Inception params are replicated, as in training; the features come back
replicated, so every process of a multi-process run holds all of them. Every
call runs one fixed batch shape (the last batch is zero-padded), so the network
compiles once per image size.
"""

import functools
import time
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh

from jaxgen.errors import UsageError
from jaxgen.metrics import inception, preprocess
from jaxgen.training import sharding


def _pool3(params: Any, images: jax.Array) -> jax.Array:
  return inception.InceptionV3().apply(
      {"params": params}, preprocess.inception_input(images))


@functools.lru_cache(maxsize=None)
def _pool3_on(mesh: Mesh) -> Callable[[Any, jax.Array], jax.Array]:
  """jit(_pool3) for `mesh`, with the features replicated on it."""
  return jax.jit(_pool3, out_shardings=sharding.replicated(mesh))


class FeatureExtractor:
  """uint8 images -> pool3 features, counting images/s.

  `images_per_second` leaves out the first batch (compilation) when there were
  more batches; with one batch it is the plain rate.
  """

  def __init__(self, params: Any, batch_size: int = 64,
               devices: Optional[Sequence[jax.Device]] = None):
    if batch_size < 1:
      raise UsageError(f"--batch-size must be positive, got {batch_size}")
    self.mesh = sharding.make_mesh(devices)
    # Round up so the batch splits evenly over the devices.
    self.batch_size = -(-batch_size // self.mesh.size) * self.mesh.size
    self._batch_sharding = sharding.batch_sharded(self.mesh)
    self.params = jax.device_put(params, sharding.replicated(self.mesh))
    self._pool3 = _pool3_on(self.mesh)
    self._batches = 0
    self._images = 0
    self._seconds = 0.0
    self._first = (0, 0.0)

  def __call__(self, images: np.ndarray) -> np.ndarray:
    """[N, H, W(, 1|3)] uint8 -> [N, 2048] float32; N <= batch_size."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
      raise UsageError(f"images must be uint8 in [0, 255], got {images.dtype}; "
                       "convert with np.clip(x, 0, 255).astype(np.uint8)")
    if images.ndim == 3:
      images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
      raise UsageError(f"images must be [N, H, W] or [N, H, W, 1|3], got "
                       f"{images.shape}")
    n = len(images)
    if not 0 < n <= self.batch_size:
      raise ValueError(f"batch of {n} images; expected 1..{self.batch_size}")
    # RGB on the host, so gray and colour inputs share one compilation.
    padded = np.zeros((self.batch_size, *images.shape[1:3], 3), np.uint8)
    padded[:n] = images
    start = time.perf_counter()
    features = np.asarray(self._pool3(
        self.params, jax.device_put(padded, self._batch_sharding)))[:n]
    self._record(n, time.perf_counter() - start)
    return features

  def _record(self, n: int, seconds: float) -> None:
    if self._batches == 0:
      self._first = (n, seconds)
    self._batches += 1
    self._images += n
    self._seconds += seconds

  def batches(self, images: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Features of each uint8 batch from `images`, re-cut to `batch_size`."""
    pending = []
    count = 0
    for batch in images:
      batch = np.asarray(batch)
      while len(batch):
        take = min(self.batch_size - count, len(batch))
        pending.append(batch[:take])
        count += take
        batch = batch[take:]
        if count == self.batch_size:
          yield self(np.concatenate(pending))
          pending, count = [], 0
    if count:
      yield self(np.concatenate(pending))

  def lowered_for(self, images: np.ndarray):
    """The network lowered (not compiled) for a batch shaped like `images`
    (uint8 [N, H, W(, C)]), e.g. for XLA's cost analysis."""
    shape = (self.batch_size, *np.shape(images)[1:3], 3)
    return self._pool3.lower(self.params, jax.ShapeDtypeStruct(
        shape, np.uint8, sharding=self._batch_sharding))

  @property
  def images_per_second(self) -> float:
    """Images/s over all calls but the first (compilation), when possible."""
    images, seconds = self._images, self._seconds
    if self._batches > 1:
      images -= self._first[0]
      seconds -= self._first[1]
    return images / seconds if seconds > 0 else float("nan")
