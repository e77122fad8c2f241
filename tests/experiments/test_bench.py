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
  assert table.splitlines()[2].startswith("| vae_train | jax | jit | 128 |")
  record = json.loads((tmp_path / "bench.json").read_text())
  assert record["hardware"] == "test" and len(record["rows"]) == 2
  assert "| vae_train | torch | eager |" in (tmp_path / "bench.md").read_text()


def test_matmul_case_counts_its_arithmetic():
  (row,) = bench.bench_case("matmul", SETTINGS, repeats=2, twins={})
  assert row["gflop"] == pytest.approx(2 * 2048**3 / 1e9)
  assert row["GFLOP/s"] == pytest.approx(row["gflop"] / row["median_ms"] * 1000)
  assert "images/s" not in row and "steps/s" not in row


@pytest.mark.parametrize("argv, message", [
    (["--cases", "nope"], "unknown bench case 'nope'"),
    (["--repeats", "0"], "must be positive"),
])
def test_bad_arguments_are_usage_errors(argv, message):
  with pytest.raises(UsageError, match=message):
    bench.main(argv)
