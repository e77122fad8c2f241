"""The training command: bad input is one line on stderr and exit code 2."""

import json

import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.experiments import run
from jaxgen.experiments.cli import run_main


@pytest.mark.parametrize("argv,message", [
    (["--model", "vqvae"], "unknown model 'vqvae'; choose one of: "),
    (["--dataset", "cifar"], "unknown dataset 'cifar'; choose one of:"),
    (["--config.optim.lr=1"], "unknown config field 'optim.lr'; fields of optim:"),
    (["--config.batch_size=big"], "bad value for config field 'batch_size'"),
    (["--config.diffusion.sampler=euler"], "'diffusion.sampler' must be one of: ddim, ddpm,"),
    (["--config.diffusion.sampler=dpm_solver++", "--config.diffusion.eta=0.5"],
     "'diffusion.eta' must be 0 for dpm_solver++"),
    (["--epochs", "3"], "unrecognised argument '--epochs'"),
    (["--preset", "tiny"], "argument --preset: invalid choice: 'tiny'"),
    (["--config.batch_size=0"], "config field 'batch_size' must be at least 1, got 0"),
    (["--config.optim.learning_rate=-1.0"], "'optim.learning_rate' must be positive"),
    (["--config.ema_decay=1.0"], "'ema_decay' must be in [0, 1)"),
    (["--config.diffusion.guidance_interval=(5.0,0.3)"],
     "'diffusion.guidance_interval' must be () or two noise levels (lo, hi) with 0 <= lo < hi"),
    (["--config.net.hidden=0"], "'net.hidden' must be at least 1, got 0"),
])
def test_bad_input_is_one_line_and_exit_code_2(argv, message, tmp_path, capsys):
  argv = ["--dataset", "gmm_ring8", "--workdir", str(tmp_path)] + argv
  code = run_main(run.main, argv)
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2
  assert err[-1].startswith("error: ") and message in err[-1], err
  assert "Traceback" not in "\n".join(err) and not any("usage:" in line for line in err)


@pytest.mark.parametrize("model,override", [
    ("ddim", "diffusion.schedule=cosin"), ("ddim", "diffusion.target=vv"),
    ("ddim", "diffusion.loss_weighting=snr"), ("gan", "gan.loss=hinge"),
    ("gan", "gan.architecture=cnn"), ("gan", "gan.d_activation=tanh"),
    ("vae", "autoencoder.beta_schedule=warm"), ("vae", "autoencoder.reconstruction_loss=mse"),
    ("vae", "net.architecture=resnet"), ("vae", "optim.decay=exp")])
def test_a_misspelt_name_writes_nothing(model, override, tmp_path, capsys):
  """Refused before the run records its config, so the corrected command can
  use the same workdir."""
  code = run_main(run.main, ["--model", model, "--dataset", "gmm_ring8", "--workdir",
                             str(tmp_path / "run"), f"--config.{override}"])
  err = capsys.readouterr().err.strip().splitlines()
  field = override.split("=")[0]
  assert code == 2 and err[-1].startswith(f"error: config field {field!r} must be one of: ")
  assert not (tmp_path / "run" / "config.json").exists()


def test_missing_image_data_is_one_line(tmp_path, capsys):
  code = run_main(run.main, ["--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere"),
                             "--workdir", str(tmp_path / "run")])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and err[-1].startswith("error: ") and "nowhere" in err[-1]


def test_a_file_as_workdir_is_one_line(tmp_path, capsys):
  (tmp_path / "file").write_text("")
  code = run_main(run.main, ["--dataset", "gmm_ring8", "--workdir", str(tmp_path / "file")])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and err[-1].startswith("error: cannot make the workdir "), err


def test_a_corrupt_config_json_in_the_workdir_is_one_line(tmp_path, capsys):
  (tmp_path / "config.json").write_text("{x")
  code = run_main(run.main, ["--dataset", "gmm_ring8", "--workdir", str(tmp_path)])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and f"{tmp_path / 'config.json'} is not the JSON object" in err[-1], err


def test_print_config_prints_every_field_and_writes_nothing(tmp_path, capsys, monkeypatch):
  monkeypatch.chdir(tmp_path)
  argv = ["--print-config", "--model", "ddim", "--preset", "full",
          "--config.num_steps=7"]
  assert run_main(run.main, argv) == 0
  printed = json.loads(capsys.readouterr().out)
  expected = config_lib.get_config("ddim", "mnist", "full")
  expected.num_steps = 7
  assert printed == json.loads(expected.to_json())
  assert not list(tmp_path.iterdir())


def test_a_run_starts_from_the_config_file_it_came_from(tmp_path, capsys):
  """--print-config, then --config FILE: the run records the same config."""
  assert run_main(run.main, ["--print-config", "--model", "ddim", "--dataset", "gmm_ring8",
                             "--config.net.hidden=16", "--config.num_steps=2",
                             "--config.log_every=1", "--config.checkpoint_every=2",
                             "--config.sample_every=2"]) == 0
  (tmp_path / "ddim.json").write_text(capsys.readouterr().out)
  assert run_main(run.main, ["--config", str(tmp_path / "ddim.json"),
                             "--workdir", str(tmp_path / "run")]) == 0
  recorded = json.loads((tmp_path / "run" / "config.json").read_text())
  assert recorded == json.loads((tmp_path / "ddim.json").read_text())
  # A run's own config.json starts it again (here: resumes it, one more step).
  assert run_main(run.main, ["--config", str(tmp_path / "run" / "config.json"),
                             "--config.num_steps=3", "--workdir", str(tmp_path / "run")]) == 0
  assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == 3


@pytest.mark.parametrize("content,extra,message", [
    (None, [], "not found; pass a path, or one of the shipped configs: ae_gmm_ring8_cpu,"),
    ("{x", [], "cannot read config file"),
    ('{"model": "ddim"}', [], "does not name a model, dataset and preset"),
    ('{"model": "ddim", "dataset": "gmm_ring8", "preset": "cpu", "nett": {}}', [],
     "unknown config field 'nett'"),
    ('{"model": "ddim", "dataset": "gmm_ring8", "preset": "cpu", "batch_size": "big"}', [],
     "bad value for config field 'batch_size'"),
    ('{"model": "ddim", "dataset": "gmm_ring8", "preset": "cpu"}', ["--model", "gan"],
     "--model: --config FILE names the model, dataset and preset"),
])
def test_a_bad_config_file_is_one_line(content, extra, message, tmp_path, capsys):
  path = tmp_path / "config.json"
  if content is not None:
    path.write_text(content)
  code = run_main(run.main, ["--config", str(path), "--workdir", str(tmp_path / "run"),
                             *extra])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1 and message in err[0], err


@pytest.mark.parametrize("source,message", [
    ("raise RuntimeError('no GPU here')", "failed: RuntimeError: no GPU here; it must define"),
    ("x = 1", "failed: AttributeError"),
    ("def get_config():\n  return {}", "returned dict, not an ml_collections.ConfigDict"),
])
def test_a_bad_python_config_file_is_one_line(source, message, tmp_path, capsys):
  (tmp_path / "mine.py").write_text(source)
  code = run_main(run.main, ["--config", str(tmp_path / "mine.py"), "--print-config"])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1 and message in err[0], err


def test_print_config_of_a_shipped_config_is_that_file(capsys):
  assert run_main(run.main, ["--config", "wgan_gp_gmm_ring8_full", "--print-config"]) == 0
  shipped = config_lib.SHIPPED_DIR / "wgan_gp_gmm_ring8_full.json"
  assert capsys.readouterr().out == shipped.read_text()


def test_print_config_takes_one_model():
  with pytest.raises(UsageError, match="--print-config prints one config"):
    run.main(["--print-config", "--model", "gan,vae"])
