"""Orbax checkpoints of the TrainState: save, resume, and never keep a broken one.

Orbax writes each step into a temporary folder and renames it when complete,
so an interrupted save never replaces a good checkpoint; on top of that we
refuse to save a state with a non-finite float leaf, store a SHA-256 of every
file of a saved checkpoint beside it (orbax keeps no checksum of the array
data: a flipped byte restores silently), and restore the newest checkpoint
whose files match their checksums and that orbax reads back.
"""

import hashlib
import json
import pathlib
import shutil
import sys
from typing import Callable, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from jaxgen import report
from jaxgen.errors import UsageError, first_line
from jaxgen.training import distributed
from jaxgen.training.state import TrainState

CHECKSUM_FILE = "jaxgen_checksums.json"
# Where a resumed run moves the checkpoints it could not restore, beside the
# checkpoints folder: kept for the user, out of the way of the steps it retrains.
UNREADABLE_DIR = "unreadable_checkpoints"


@jax.jit
def _finite_flags(leaves):
  """One flag per dtype: are all its leaves finite. The leaves of a dtype are
  checked as one concatenation, which XLA:CPU compiles in a third of the time
  of a reduction per leaf (hundreds for a UNet's train state)."""
  by_dtype = {}
  for x in leaves:
    by_dtype.setdefault(x.dtype, []).append(x.ravel())
  return jnp.stack([jnp.all(jnp.isfinite(jnp.concatenate(xs))) for xs in by_dtype.values()])


def all_finite(tree) -> bool:
  """True when every float leaf of `tree` is finite (one compiled call, one
  device->host sync)."""
  leaves = [x for x in jax.tree_util.tree_leaves(tree)
            if jnp.issubdtype(x.dtype, jnp.floating)]
  return bool(np.all(_finite_flags(leaves))) if leaves else True


def file_checksums(step_dir: pathlib.Path) -> Dict[str, str]:
  """SHA-256 (hex) of every file of a checkpoint, by path relative to it."""
  checksums = {}
  for path in sorted(step_dir.rglob("*")):
    if path.is_file() and path.name != CHECKSUM_FILE:
      digest = hashlib.sha256()
      with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
          digest.update(chunk)
      checksums[str(path.relative_to(step_dir))] = digest.hexdigest()
  return checksums


def checksum_problem(step_dir: pathlib.Path) -> str:
  """Why the files of a checkpoint are not those saved, or "" when they are or
  when it has no checksums (written before them, or stopped before them).
  Checked before orbax reads anything: orbax reads a changed byte back
  silently, and a missing or truncated file ends in tracebacks from its
  reader threads as well as an exception."""
  checksum_file = step_dir / CHECKSUM_FILE
  if not checksum_file.is_file():
    return ""
  try:
    expected = json.loads(checksum_file.read_text())["sha256"]
    if not isinstance(expected, dict):
      raise TypeError("no table of files")
  except (OSError, ValueError, KeyError, TypeError) as error:
    return f"its {CHECKSUM_FILE} is unreadable ({first_line(error)})"
  actual = file_checksums(step_dir)
  for name, checksum in expected.items():
    if name not in actual:
      return f"its file {name} is missing"
    if actual[name] != checksum:
      return (f"its file {name} does not match its checksum in {CHECKSUM_FILE} "
              "(changed after it was saved)")
  return ""


def _warn(message: str) -> None:
  print(message, file=sys.stderr, flush=True)


class Checkpointer:
  """Keeps the newest `max_to_keep` checkpoints under `directory`."""

  def __init__(self, directory: pathlib.Path, max_to_keep: int = 2):
    self.directory = pathlib.Path(directory).absolute()
    # One unnamed item, said up front: left to orbax, the mode is guessed from
    # the newest step's folder, and one missing item folder breaks every step.
    self._manager = ocp.CheckpointManager(
        self.directory, item_handlers=ocp.StandardCheckpointHandler(),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=False))

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def restore(self, like: TrainState, *, say: Callable[[str], None] = _warn,
              set_aside: bool = False) -> TrainState:
    """The newest checkpoint whose files match their checksums and that orbax
    restores, with the shardings and dtypes of `like`.

    Each newer one that does not is reported through `say` (step, file and
    reason); with `set_aside` (a run that will train on and save those steps
    again) it is then moved to UNREADABLE_DIR beside the checkpoints folder,
    never deleted. Raises UsageError when no checkpoint restores.
    """
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
    unreadable: List[int] = []
    problems = []
    for step in sorted(self._manager.all_steps(), reverse=True):
      state, problem = self._restore_step(step, abstract)
      if state is None:
        say(f"checkpoint {self.directory / str(step)} cannot be restored: {problem}")
        unreadable.append(step)
        problems.append(f"step {step}: {problem}")
        continue
      if unreadable:
        say(f"falling back to the checkpoint of step {step}")
        if set_aside:
          self._set_aside(unreadable, say)
      return state
    raise UsageError(f"no checkpoint in {self.directory} can be restored "
                     f"({'; '.join(problems)}); if the run's config or jaxgen version "
                     f"changed, use a new --workdir")

  def _restore_step(self, step: int, abstract) -> Tuple[Optional[TrainState], str]:
    """(the state of `step`, "") or (None, why it cannot be restored)."""
    problem = checksum_problem(self.directory / str(step))
    if problem:
      return None, problem
    try:
      return self._manager.restore(step, args=ocp.args.StandardRestore(abstract)), ""
    except Exception as error:  # pylint: disable=broad-except
      # Orbax raises bare Exceptions (and ValueErrors, JSON errors) for
      # missing, truncated or garbled files, so anything it raises is the
      # checkpoint's problem; nothing has been changed when it does.
      while error.__cause__ is not None:  # TensorStore's own error says which file
        error = error.__cause__
      return None, first_line(error)

  def _set_aside(self, steps: List[int], say: Callable[[str], None]) -> None:
    """Moves the checkpoints of `steps` to UNREADABLE_DIR (process 0 moves them)."""
    if distributed.is_main_process():
      aside = self.directory.parent / UNREADABLE_DIR
      aside.mkdir(exist_ok=True)
      for step in steps:
        target = aside / str(step)
        suffix = 1
        while target.exists():
          target, suffix = aside / f"{step}.{suffix}", suffix + 1
        shutil.move(str(self.directory / str(step)), str(target))
        say(f"moved the unreadable checkpoint of step {step} to {target}")
    distributed.wait_for_all("checkpoints set aside")
    self._manager.reload()

  def save(self, state: TrainState) -> bool:
    """Saves `state` and its files' checksums unless it is already saved; False (and
    nothing written) when a float leaf of it (params, EMA params, optimizer or
    model state) is not finite."""
    step = int(state.step)
    if step == self._manager.latest_step():
      return True
    if not all_finite(state):
      return False
    if jax.process_count() == 1:
      # One copy, from one device: orbax's replica-parallel writing of a state
      # replicated on N devices compiles a slice per device and array shape, and
      # writes the same bytes (docs/performance.md).
      state = jax.device_put(state, jax.devices()[0])
    self._manager.save(step, args=ocp.args.StandardSave(state))
    self._manager.wait_until_finished()
    if distributed.is_main_process():
      step_dir = self.directory / str(step)
      # Atomic: a kill mid-write leaves a checkpoint without checksums, which
      # restores, not a truncated checksum file, which would refuse it.
      report.write_text_atomically(
          step_dir / CHECKSUM_FILE,
          json.dumps({"sha256": file_checksums(step_dir)}, indent=1) + "\n")
    return True

  def close(self) -> None:
    self._manager.close()
