"""Precision, recall, density and coverage of generated features against real ones.

Each set is read as a union of balls: around every feature, the ball reaching
its k-th nearest neighbour in the same set (the point itself left out). For real
features [N, D] and fake features [M, D] (Kynkäänniemi et al. 2019, Naeem et al.
2020; the definitions of clovaai/generative-evaluation-prdc, strict "<" included):

- precision: the fraction of fakes inside at least one real ball (fidelity);
- recall: the fraction of reals inside at least one fake ball (diversity);
- density: the number of real balls holding each fake, over k, averaged over the
  fakes; about 1 for two samples of one distribution, above 1 where fakes crowd
  into dense real regions;
- coverage: the fraction of reals whose own ball holds their nearest fake.

All four depend on N, M and k, so compare them only between equal set sizes.
Distances are computed in blocks of `block_size` rows against the whole other
set, so memory grows with block_size x max(N, M), never N x M.
"""

import functools
from typing import Callable, Dict

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import UsageError

NEAREST_K = 5


def _squared_distances(rows: jax.Array, others: jax.Array,
                       others_sq_norms: jax.Array) -> jax.Array:
  """[B, D], [N, D], [N] float32 -> [B, N] squared Euclidean distances, >= 0."""
  # HIGHEST: GPUs would otherwise multiply float32 in TF32 (about 3 digits).
  cross = jnp.matmul(rows, others.T, precision=jax.lax.Precision.HIGHEST)
  rows_sq_norms = jnp.sum(rows * rows, axis=1)
  # Rounding can push |a|^2 + |b|^2 - 2ab of near-equal rows just below 0.
  return jnp.maximum(rows_sq_norms[:, None] + others_sq_norms[None, :] - 2 * cross, 0.0)


def _map_row_blocks(block_fn: Callable, rows: jax.Array, block_size: int):
  """block_fn(rows [B, D], row indices [B]) over row blocks, outputs joined: [N, ...]."""
  num_rows = rows.shape[0]
  block_size = min(block_size, num_rows)
  num_blocks = -(-num_rows // block_size)
  padded = jnp.pad(rows, ((0, num_blocks * block_size - num_rows), (0, 0)))
  blocks = padded.reshape(num_blocks, block_size, rows.shape[1])
  indices = jnp.arange(num_blocks * block_size).reshape(num_blocks, block_size)
  outputs = jax.lax.map(lambda args: block_fn(*args), (blocks, indices))
  return jax.tree_util.tree_map(lambda x: x.reshape(-1, *x.shape[2:])[:num_rows], outputs)


def _kth_neighbour_sq_distances(features: jax.Array, sq_norms: jax.Array,
                                nearest_k: int, block_size: int) -> jax.Array:
  """[N] squared distance from each row of features [N, D] to its k-th nearest other row."""
  columns = jnp.arange(features.shape[0])

  def block(rows, row_indices):
    distances = _squared_distances(rows, features, sq_norms)
    distances = jnp.where(row_indices[:, None] == columns[None, :], jnp.inf, distances)
    return -jax.lax.top_k(-distances, nearest_k)[0][:, -1]

  return _map_row_blocks(block, features, block_size)


@functools.partial(jax.jit, static_argnames=("nearest_k", "block_size"))
def _ball_counts(real: jax.Array, fake: jax.Array, nearest_k: int,
                 block_size: int) -> Dict[str, jax.Array]:
  """Per-point counts behind the four metrics; real [N, D], fake [M, D] float32.

  Returns fake_in_real_balls [M] bool, real_balls_per_fake [M] int32,
  real_in_fake_balls [N] bool and real_covered [N] bool.
  """
  # Distances do not change under a shift; centring shrinks |a|^2 and with it
  # the cancellation in |a|^2 + |b|^2 - 2ab (pool3 features are all >= 0).
  center = jnp.mean(real, axis=0)
  real, fake = real - center, fake - center
  real_sq_norms = jnp.sum(real * real, axis=1)
  fake_sq_norms = jnp.sum(fake * fake, axis=1)
  real_radii = _kth_neighbour_sq_distances(real, real_sq_norms, nearest_k, block_size)
  fake_radii = _kth_neighbour_sq_distances(fake, fake_sq_norms, nearest_k, block_size)

  def fake_block(rows, _):
    inside_real_balls = _squared_distances(rows, real, real_sq_norms) < real_radii[None, :]
    return inside_real_balls.any(axis=1), inside_real_balls.sum(axis=1)

  def real_block(rows, _):
    distances = _squared_distances(rows, fake, fake_sq_norms)
    return (distances < fake_radii[None, :]).any(axis=1), distances.min(axis=1)

  fake_in_real_balls, real_balls_per_fake = _map_row_blocks(fake_block, fake, block_size)
  real_in_fake_balls, nearest_fake = _map_row_blocks(real_block, real, block_size)
  return {"fake_in_real_balls": fake_in_real_balls,
          "real_balls_per_fake": real_balls_per_fake,
          "real_in_fake_balls": real_in_fake_balls,
          "real_covered": nearest_fake < real_radii}


def prdc(real_features: np.ndarray, fake_features: np.ndarray,
         nearest_k: int = NEAREST_K, block_size: int = 1024) -> Dict[str, float]:
  """{"precision", "recall", "density", "coverage"} of fakes against reals.

  Args:
    real_features: [N, D] float features of real images, N > nearest_k.
    fake_features: [M, D] float features of generated images, M > nearest_k.
    nearest_k: the neighbour whose distance is a ball's radius.
    block_size: rows per block of distances (memory, not the result).

  Returns:
    Python floats: precision, recall, coverage in [0, 1]; density in [0, N/k].
  """
  real = jnp.asarray(real_features, jnp.float32)
  fake = jnp.asarray(fake_features, jnp.float32)
  if nearest_k < 1 or block_size < 1:
    raise UsageError(f"nearest_k and block_size must be at least 1, got {nearest_k} "
                     f"and {block_size}")
  if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
    raise UsageError(f"PRDC needs features [N, D] and [M, D] of one width, got "
                     f"{real.shape} and {fake.shape}; compare features of one network")
  if min(len(real), len(fake)) <= nearest_k:
    raise UsageError(f"PRDC with k = {nearest_k} needs more than {nearest_k} features "
                     f"per set, got {len(real)} real and {len(fake)} fake; pass more images")
  counts = jax.device_get(_ball_counts(real, fake, nearest_k=nearest_k,
                                       block_size=block_size))
  # Averaged on the host in float64, so 4 of 5 prints as 0.8.
  return {"precision": float(np.mean(counts["fake_in_real_balls"])),
          "recall": float(np.mean(counts["real_in_fake_balls"])),
          "density": float(np.mean(counts["real_balls_per_fake"], dtype=np.float64)
                           / nearest_k),
          "coverage": float(np.mean(counts["real_covered"]))}
