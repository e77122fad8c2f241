"""Quality floors train through the real command line, in a subprocess with the
environment a user has: one CPU device and XLA's default optimisation level.

The floors were measured that way (`experiments/families_2d/seeds.py`), and
where a GAN ends up moves with float rounding, so the suite's -O1 compile
setting (tests/conftest.py) would test other runs than the ones measured.
"""

import json
import os
import pathlib
import subprocess
import sys
from typing import Optional

import numpy as np
import pytest

# Test-only settings of tests/conftest.py that a user's run does not have.
_TEST_ONLY_FLAGS = ("--xla_force_host_platform_device_count",
                    "--xla_backend_optimization_level")


def user_environment() -> dict:
  flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split()
           if not flag.startswith(_TEST_ONLY_FLAGS)]
  return {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": " ".join(flags)}


def run_jaxgen(command: str, *args: str) -> None:
  """`python -m jaxgen.experiments.COMMAND ARGS` as a user runs it; asserts it succeeds."""
  finished = subprocess.run([sys.executable, "-m", f"jaxgen.experiments.{command}", *args],
                            env=user_environment(), capture_output=True, text=True,
                            timeout=1800)
  assert finished.returncode == 0, finished.stderr[-3000:]


def train_with_cli(model: str, dataset: str, workdir: pathlib.Path, *overrides: str,
                   data_dir: Optional[pathlib.Path] = None) -> dict:
  """`python -m jaxgen.experiments.run` at the cpu preset with `--config.` +
  each override; returns the run's summary.json."""
  args = ["--model", model, "--dataset", dataset, "--preset", "cpu", "--workdir",
          str(workdir), *(f"--config.{override}" for override in overrides)]
  if data_dir is not None:
    args += ["--data-dir", str(data_dir)]
  run_jaxgen("run", *args)
  return json.loads((workdir / "summary.json").read_text())


def sample_with_cli(workdir: pathlib.Path, *args: str) -> np.ndarray:
  """`python -m jaxgen.experiments.sample --workdir workdir` + args; the samples
  (uint8 images or float points) of the .npz it writes."""
  out = workdir / "cli_samples.png"
  run_jaxgen("sample", "--workdir", str(workdir), "--out", str(out), *args)
  with np.load(out.with_suffix(".npz")) as stored:
    return stored["samples"]


@pytest.fixture(name="train_with_cli")
def train_with_cli_fixture():
  """`train_with_cli` for the tests of this folder."""
  return train_with_cli


@pytest.fixture(name="sample_with_cli")
def sample_with_cli_fixture():
  """`sample_with_cli` for the tests of this folder."""
  return sample_with_cli
