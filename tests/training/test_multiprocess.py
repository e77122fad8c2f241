"""Two processes on localhost (jax.distributed, loopback only) train and
evaluate like one process with the same global batch, and only process 0 writes."""

import json
import os
import signal
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.training import distributed, runs
from jaxgen.training.checkpoints import Checkpointer
from jaxgen.training.loop import train_and_evaluate

# A VAE on MNIST small enough for CPU, with FID (statistics and samples) on.
OVERRIDES = ["batch_size=16", "num_steps=4", "log_every=2", "checkpoint_every=2",
             "sample_every=2", "num_samples=8", "fid.num_samples=8", "fid.every=0",
             "fid.batch_size=8", "fid.reference_size=8"]


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def two_process_run(workdir, cache, data_dir, weights):
  """Runs the CLI as processes 0 and 1 of one run, two CPU devices each."""
  port = free_port()
  xla_flags = " ".join(flag for flag in os.environ.get("XLA_FLAGS", "").split()
                       if "force_host_platform_device_count" not in flag)
  env = {**os.environ, "XLA_FLAGS": xla_flags, "JAX_NUM_CPU_DEVICES": "2",
         "JAXGEN_CACHE_DIR": str(cache)}
  command = [sys.executable, "-m", "jaxgen.experiments.run", "--model", "vae",
             "--dataset", "mnist", "--preset", "cpu", "--workdir", str(workdir),
             "--data-dir", str(data_dir), "--inception-weights", str(weights),
             "--coordinator", f"localhost:{port}", "--num-processes", "2",
             *[f"--config.{o}" for o in OVERRIDES]]
  processes = [subprocess.Popen([*command, "--process-id", str(i)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for i in range(2)]
  try:
    outputs = [p.communicate(timeout=600) for p in processes]
  finally:
    for p in processes:
      p.kill()
  for i, (p, (_, err)) in enumerate(zip(processes, outputs)):
    assert p.returncode == 0, f"process {i}:\n{err[-3000:]}"
  return [err for _, err in outputs]


def test_two_processes_train_and_evaluate_like_one(tmp_path, shared_data_dir):
  weights = shared_data_dir / "fid_inception" / "default_1.pt"
  logs = two_process_run(tmp_path / "two", tmp_path / "cache_two", shared_data_dir,
                         weights)
  assert "done:" in logs[0] and "done:" not in logs[1]

  records = [json.loads(line) for line in
             (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in records if "loss" in r] == [2, 4]  # one writer
  assert [r["step"] for r in records if "fid" in r] == [4]
  assert (tmp_path / "two" / "summary.json").is_file()

  config = config_lib.get_config("vae", "mnist", "cpu")
  config_lib.apply_overrides(config, OVERRIDES)
  os.environ["JAXGEN_CACHE_DIR"] = str(tmp_path / "cache_one")
  try:
    one = train_and_evaluate(config, tmp_path / "one", data_dir=str(shared_data_dir),
                             inception_weights=str(weights),
                             devices=jax.devices()[:1])
  finally:
    del os.environ["JAXGEN_CACHE_DIR"]
  _, _, two = runs.load_run(tmp_path / "two")
  for a, b in zip(jax.tree_util.tree_leaves(jax.device_get(one.params)),
                  jax.tree_util.tree_leaves(jax.device_get(two.params))):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  stats = [np.load(tmp_path / cache / "fid_stats" / "mnist_train_8.npz")
           for cache in ("cache_one", "cache_two")]
  np.testing.assert_allclose(stats[0]["mu"], stats[1]["mu"], rtol=1e-4, atol=1e-5)
  fids = [json.loads((tmp_path / run / "summary.json").read_text())["fid"]
          for run in ("one", "two")]
  np.testing.assert_allclose(fids[0], fids[1], rtol=1e-3)


def test_process_flags_go_together():
  with pytest.raises(UsageError, match="go together"):
    distributed.initialize(coordinator="localhost:1234")
  with pytest.raises(UsageError, match="process-id must be in 0..1"):
    distributed.initialize("localhost:1234", num_processes=2, process_id=2)


def test_sigterm_to_one_process_stops_both_at_one_saved_step(tmp_path):
  """A preemption signal reaching one process: both save the same step and exit
  143 (they agree at each logged step); the rerun resumes from it."""
  port = free_port()
  xla_flags = " ".join(flag for flag in os.environ.get("XLA_FLAGS", "").split()
                       if "force_host_platform_device_count" not in flag)
  env = {**os.environ, "XLA_FLAGS": xla_flags, "JAX_NUM_CPU_DEVICES": "1"}

  def command(num_steps, process_id, port):
    return [sys.executable, "-m", "jaxgen.experiments.run", "--dataset", "gmm_ring8",
            "--workdir", str(tmp_path / "run"), "--coordinator", f"localhost:{port}",
            "--num-processes", "2", "--process-id", str(process_id),
            "--config.net.hidden=16", "--config.net.depth=1", "--config.batch_size=16",
            "--config.log_every=5", "--config.sample_every=1000000",
            f"--config.num_steps={num_steps}"]

  processes = [subprocess.Popen(command(1_000_000, i, port), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(2)]
  try:
    for line in processes[0].stderr:
      if line.startswith("["):  # the first progress line: training is under way
        break
    processes[1].send_signal(signal.SIGTERM)
    errors = [p.communicate(timeout=120)[1] for p in processes]
  finally:
    for p in processes:
      p.kill()
  assert [p.returncode for p in processes] == [143, 143], errors
  saved = Checkpointer(tmp_path / "run" / "checkpoints").latest_step()
  assert saved is not None and saved % 5 == 0
  assert f"interrupted (SIGTERM) at step {saved}" in errors[0]

  port = free_port()
  reruns = [subprocess.Popen(command(saved + 5, i, port), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in range(2)]
  outputs = [p.communicate(timeout=300) for p in reruns]
  assert [p.returncode for p in reruns] == [0, 0], [err[-2000:] for _, err in outputs]
  assert f"resumed from step {saved}" in outputs[0][1]
