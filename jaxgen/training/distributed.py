"""Several processes, one run: jax.distributed set-up and the one writer.

Every process runs the same program on its own devices; the mesh in
`sharding.make_mesh` spans the devices of all of them, so each train step is
one global computation. Anything that writes files (metrics, samples, plots,
summaries, statistics caches) does so on process 0 only; checkpoints are
written by orbax, which coordinates the processes itself.
"""

from typing import Optional

import jax
from jax.experimental import multihost_utils
import numpy as np

from jaxgen.errors import UsageError, first_line


def initialize(coordinator: Optional[str] = None, num_processes: Optional[int] = None,
               process_id: Optional[int] = None, auto: bool = False) -> None:
  """Joins this process to a multi-process run, before any JAX computation.

  Either all three of `coordinator` ("host:port" of process 0),
  `num_processes` and `process_id` are given, or `auto` asks JAX to read them
  from the cluster (Cloud TPU pods, SLURM, Open MPI). With none, nothing happens.
  """
  explicit = (coordinator, num_processes, process_id)
  if all(value is None for value in explicit) and not auto:
    return
  if any(value is None for value in explicit) and not all(
      value is None for value in explicit):
    raise UsageError("--coordinator, --num-processes and --process-id go together; "
                     "pass all three, or --distributed to detect them on a cluster")
  if num_processes is not None and not 0 <= process_id < num_processes:
    raise UsageError(f"--process-id must be in 0..{num_processes - 1}, got {process_id}")
  try:
    jax.distributed.initialize(coordinator, num_processes, process_id)
  except (ValueError, RuntimeError) as error:
    raise UsageError(f"could not start the multi-process run ({first_line(error)}); check "
                     "--coordinator/--num-processes/--process-id") from None


def is_main_process() -> bool:
  """True on the one process that writes files (process 0)."""
  return jax.process_index() == 0


def wait_for_all(name: str) -> None:
  """Blocks until every process reaches the barrier `name` (no-op alone)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def max_over_processes(value: int) -> int:
  """The largest of every process's `value` (a collective: every process calls it)."""
  if jax.process_count() == 1:
    return value
  return int(np.max(multihost_utils.process_allgather(np.int32(value))))
