"""The study scripts under experiments/ run end to end at a tiny size.

The cached MNIST train statistics are stood in for by random ones in a private
cache, so only the samples go through the real Inception.
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.metrics import fid as fid_lib

EXPERIMENTS = pathlib.Path(__file__).resolve().parents[2] / "experiments"


def load_study(name: str, script: str = "study.py"):
  spec = importlib.util.spec_from_file_location(f"study_{name}",
                                                EXPERIMENTS / name / script)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture
def fid_args(tmp_path, monkeypatch, shared_data_dir):
  monkeypatch.setenv("JAXGEN_CACHE_DIR", str(tmp_path / "cache"))
  features = np.random.default_rng(0).gamma(1.0, 0.3, (300, 2048)).astype(np.float32)
  for name in ("mnist_train", "mnist_train_2000"):  # all of it; the first 2,000 images
    fid_lib.save_stats(tmp_path / "cache" / "fid_stats" / f"{name}.npz",
                       features.mean(0), np.cov(features, rowvar=False), features=features)
  return ["--data-dir", str(shared_data_dir), "--inception-weights",
          str(shared_data_dir / "fid_inception" / "default_1.pt"),
          "--workdir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]


@pytest.mark.long  # ~90 s of the CI machine (three GANs and their FIDs), like the next
@pytest.mark.slow
def test_gan_losses_study(tmp_path, fid_args):
  load_study("gan_losses").main(fid_args + ["--train-steps", "2", "--fid-samples", "8"])
  rows = json.loads((tmp_path / "out" / "comparison_mnist.json").read_text())["rows"]
  assert [r["model"] for r in rows] == ["gan", "lsgan", "wgan_gp"]
  assert all(r["steps"] == 2 and np.isfinite(r["fid"]) for r in rows)
  assert {r["fid/reference"] for r in rows} == {"mnist:train[:2000]"}  # the cpu budget
  table = (tmp_path / "out" / "comparison_mnist.md").read_text()
  assert "FID of 8 samples against mnist:train[:2000]." in table
  assert (tmp_path / "out" / "interpolations.png").is_file()
  # The digit classifier's metrics, for each run and for the real test split.
  class_metrics = {"confident_fraction", "classes_covered", "class_kl"}
  assert all(class_metrics <= set(r) for r in rows)
  records = [json.loads(line) for line in
             (tmp_path / "runs" / "cpu" / "gan_mnist" / "metrics.jsonl").read_text().splitlines()]
  assert any(class_metrics <= set(r) for r in records)
  assert table.splitlines()[-1].startswith("| real test split |")
  comparison = json.loads((tmp_path / "out" / "comparison_mnist.json").read_text())
  assert comparison["real_test_split"]["classes_covered"] == 10


@pytest.mark.long  # ~140 s of the CI machine, which the diffusion floor on MNIST needs
@pytest.mark.slow
def test_diffusion_samplers_study(tmp_path, fid_args):
  # A small two-level UNet keeps the ten sampler compilations short; two levels, not
  # one, so that the middle block's attention works at 14x14, not 28x28 (5x the time).
  load_study("diffusion_samplers").main(fid_args + [
      "--train-steps", "2", "--fid-samples", "8", "--ddim-steps", "2", "--etas", "0", "1",
      "--solver-steps", "3",
      "--guidance-scales", "2", "--config.diffusion.timesteps=10", "--config.net.channels=8",
      "--config.net.channel_mults=(1,1)", "--config.net.num_res_blocks=1",
      "--config.net.attention_resolutions=()",
      "--config.fid.batch_size=8"])
  results = json.loads((tmp_path / "out" / "results.json").read_text())
  settings = [(r["table"], r["setting"]) for r in results["rows"]]
  assert settings == [
      ("samplers", "ddpm-10"), ("samplers", "ddim-2 eta=0"), ("samplers", "ddim-2 eta=1"),
      ("samplers", "dpm_solver++-3"), ("samplers", "dpm_solver++3m-3"),
      ("schedules", "linear ddim-10"), ("schedules", "linear ddpm-10"),
      ("schedules", "cosine ddim-10"), ("schedules", "cosine ddpm-10"),
      ("guidance", "w=2")]
  assert all(np.isfinite(r["fid"]) and r["images/s"] > 0 for r in results["rows"])
  assert {name: m["steps"] for name, m in results["models"].items()} == {
      "linear": 2, "cosine": 2, "conditional": 2}
  assert results["wall_seconds"] > 0
  assert "Models: linear 2 steps in " in (tmp_path / "out" / "results.md").read_text()
  for name in ("results.md", "fid_vs_time.png", "guidance_grids.png"):
    assert (tmp_path / "out" / name).is_file()


@pytest.mark.slow
def test_diffusion_recipe_study(tmp_path, shared_data_dir):
  load_study("diffusion_recipe").main([
      "--data-dir", str(shared_data_dir), "--workdir", str(tmp_path / "runs"),
      "--out", str(tmp_path / "out"), "--recipes", "v, min-snr", "--train-steps", "2",
      "--samples", "4", "--config.diffusion.timesteps=10", "--config.diffusion.sample_steps=2",
      "--config.net.channels=8", "--config.net.channel_mults=(1,1)",
      "--config.net.attention_resolutions=()"])
  results = json.loads((tmp_path / "out" / "results.json").read_text())
  assert results["recipes"] == {"v, min-snr": ["diffusion.target=v",
                                               "diffusion.loss_weighting=min_snr"]}
  [row] = results["rows"]
  assert row["steps"] == 2 and 0 <= row["confident_fraction"] <= 1
  config = json.loads((tmp_path / "runs" / "cpu" / "v__min_snr_seed0" / "config.json").read_text())
  assert config["diffusion"]["target"] == "v" and config["num_samples"] == 4
  assert "| v, min-snr | 0 | 2 |" in (tmp_path / "out" / "results.md").read_text()


def test_diffusion_recipe_study_names_the_recipes_it_knows():
  with pytest.raises(UsageError, match="unknown recipe 'eps, huber'; choose from: eps"):
    load_study("diffusion_recipe").parse_args(["--recipes", "eps, huber"])


def test_families_2d_seeds_study_applies_its_overrides_to_every_seed(tmp_path):
  load_study("families_2d", "seeds.py").main([
      "--seeds", "0,1", "--models", "cvae", "--workdir", str(tmp_path / "runs"),
      "--out", str(tmp_path / "out"), "--config.num_steps=2", "--config.sample_every=2",
      "--config.checkpoint_every=2"])
  results = json.loads((tmp_path / "out" / "seeds_cpu.json").read_text())
  assert results["seeds"] == [0, 1] and set(results["scores"]) == {"cvae"}
  assert set(results["lowest"]["cvae"]) == {"modes_covered", "high_quality_fraction"}
  for seed in (0, 1):
    config = json.loads((tmp_path / "runs" / "cpu" / f"seed{seed}" / "cvae_gmm_ring8" /
                         "config.json").read_text())
    assert config["seed"] == seed and config["num_steps"] == 2
  assert "| cvae | " in (tmp_path / "out" / "seeds_cpu.md").read_text()


def test_fid10k_table_names_pending_entries_and_a_floor_measured_elsewhere(tmp_path):
  study = load_study("all_mnist_fid10k")
  row = {"hardware": "2-core CPU A", "steps": 3000, "train_seconds": 41.4, "fid": 156.26,
         "confident_fraction": 0.4678, "classes_covered": 10}
  results = {"command": "python study.py", "entries": {"gan": row},
             "floor": {"hardware": "2-core CPU B", "fid": 1.65}}
  study.write_table(results, tmp_path / "results.md")
  text = (tmp_path / "results.md").read_text()
  assert "Measured on 2-core CPU A (the floor: 2-core CPU B) with" in text
  assert "| gan | 3000 | 41.4 | 156.26 |" in text
  assert f"| {study.FLOOR} |" in text
  pending = [name for name in study.ENTRIES if name != "gan"]
  assert f"Not measured yet: {', '.join(pending)}" in text
  results["floor"]["hardware"] = "2-core CPU A"
  study.write_table(results, tmp_path / "results.md")
  assert "Measured on 2-core CPU A with" in (tmp_path / "results.md").read_text()


def test_fid10k_table_leaves_an_unknown_training_time_blank(tmp_path):
  """summary.json's train_seconds is null for a run resumed from a checkpoint
  older than the ledger (tests/training/test_loop.py): a blank cell, not 0."""
  study = load_study("all_mnist_fid10k")
  results = {"command": "python study.py", "floor": {"hardware": "A", "fid": 1.65},
             "entries": {"gan_20k": {"hardware": "A", "steps": 20000, "train_seconds": None,
                                     "fid": 27.56}}}
  study.write_table(results, tmp_path / "results.md")
  assert "| gan_20k | 20000 |  | 27.56 |" in (tmp_path / "results.md").read_text()
