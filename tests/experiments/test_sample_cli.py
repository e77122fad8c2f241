"""The sampling command on a tiny trained run: outputs, options, bad input."""

import json
import shutil

import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import report
from jaxgen.experiments import sample
from jaxgen.experiments.cli import run_main
from jaxgen.training.loop import train_and_evaluate
from jaxgen.training.runs import load_run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
  path = tmp_path_factory.mktemp("run")
  config = config_lib.get_config("ddim", "gmm_ring8", "cpu")
  config.net.update(dict(hidden=16, depth=1))
  config.diffusion.update(dict(timesteps=50, sample_steps=5))
  config.update(dict(batch_size=64, num_steps=4, log_every=2, checkpoint_every=4,
                     sample_every=100, num_samples=16))
  train_and_evaluate(config, path)
  return path


def test_samples_are_written(workdir, tmp_path, capsys):
  out = tmp_path / "s.png"
  argv = ["--workdir", str(workdir), "--num", "32", "--steps", "3", "--eta", "0.5",
          "--trajectory", "--out", str(out)]
  assert run_main(sample.main, argv) == 0
  assert out.is_file() and (tmp_path / "s_trajectory.png").is_file()
  assert np.load(tmp_path / "s.npz")["samples"].shape == (32, 2)
  speed = json.loads((tmp_path / "s.json").read_text())
  assert speed["sampler"] == "ddim" and speed["num"] == 32
  assert speed["images/s"] == pytest.approx(32 / speed["seconds"])
  printed = report.format_metrics({k: speed[k] for k in ("images/s", "seconds")})
  assert printed in capsys.readouterr().out


def test_samples_spread_over_devices_are_those_of_one_device(workdir, tmp_path):
  assert jax.device_count() == 8  # the 32 samples are drawn 4 per device
  out = tmp_path / "s.png"
  argv = ["--workdir", str(workdir), "--num", "32", "--steps", "3", "--eta", "0.5",
          "--seed", "5", "--out", str(out)]
  assert run_main(sample.main, argv) == 0
  _, family, state = load_run(str(workdir))
  params = jax.device_put(family.sampling_params(state), jax.devices()[0])
  expected, _ = jax.jit(lambda p, rng: family.sample_with_trajectory(
      p, rng, 32, sampler="ddim", steps=3, eta=0.5))(params, jax.random.PRNGKey(5))
  np.testing.assert_allclose(np.load(tmp_path / "s.npz")["samples"], expected,
                             rtol=1e-5, atol=1e-5)


def test_dpm_solver_samples_are_written(workdir, capsys):
  argv = ["--workdir", str(workdir), "--num", "16", "--sampler", "dpm_solver++", "--steps", "3"]
  assert run_main(sample.main, argv) == 0
  samples = np.load(workdir / "samples" / "sample_dpm_solver++.npz")["samples"]
  assert samples.shape == (16, 2) and np.all(np.isfinite(samples))
  assert "(dpm_solver++)" in capsys.readouterr().out


def test_solver_spacing_comes_from_the_flag_or_the_run_config(workdir, tmp_path):
  """--spacing time draws what the solver draws on time-uniform timesteps;
  without it the run's diffusion.solver_spacing (logsnr) is used."""
  _, family, state = load_run(str(workdir))
  params = jax.device_put(family.sampling_params(state), jax.devices()[0])
  drawn = {}
  for spacing in ("time", None):
    out = tmp_path / f"{spacing}.png"
    argv = ["--workdir", str(workdir), "--num", "8", "--sampler", "dpm_solver++",
            "--steps", "4", "--out", str(out)] + (["--spacing", spacing] if spacing else [])
    assert run_main(sample.main, argv) == 0
    drawn[spacing] = np.load(out.with_suffix(".npz"))["samples"]
  for spacing, key in (("time", "time"), ("logsnr", None)):
    expected = jax.jit(lambda p, rng, spacing=spacing: family.sample(
        p, rng, 8, sampler="dpm_solver++", steps=4, spacing=spacing))(
            params, jax.random.PRNGKey(0))
    np.testing.assert_allclose(drawn[key], expected, rtol=1e-5, atol=1e-5)
  assert not np.allclose(drawn["time"], drawn[None], atol=1e-3)


@pytest.mark.parametrize("argv,message", [
    (["--sampler", "ddpm", "--steps", "3"], "ddpm always runs all timesteps"),
    (["--sampler", "dpm_solver++", "--eta", "0.5"], "eta must be 0"),
    (["--sampler", "dpm_solver++_sde", "--eta", "0.5"], "eta must be 1"),
    (["--sampler", "euler"], "unknown sampler 'euler'"),
    (["--label", "3"], "unconditional model"),
    (["--guidance-interval", "0.3", "5"], "unconditional model"),
    (["--guidance-interval", "5", "0.3"], "--guidance-interval 5 0.3: needs 0 <= LO < HI"),
    (["--eta", "2"], "eta must be in [0, 1]"),
    (["--num", "0"], "--num must be at least 1"),
    (["--num", "abc"], "argument --num: invalid int value: 'abc'; see --help"),
    (["--spacing", "uniform"], "argument --spacing: invalid choice: 'uniform'"),
    (["--sampler", "ddim", "--spacing", "time"],
     "a timestep spacing is for the DPM-Solver++ samplers (dpm_solver++, dpm_solver++3m, "
     "dpm_solver++_sde, dpm_solver++3m_sde), not ddim"),
    (["--out", "grid.gif"], "--out grid.gif: the samples are drawn as a PNG"),
    (["--no-clip-x0"], "--clip-x0 and --no-clip-x0 are for image runs"),
])
def test_bad_options_exit_2(workdir, argv, message, capsys):
  assert run_main(sample.main, ["--workdir", str(workdir)] + argv) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and message in err[0], err


def test_not_a_run_exit_2(tmp_path, capsys):
  assert run_main(sample.main, ["--workdir", str(tmp_path)]) == 2
  assert "is not a jaxgen run" in capsys.readouterr().err


def test_an_output_under_a_file_is_one_line(workdir, tmp_path, capsys):
  (tmp_path / "afile").write_text("")
  argv = ["--workdir", str(workdir), "--num", "8", "--out", str(tmp_path / "afile" / "x.png")]
  assert run_main(sample.main, argv) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith(f"error: cannot use {tmp_path / 'afile'}"), err


@pytest.mark.parametrize("name", ["config.json", "data_spec.json"])
def test_a_corrupt_run_record_is_one_line(workdir, tmp_path, name, capsys):
  copy = tmp_path / "run"
  shutil.copytree(workdir, copy)
  (copy / name).write_text("{x")
  assert run_main(sample.main, ["--workdir", str(copy)]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and f"{copy / name} is not the JSON object a run writes" in err[0]
