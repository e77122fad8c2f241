"""Orbax checkpoints of the TrainState: save, resume, and never keep a broken one.

Orbax writes each step into a temporary folder and renames it when complete,
so an interrupted save never replaces a good checkpoint; on top of that we
refuse to save a state with a non-finite float leaf.
"""

import pathlib
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from jaxgen.errors import UsageError
from jaxgen.training.state import TrainState


@jax.jit
def _finite_flags(leaves):
  return jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])


def all_finite(tree) -> bool:
  """True when every float leaf of `tree` is finite (one compiled call, one
  device->host sync)."""
  leaves = [x for x in jax.tree_util.tree_leaves(tree)
            if jnp.issubdtype(x.dtype, jnp.floating)]
  return bool(np.all(_finite_flags(leaves))) if leaves else True


class Checkpointer:
  """Keeps the newest `max_to_keep` checkpoints under `directory`."""

  def __init__(self, directory: pathlib.Path, max_to_keep: int = 2):
    self._manager = ocp.CheckpointManager(
        pathlib.Path(directory).absolute(),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=False))

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def restore(self, like: TrainState) -> TrainState:
    """The latest checkpoint, with the shardings and dtypes of `like`."""
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
    step = self._manager.latest_step()
    try:
      return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except (ValueError, KeyError, TypeError) as error:
      reason = str(error).strip().splitlines()[0][:200]
      raise UsageError(f"checkpoint {self._manager.directory / str(step)} does not fit "
                       f"this model ({reason}); it was written by another config or "
                       f"jaxgen version: use a new --workdir") from None

  def save(self, state: TrainState) -> bool:
    """Saves `state` unless it is already saved; False (and nothing written)
    when a float leaf of it (params, EMA params, optimizer or model state) is
    not finite."""
    step = int(state.step)
    if step == self._manager.latest_step():
      return True
    if not all_finite(state):
      return False
    if jax.process_count() == 1:
      # One copy, from one device: orbax's replica-parallel writing of a state
      # replicated on N devices compiles a slice per device and array shape
      # (about 25 s for a small UNet on 8 CPU devices), and writes the same bytes.
      state = jax.device_put(state, jax.devices()[0])
    self._manager.save(step, args=ocp.args.StandardSave(state))
    self._manager.wait_until_finished()
    return True

  def close(self) -> None:
    self._manager.close()
