"""A run's files: what a workdir holds, read back for sampling and evaluation,
and the samples files that training and the sample command write alike."""

import json
import pathlib
from typing import Optional, Tuple

import jax
import ml_collections
import numpy as np

from jaxgen import plotting
from jaxgen import report
from jaxgen.errors import UsageError
from jaxgen.families import MODELS, DataSpec, Family
from jaxgen.training.checkpoints import Checkpointer
from jaxgen.training.state import TrainState, state_structure

SPEC_FILE = "data_spec.json"
TRAIN_SECONDS_FILE = "train_seconds.json"  # {step: seconds training took to reach it}
SAMPLES_KEY = "samples"  # of the .npz beside each sample grid


def write_samples(samples: np.ndarray, path: pathlib.Path, dataset: str,
                  ncols: Optional[int] = None, labels: Optional[np.ndarray] = None) -> None:
  """The grid (or scatter over the true density) at `path` (.png), and the
  samples beside it as .npz: SAMPLES_KEY holds uint8 images [N, H, W, C] or
  float points [N, 2]; "labels" [N] the classes of a conditional model's samples."""
  plotting.save_samples(samples, path, dataset, ncols=ncols)
  arrays = {SAMPLES_KEY: plotting.to_uint8(samples) if samples.ndim == 4 else samples}
  if labels is not None:
    arrays["labels"] = np.asarray(labels)
  np.savez_compressed(pathlib.Path(path).with_suffix(".npz"), **arrays)


def write_spec(spec: DataSpec, workdir: pathlib.Path) -> None:
  (pathlib.Path(workdir) / SPEC_FILE).write_text(
      json.dumps({"shape": list(spec.shape), "num_classes": spec.num_classes}) + "\n")


def train_seconds_at(workdir: pathlib.Path, step: int) -> Optional[float]:
  """Seconds spent in train steps, over every invocation, to reach the
  checkpoint of `step` (0.0 for step 0); None when no invocation recorded it."""
  if step == 0:
    return 0.0
  try:
    ledger = json.loads((pathlib.Path(workdir) / TRAIN_SECONDS_FILE).read_text())
  except (OSError, json.JSONDecodeError):
    return None
  seconds = ledger.get(str(step)) if isinstance(ledger, dict) else None
  return float(seconds) if isinstance(seconds, (int, float)) else None


def record_train_seconds(workdir: pathlib.Path, step: int, seconds: float) -> None:
  """Notes that the checkpoint of `step` took `seconds` of training to reach."""
  path = pathlib.Path(workdir) / TRAIN_SECONDS_FILE
  try:
    ledger = json.loads(path.read_text())
  except (OSError, json.JSONDecodeError):
    ledger = {}
  ledger = {k: v for k, v in ledger.items() if int(k) < step} if isinstance(ledger, dict) else {}
  ledger[str(step)] = seconds
  report.write_text_atomically(path, json.dumps(ledger, indent=2) + "\n")


def read_record(path: pathlib.Path) -> dict:
  """A JSON object a run wrote (config.json, data_spec.json); a file that is not
  one is a UsageError naming it."""
  try:
    record = json.loads(pathlib.Path(path).read_text())
  except json.JSONDecodeError as error:
    record = error
  if not isinstance(record, dict):
    raise UsageError(f"{path} is not the JSON object a run writes ({record}); restore it "
                     f"from a copy, or train into a new --workdir")
  return record


def load_run(workdir: str) -> Tuple[ml_collections.ConfigDict, Family, TrainState]:
  """(config, family, latest TrainState) of the run in `workdir`."""
  workdir = pathlib.Path(workdir)
  paths = [workdir / "config.json", workdir / SPEC_FILE]
  missing = [p.name for p in paths if not p.is_file()]
  if missing:
    raise UsageError(f"{workdir} is not a jaxgen run ({', '.join(missing)} missing); "
                     f"pass the --workdir of a training run")
  config = ml_collections.ConfigDict(read_record(paths[0]))
  spec_record = read_record(paths[1])
  spec = DataSpec(shape=tuple(spec_record["shape"]), num_classes=spec_record["num_classes"])
  family = MODELS.get(config.model).family(config, spec)
  checkpointer = Checkpointer(workdir / "checkpoints")
  if checkpointer.latest_step() is None:
    raise UsageError(f"{workdir} has no checkpoint yet; train first with "
                     f"python -m jaxgen.experiments.run --workdir {workdir}")
  state = checkpointer.restore(
      state_structure(family, jax.sharding.SingleDeviceSharding(jax.devices()[0])))
  checkpointer.close()
  return config, family, state
