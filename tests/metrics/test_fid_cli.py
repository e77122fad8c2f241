"""python -m jaxgen.experiments.fid end to end on tiny inputs."""

import json
import pathlib

import numpy as np
import pytest
from PIL import Image

from jaxgen import data
from jaxgen.errors import UsageError
from jaxgen.experiments import fid as fid_cli
from jaxgen.experiments.cli import run_main
from jaxgen.metrics import fid as fid_lib


def _digits(seed, n=8):
  """[n, 28, 28] uint8 blobs at random places, MNIST-like."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[0:28, 0:28]
  centers = rng.uniform(8, 20, size=(n, 2))
  blobs = np.exp(-((y - centers[:, :1, None]) ** 2 +
                   (x - centers[:, 1:, None]) ** 2) / 20)
  return np.round(255 * blobs).astype(np.uint8)


@pytest.fixture(scope="module")
def weights(shared_data_dir):
  return str(shared_data_dir / "fid_inception" / "default_1.pt")


def test_fid_between_npz_and_png_folder(tmp_path, weights, capsys):
  images_a = tmp_path / "a.npz"  # laid out as the sample command writes it
  np.savez(images_a, samples=_digits(0), labels=np.arange(8))
  folder = tmp_path / "b"
  folder.mkdir()
  for i, digit in enumerate(_digits(1)):
    Image.fromarray(digit).save(folder / f"{i:02d}.png")
  stats_a, stats_b, out = (tmp_path / "sa.npz", tmp_path / "sb.npz",
                           tmp_path / "fid.json")
  argv = [str(images_a), str(folder), "--inception-weights", weights,
          "--batch-size", "8", "--kid", "--out", str(out),
          "--save-stats", str(stats_a), str(stats_b)]
  assert run_main(fid_cli.main, argv) == 0
  record = json.loads(out.read_text())
  assert record["images_a"] == record["images_b"] == 8
  assert record["fid"] > 0 and record["kid"] > 0 and record["images/s"] > 0
  for name in ("precision", "recall", "coverage"):
    assert 0 <= record[name] <= 1
  assert record["density"] >= 0
  printed = capsys.readouterr().out
  assert "fid" in printed and "precision" in printed
  mu, sigma, _ = fid_lib.load_stats(stats_a)
  assert mu.shape == (2048,) and sigma.shape == (2048, 2048)
  # Images against the saved statistics of the other side: the same FID; the
  # images' statistics are saved with their features without --kid too.
  resaved = tmp_path / "sa2.npz"
  assert run_main(fid_cli.main, [str(images_a), str(stats_b), "--out", str(out),
                                 "--inception-weights", weights,
                                 "--batch-size", "8", "--classifier", "mnist",
                                 "--save-stats", str(resaved), str(tmp_path / "sb2.npz")]) == 0
  with np.load(resaved) as saved:
    assert saved["features"].shape == (8, 2048)
  against_stats = json.loads(out.read_text())
  assert {"confident_fraction", "classes_covered", "class_kl"} <= against_stats.keys()
  assert against_stats["fid"] == pytest.approx(record["fid"], rel=1e-6)
  # The saved file's features give the same precision/recall as the images did.
  for name in ("precision", "recall", "density", "coverage"):
    assert against_stats[name] == pytest.approx(record[name], rel=1e-6)
  # pytorch-fid's files hold no features: precision/recall and KID say why not.
  bare = tmp_path / "bare.npz"
  fid_lib.save_stats(bare, *fid_lib.load_stats(stats_b)[:2])
  assert run_main(fid_cli.main, [str(images_a), str(bare), "--out", str(out),
                                 "--inception-weights", weights, "--batch-size", "8"]) == 0
  assert "bare.npz holds statistics without features" in json.loads(out.read_text())["prdc"]
  assert run_main(fid_cli.main, [str(images_a), str(stats_b), "--kid", "--out", str(out),
                                 "--inception-weights", weights, "--batch-size", "8"]) == 0
  assert json.loads(out.read_text())["kid"] == pytest.approx(record["kid"], rel=1e-6)


def test_class_metrics_of_real_digits_grey_or_rgb(tmp_path, shared_data_dir):
  digits = data.load("mnist", "test", str(shared_data_dir)).x[:200, :, :, 0]
  np.savez(tmp_path / "digits.npz", images=digits)
  np.savez(tmp_path / "blobs.npz", images=_digits(0, n=200))
  folder = tmp_path / "rgb"
  folder.mkdir()
  for i, digit in enumerate(digits[:50]):
    Image.fromarray(digit).convert("RGB").save(folder / f"{i:02d}.png")
  real, folder_scores, blobs = (
      fid_cli.class_metrics(fid_cli.open_input(str(path), None), "mnist")
      for path in (tmp_path / "digits.npz", folder, tmp_path / "blobs.npz"))
  assert real["confident_fraction"] > 0.9 and real["classes_covered"] == 10
  assert folder_scores["confident_fraction"] > 0.9
  assert blobs["confident_fraction"] < 0.5 * real["confident_fraction"]


@pytest.mark.parametrize("argv,message", [
    (["missing_folder", "also_missing"], "not found"),
    (["float.npz", "float.npz", "--inception-weights", "w.pt"], "uint8"),
    (["stats.npz", "stats.npz", "--kid"], "--kid needs images"),
    (["stats.npz", "stats.npz", "--save-stats", "x.npz"], "one path per input"),
    (["stats.npz"], "second input"),
    (["nosuchdataset:train", "stats.npz"], "unknown dataset"),
    (["stats.npz", "stats.npz", "--classifier", "mnist"], "--classifier needs images"),
    (["float.npz", "stats.npz", "--classifier", "mnist"], "uint8"),
    (["mnist:train[5]", "stats.npz"], "bad split"),
    (["objects.npz", "stats.npz"], "cannot read objects.npz as an .npz of numeric arrays"),
    (["noise.npz", "stats.npz"], "cannot read noise.npz as an .npz of numeric arrays"),
    (["nan.npz", "stats.npz"], "nan.npz holds non-finite values in mu or sigma"),
    (["negative.npz", "stats.npz"], "negative.npz holds a sigma that is not a covariance"),
    (["stats.npz", "stats.npz", "--out", "afile/o.json"], "cannot use afile"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, argv,
                                          message):
  monkeypatch.chdir(tmp_path)
  np.savez("float.npz", images=np.zeros((2, 8, 8), np.float32))
  fid_lib.save_stats("stats.npz", np.zeros(4), np.eye(4))
  np.savez("nan.npz", mu=np.zeros(4), sigma=np.full((4, 4), np.nan))
  np.savez("negative.npz", mu=np.zeros(4), sigma=-np.eye(4))
  np.savez("objects.npz", images=np.array([{"a": 1}, None], dtype=object))
  pathlib.Path("noise.npz").write_bytes(np.random.default_rng(0).bytes(256))
  pathlib.Path("afile").write_text("")
  assert run_main(fid_cli.main, argv) == 2
  err = capsys.readouterr().err.strip()
  assert "\n" not in err and message in err


def test_an_unreadable_image_in_a_folder_is_named(tmp_path):
  Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
  (tmp_path / "b.png").write_bytes(b"not a png")
  source = fid_cli.open_input(str(tmp_path), None)
  with pytest.raises(UsageError, match=f"cannot read the image {tmp_path / 'b.png'} "):
    list(source.batches(8))


def test_a_split_input_takes_its_first_n_images(shared_data_dir):
  source = fid_cli.open_input("mnist:test[:7]", str(shared_data_dir))
  assert source.num_images == 7
  with pytest.raises(UsageError, match="pass 2 to 10000"):
    fid_cli.open_input("mnist:test[:10001]", str(shared_data_dir))
