"""A checkpoint that cannot be restored, or whose data no longer matches its
checksum, is reported and skipped for the newest one that restores; a run that
resumes moves the bad ones aside (never deletes them) and trains past them."""

import dataclasses
import gc
import os
import shutil

import chex
import jax
import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.training import checkpoints
from jaxgen.training.checkpoints import Checkpointer
from jaxgen.training.state import TrainState


def state_at(step: int) -> TrainState:
  """Random (incompressible) floats, so one flipped byte changes a value."""
  rng = np.random.default_rng(step)
  params = {"w": rng.normal(size=(64, 256)).astype(np.float32),
            "b": rng.normal(size=(256,)).astype(np.float32)}
  return dataclasses.replace(
      TrainState.create(params, {"mu": jax.tree_util.tree_map(np.ones_like, params)},
                        np.array([0, step], np.uint32)),
      step=np.int32(step))


def largest_data_file(step_dir):
  """The biggest array data file of a step's checkpoint."""
  return max((step_dir / "default" / "ocdbt.process_0" / "d").iterdir(),
             key=lambda path: path.stat().st_size)


def flip_a_byte(path):
  data = bytearray(path.read_bytes())
  data[len(data) // 2] ^= 0xFF
  path.write_bytes(bytes(data))


# name -> how it damages a step's folder: the corruptions a disk, a copy or a
# user's hand leave behind.
CORRUPTIONS = {
    "data file deleted": lambda d: largest_data_file(d).unlink(),
    "data file truncated": lambda d: largest_data_file(d).write_bytes(
        largest_data_file(d).read_bytes()[:100]),
    "data file overwritten": lambda d: largest_data_file(d).write_bytes(
        os.urandom(largest_data_file(d).stat().st_size)),
    "one byte flipped": lambda d: flip_a_byte(largest_data_file(d)),
    "manifest deleted": lambda d: (d / "default" / "manifest.ocdbt").unlink(),
    "metadata truncated": lambda d: (d / "default" / "_METADATA").write_text("{\"tree"),
    "item folder deleted": lambda d: shutil.rmtree(d / "default"),
    "checksum garbled": lambda d: (d / checkpoints.CHECKSUM_FILE).write_text("{x"),
}


@pytest.fixture(name="saved")
def saved_fixture(tmp_path):
  """A checkpoints folder holding steps 2 and 4."""
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  for step in (2, 4):
    assert checkpointer.save(state_at(step))
  checkpointer.close()
  return tmp_path / "checkpoints"


def restore(directory, **kwargs):
  said = []
  checkpointer = Checkpointer(directory)
  state = checkpointer.restore(jax.tree_util.tree_map(np.zeros_like, state_at(0)),
                               say=said.append, **kwargs)
  return checkpointer, state, said


def test_an_intact_checkpoint_restores_silently(saved):
  _, state, said = restore(saved)
  chex.assert_trees_all_equal(state, state_at(4))
  assert not said


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_checkpoint_falls_back_to_the_newest_that_restores(corruption, saved):
  CORRUPTIONS[corruption](saved / "4")
  checkpointer, state, said = restore(saved, set_aside=True)
  chex.assert_trees_all_equal(jax.device_get(state), state_at(2))
  assert said[0].startswith(f"checkpoint {saved / '4'} cannot be restored: "), said
  assert said[1] == "falling back to the checkpoint of step 2"
  # Kept for the user, out of the way of the step that is trained again.
  aside = saved.parent / checkpoints.UNREADABLE_DIR / "4"
  assert aside.is_dir() and said[2] == f"moved the unreadable checkpoint of step 4 to {aside}"
  assert checkpointer.latest_step() == 2
  assert checkpointer.save(state_at(4))
  assert restore(saved)[2] == []


def test_reading_alone_leaves_a_damaged_checkpoint_in_place(saved):
  flip_a_byte(largest_data_file(saved / "4"))
  checkpointer, state, said = restore(saved)
  chex.assert_trees_all_equal(jax.device_get(state), state_at(2))
  changed = largest_data_file(saved / "4").relative_to(saved / "4")
  assert said[0] == (f"checkpoint {saved / '4'} cannot be restored: its file {changed} does "
                     f"not match its checksum in {checkpoints.CHECKSUM_FILE} (changed after "
                     "it was saved)")
  assert checkpointer.latest_step() == 4
  assert not (saved.parent / checkpoints.UNREADABLE_DIR).exists()


def test_no_checkpoint_that_restores_is_one_error_naming_each(saved):
  for step in (2, 4):
    largest_data_file(saved / str(step)).unlink()
  with pytest.raises(UsageError, match=r"no checkpoint in .* can be restored \(step 4: .*; "
                                       r"step 2: .*\); if the run's config"):
    restore(saved, set_aside=True)
  assert (saved / "4").is_dir() and (saved / "2").is_dir()  # nothing moved


# Orbax's abandoned reader coroutines are collected later and reported as unraisable.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("corruption", ["data file deleted", "item folder deleted"])
def test_without_checksums_what_orbax_cannot_read_still_falls_back(corruption, saved):
  (saved / "4" / checkpoints.CHECKSUM_FILE).unlink()
  CORRUPTIONS[corruption](saved / "4")
  _, state, said = restore(saved)
  chex.assert_trees_all_equal(jax.device_get(state), state_at(2))
  assert said[1] == "falling back to the checkpoint of step 2"
  gc.collect()  # now, under the filter above, not in whichever test runs next


def test_a_save_killed_while_writing_its_checksums_still_restores(tmp_path, monkeypatch):
  """Orbax has renamed the step into place; a kill before the checksum file is
  complete must not leave a half-written one that refuses a good checkpoint."""
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  assert checkpointer.save(state_at(2))

  def killed(*args):
    raise KeyboardInterrupt("killed between writing and renaming")

  monkeypatch.setattr(checkpoints.report.os, "replace", killed)
  with pytest.raises(KeyboardInterrupt):
    checkpointer.save(state_at(4))
  monkeypatch.undo()
  checkpointer.close()
  assert not (tmp_path / "checkpoints" / "4" / checkpoints.CHECKSUM_FILE).exists()
  _, state, said = restore(tmp_path / "checkpoints")
  chex.assert_trees_all_equal(jax.device_get(state), state_at(4))
  assert not said


def test_a_checkpoint_without_a_checksum_restores(saved):
  """As written before checksums, or by a save stopped before its checksum."""
  (saved / "4" / checkpoints.CHECKSUM_FILE).unlink()
  _, state, said = restore(saved)
  chex.assert_trees_all_equal(jax.device_get(state), state_at(4))
  assert not said

