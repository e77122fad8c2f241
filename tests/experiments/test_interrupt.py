"""Ctrl-C or a preemption's SIGTERM during training saves a checkpoint;
rerunning resumes from it."""

import signal
import subprocess
import sys

import pytest

from jaxgen.training.checkpoints import Checkpointer

COMMAND = [sys.executable, "-m", "jaxgen.experiments.run", "--dataset", "gmm_ring8",
           "--config.net.hidden=16", "--config.net.depth=1", "--config.batch_size=16",
           "--config.log_every=1", "--config.sample_every=1000000"]


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_saves_a_checkpoint_and_the_rerun_resumes(signum, code, tmp_path):
  workdir = str(tmp_path / "run")
  process = subprocess.Popen(COMMAND + ["--workdir", workdir, "--config.num_steps=1000000"],
                             stderr=subprocess.PIPE, text=True)
  for line in process.stderr:
    if line.startswith("["):  # the first progress line: training is under way
      break
  process.send_signal(signum)
  _, err = process.communicate(timeout=120)
  assert process.returncode == code, err
  assert f"interrupted ({signal.Signals(signum).name}) at step" in err
  assert "Traceback" not in err
  saved = Checkpointer(tmp_path / "run" / "checkpoints").latest_step()
  assert saved is not None and saved >= 1

  rerun = subprocess.run(COMMAND + ["--workdir", workdir, f"--config.num_steps={saved + 3}"],
                         capture_output=True, text=True, timeout=300)
  assert rerun.returncode == 0, rerun.stderr
  assert f"resumed from step {saved}" in rerun.stderr
