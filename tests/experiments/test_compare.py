"""`--model a,b` and `--model all`: several runs, one comparison table."""

import json

import pytest

from jaxgen import families
from jaxgen.errors import UsageError
from jaxgen.experiments import compare, run
from jaxgen.experiments.cli import run_main

TINY = ["--config.num_steps=6", "--config.log_every=3", "--config.checkpoint_every=6",
        "--config.sample_every=6", "--config.num_samples=200"]


def test_model_lists_are_parsed_and_checked():
  assert compare.parse_models("gan, vae,ddim") == ["gan", "vae", "ddim"]
  assert compare.parse_models("all") == families.MODELS.names()
  with pytest.raises(UsageError, match="unknown model 'vqvae'"):
    compare.parse_models("gan,vqvae")
  with pytest.raises(UsageError, match="twice"):
    compare.parse_models("gan,gan")


def test_two_models_make_one_table(tmp_path, capsys):
  argv = ["--model", "gan,ddim", "--dataset", "gmm_ring8", "--workdir", str(tmp_path)]
  assert run_main(run.main, argv + TINY) == 0
  table = (tmp_path / "comparison_gmm_ring8.md").read_text().splitlines()
  assert "Measured on" in table[2]
  assert table[5].startswith("| model | steps | parameters | train_seconds |")
  assert [line.split(" | ")[0] for line in table[7:]] == ["| gan", "| ddim",
                                                          "| real test split"]
  assert "modes_covered" in table[5] and "kl" in table[5]
  comparison = json.loads((tmp_path / "comparison_gmm_ring8.json").read_text())
  assert comparison["real_test_split"]["modes_covered"] == 8
  rows = comparison["rows"]
  assert [r["model"] for r in rows] == ["gan", "ddim"]
  assert all(r["steps"] == 6 and r["parameters"] > 0 and r["samples/s"] > 0 for r in rows)
  assert (tmp_path / "comparison_gmm_ring8.png").is_file()
  capsys.readouterr()
  # A second call reuses the finished runs instead of training again.
  assert run_main(run.main, argv + TINY) == 0
  assert capsys.readouterr().err.count("already finished") == 2


def test_an_override_one_model_lacks_fails_before_any_training(tmp_path, capsys):
  argv = ["--model", "ddpm,gan", "--dataset", "gmm_ring8", "--workdir", str(tmp_path),
          "--config.diffusion.timesteps=10"]
  assert run_main(run.main, argv) == 2
  assert "gan: unknown config field 'diffusion.timesteps'" in capsys.readouterr().err
  assert not any(tmp_path.iterdir())


def test_a_value_one_model_cannot_use_fails_before_any_training(tmp_path):
  with pytest.raises(UsageError, match="vae: config field 'optim.learning_rate' must be"):
    compare.run_models(["ddim", "vae"], "gmm_ring8", "cpu", [], tmp_path,
                       model_overrides={"vae": ["optim.learning_rate=0.0"]})
  assert not any(tmp_path.iterdir())


def test_dataset_list_writes_one_table_each_into_table_dir(tmp_path):
  argv = ["--model", "vae,ddim", "--dataset", "gmm_ring8,gmm_grid25", "--workdir",
          str(tmp_path / "runs"), "--table-dir", str(tmp_path / "tables")]
  assert run_main(run.main, argv + TINY) == 0
  for dataset in ("gmm_ring8", "gmm_grid25"):
    for suffix in (".md", ".json", ".png"):
      assert (tmp_path / "tables" / f"comparison_{dataset}{suffix}").is_file()
    assert (tmp_path / "runs" / f"vae_{dataset}" / "summary.json").is_file()
