"""A run killed with SIGKILL mid-training resumes from its last checkpoint when
the same command is run again, and ends bit for bit like a run never stopped."""

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time

import chex
import jax
import orbax.checkpoint as ocp
import pytest

from jaxgen.training.state import TrainState

NUM_STEPS = 1000
# The kill follows the second of ten saves: the saves still to come, far slower
# than these tiny steps, leave it ample time to land before training ends.
CHECKPOINT_EVERY = 100


def command(workdir):
  return [sys.executable, "-m", "jaxgen.experiments.run", "--model", "ddim",
          "--dataset", "gmm_ring8", "--preset", "cpu", "--workdir", str(workdir),
          "--config.net.hidden=32", "--config.net.depth=2",
          "--config.diffusion.timesteps=100", "--config.diffusion.sample_steps=10",
          "--config.batch_size=64", "--config.num_samples=64",
          f"--config.num_steps={NUM_STEPS}", f"--config.checkpoint_every={CHECKPOINT_EVERY}",
          f"--config.log_every={CHECKPOINT_EVERY}", "--config.sample_every=1000000"]


def one_cpu_environment():
  """The tests' environment with 1 CPU device instead of 8: the runs compared
  must see the same devices, and one device keeps these small steps fast."""
  flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "",
                 os.environ.get("XLA_FLAGS", ""))
  return {**os.environ, "JAX_PLATFORMS": "cpu",
          "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count=1".strip()}


def saved_steps(workdir):
  """Steps of the finished checkpoints (orbax renames a save into place once
  it is complete)."""
  folder = workdir / "checkpoints"
  if not folder.is_dir():
    return []
  return sorted(int(path.name) for path in folder.iterdir() if path.name.isdigit())


def final_checkpoint(workdir):
  """The arrays of the step-NUM_STEPS checkpoint, read by orbax alone: a restore
  that dropped a field would drop it from both runs compared."""
  with ocp.PyTreeCheckpointer() as checkpointer:
    return jax.device_get(checkpointer.restore(
        workdir / "checkpoints" / str(NUM_STEPS) / "default"))


def kill_after_the_second_checkpoint(process, workdir, log_path):
  """SIGKILLs `process` as soon as a checkpoint past the first is on disk."""
  deadline = time.monotonic() + 240
  while not any(step > CHECKPOINT_EVERY for step in saved_steps(workdir)):
    if process.poll() is not None:
      pytest.fail(f"the run ended (exit code {process.returncode}) before its second "
                  f"checkpoint:\n{log_path.read_text()}")
    if time.monotonic() > deadline:
      process.kill()
      pytest.fail(f"no second checkpoint after 240 s:\n{log_path.read_text()}")
    time.sleep(0.01)
  process.send_signal(signal.SIGKILL)
  assert process.wait() == -signal.SIGKILL, "the run ended before it was killed"


def run_to_completion(workdir, env):
  finished = subprocess.run(command(workdir), env=env, capture_output=True, text=True,
                            timeout=300)
  assert finished.returncode == 0, finished.stderr
  return finished.stderr


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Sharding info not provided")
def test_run_killed_mid_training_resumes_to_the_same_state(tmp_path):
  env = one_cpu_environment()
  run_to_completion(tmp_path / "straight", env)

  workdir = tmp_path / "killed"
  with open(tmp_path / "killed.log", "w") as log:
    process = subprocess.Popen(command(workdir), env=env, stdout=log, stderr=log)
  kill_after_the_second_checkpoint(process, workdir, tmp_path / "killed.log")
  killed_at = max(saved_steps(workdir))
  assert killed_at < NUM_STEPS, (
      "the run had finished training when it was killed; raise NUM_STEPS")

  rerun_log = run_to_completion(workdir, env)
  assert f"resumed from step {killed_at}" in rerun_log, rerun_log
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  logged = [r["step"] for r in records if "loss" in r]  # the training records
  assert logged == sorted(set(logged)), "a step logged before the kill is logged twice"
  summary = json.loads((workdir / "summary.json").read_text())
  assert summary["steps_this_run"] == NUM_STEPS - killed_at
  straight, resumed = final_checkpoint(tmp_path / "straight"), final_checkpoint(workdir)
  assert set(resumed) == {field.name for field in dataclasses.fields(TrainState)}
  chex.assert_trees_all_equal(straight, resumed, strict=True)
