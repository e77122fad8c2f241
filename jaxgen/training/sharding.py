"""Data parallelism with jax.sharding: batch split over devices, the rest replicated."""

from typing import Any, Callable, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgen.errors import UsageError

DATA_AXIS = "data"


def make_mesh(devices: Optional[Sequence[jax.Device]] = None) -> Mesh:
  """A 1-D mesh over `devices` (default: every device this process sees)."""
  devices = jax.devices() if devices is None else list(devices)
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  """Leading (batch) axis split over the mesh."""
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def split_batch(x: jax.Array, mesh: Mesh) -> jax.Array:
  """Inside jit: x [B, ...] computed batch-parallel over the mesh when the mesh
  divides B (a sharding constraint; the values do not change), else as it is.

  Put on a sampler's output, it makes XLA split the whole sampling loop over
  the devices instead of running it whole on each one.
  """
  if x.shape[0] % mesh.size:
    return x
  return jax.lax.with_sharding_constraint(x, batch_sharded(mesh))


def batch_parallel(fn: Callable[..., Any], mesh: Mesh) -> Callable[..., Any]:
  """jit(fn) for a sampler fn(...) -> samples [B, ...] or (samples, extra):
  the samples drawn batch-parallel over the mesh (split_batch), every output
  returned replicated. Its array arguments should be replicated over the mesh.
  """
  def parallel(*args, **kwargs):
    out = fn(*args, **kwargs)
    if isinstance(out, tuple):
      return (split_batch(out[0], mesh), *out[1:])
    return split_batch(out, mesh)
  return jax.jit(parallel, out_shardings=replicated(mesh))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  if batch_size % mesh.size:
    raise UsageError(f"batch_size {batch_size} is not divisible by the {mesh.size} "
                     f"devices; set --config.batch_size to a multiple of {mesh.size}")
