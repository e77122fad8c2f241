"""The benchmark's timing, side-by-side rows and tables, on its cheapest case."""

import json
import time

import pytest

from jaxgen.errors import UsageError
from jaxgen.experiments import bench

SETTINGS = bench.Settings(batch_size=128, num_samples=2, fid_batch_size=8,
                          inception_weights=None)


def test_rows_time_jax_and_a_twin_side_by_side(tmp_path):
  calls = []

  def twin_step():  # a stand-in for the PyTorch twin: 10 ms per call
    calls.append(1)
    time.sleep(0.01)

  rows = bench.bench_case("vae_train", SETTINGS, repeats=3,
                          twins={"eager": {"vae_train": twin_step}})
  jax_row, torch_row = rows
  assert (jax_row["framework"], torch_row["variant"]) == ("jax", "eager")
  assert len(calls) == 1 + 3  # first call, then once per repeat
  assert jax_row["batch"] == 128 and jax_row["steps/s"] > 0
  assert jax_row["examples/s"] == pytest.approx(128 * jax_row["steps/s"])
  assert jax_row["compile_seconds"] > 0 and jax_row["peak_memory_mb"] > 0
  # A twin call is one step (~10 ms here); JAX's timed unit may hold several
  # steps, so both rows and the ratio are per step.
  assert torch_row["median_ms"] >= 10
  assert torch_row["jax_speedup"] == pytest.approx(
      torch_row["median_ms"] / jax_row["median_ms"])
  # XLA's count of one train step, shared by the twin's row.
  assert jax_row["gflop"] == torch_row["gflop"] > 0
  assert jax_row["GFLOP/s"] == pytest.approx(jax_row["gflop"] / jax_row["median_ms"] * 1000)

  table = bench.write_tables(rows, {"hardware": "test"}, tmp_path)
  assert table.splitlines()[2].startswith("| vae_train | jax | jit | float32 | 128 |")
  record = json.loads((tmp_path / "bench.json").read_text())
  assert record["hardware"] == "test" and len(record["rows"]) == 2
  assert "| vae_train | torch | eager |" in (tmp_path / "bench.md").read_text()


def test_matmul_case_counts_its_arithmetic():
  (row,) = bench.bench_case("matmul", SETTINGS, repeats=2, twins={})
  assert row["gflop"] == pytest.approx(2 * 2048**3 / 1e9)
  assert row["GFLOP/s"] == pytest.approx(row["gflop"] / row["median_ms"] * 1000)
  assert "images/s" not in row and "steps/s" not in row


def test_each_dtype_has_rows_of_its_own(tmp_path):
  bench.main(["--cases", "matmul", "--dtypes", "float32,bfloat16", "--repeats", "1",
              "--out", str(tmp_path)])
  rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
  assert [(row["case"], row["dtype"]) for row in rows] == [
      ("matmul", "float32"), ("matmul", "bfloat16")]
  assert "| matmul | jax | jit | bfloat16 |" in (tmp_path / "bench.md").read_text()


def test_rows_are_set_against_the_matmul_ceiling_of_their_dtype():
  rows = [{"case": "matmul", "framework": "jax", "dtype": "float32", "GFLOP/s": 100.0},
          {"case": "vae_train", "framework": "jax", "dtype": "float32", "GFLOP/s": 25.0},
          {"case": "vae_train", "framework": "torch", "dtype": "float32", "GFLOP/s": 50.0},
          {"case": "vae_train", "framework": "jax", "dtype": "bfloat16", "GFLOP/s": 30.0},
          {"case": "fid_features", "framework": "jax", "dtype": "float32"}]
  bench.add_matmul_fractions(rows)
  assert [row.get("matmul_fraction") for row in rows] == [None, 0.25, 0.5, None, None]


@pytest.mark.parametrize("argv, message", [
    (["--cases", "nope"], "unknown bench case 'nope'"),
    (["--repeats", "0"], "must be positive"),
    (["--dtypes", "float16"], "choose from float32, bfloat16"),
])
def test_bad_arguments_are_usage_errors(argv, message):
  with pytest.raises(UsageError, match=message):
    bench.main(argv)


def test_compare_sets_each_case_beside_an_earlier_run(tmp_path):
  old = {"hardware": "cpu A", "rows": [
      {"case": "vae_train", "framework": "jax", "variant": "jit", "batch": 128,
       "median_ms": 30.0},
      {"case": "matmul", "framework": "jax", "variant": "jit", "median_ms": 8.0},
      {"case": "vae_train", "framework": "torch", "variant": "eager", "batch": 128,
       "median_ms": 50.0}]}
  (tmp_path / "old.json").write_text(json.dumps(old))
  new = {"framework": "jax", "variant": "jit", "dtype": "float32"}
  new_rows = [{"case": "vae_train", **new, "batch": 128, "median_ms": 20.0},
              # another batch, or dtype: not the same measurement (old rows
              # without a dtype are float32)
              {"case": "vae_train", **new, "batch": 64, "median_ms": 10.0},
              {"case": "vae_train", **new, "dtype": "bfloat16", "batch": 128,
               "median_ms": 12.0},
              {"case": "fid_features", **new, "median_ms": 5.0}]  # not in the old run
  compared = bench.compare_rows(bench.read_bench(str(tmp_path / "old.json")), new_rows)
  assert compared == [{"case": "vae_train", "framework": "jax", "variant": "jit",
                       "dtype": "float32", "old_ms": 30.0, "new_ms": 20.0, "speedup": 1.5}]
  same = bench.comparison_table("old.json", old, compared, "cpu A")
  assert "measured on the same hardware" in same
  assert "| vae_train | jax | jit | float32 | 30.0 | 20.0 | 1.50 |" in same
  assert "other hardware (cpu A)" in bench.comparison_table("old.json", old, compared, "cpu B")


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    ("{x", "cannot read"),
    ('{"rows": [{"case": "matmul"}]}', "holds no bench rows"),
])
def test_a_bad_compare_file_is_one_line_before_any_work(tmp_path, content, message):
  path = tmp_path / "old.json"
  if content is not None:
    path.write_text(content)
  with pytest.raises(UsageError, match=f"{message}.*pass a bench.json"):
    bench.main(["--cases", "matmul", "--compare", str(path), "--out", str(tmp_path)])
  assert not (tmp_path / "bench.md").exists()
