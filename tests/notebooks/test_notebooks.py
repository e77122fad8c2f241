"""The notebooks run top to bottom (small setting, offline data, CPU)."""

import os
import pathlib

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted(
    (pathlib.Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
  assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "three_families.ipynb"}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: pathlib.Path, tmp_path, monkeypatch, shared_data_dir):
  monkeypatch.setenv("JAXGEN_NOTEBOOK_SMALL", "1")
  monkeypatch.setenv("JAXGEN_DATA_DIR", str(shared_data_dir))
  monkeypatch.setenv("JAXGEN_FID_WEIGHTS",
                     str(shared_data_dir / "fid_inception" / "default_1.pt"))
  monkeypatch.setenv("JAXGEN_CACHE_DIR", str(tmp_path / "cache"))
  # One device, as on Colab; the suite's other XLA flags (tests/conftest.py) stay.
  monkeypatch.setenv("XLA_FLAGS", " ".join(
      flag for flag in os.environ.get("XLA_FLAGS", "").split()
      if not flag.startswith("--xla_force_host_platform_device_count")))
  notebook = nbformat.read(path, as_version=4)
  nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                          resources={"metadata": {"path": str(tmp_path)}}).execute()
  outputs = [o for cell in notebook.cells if cell.cell_type == "code"
             for o in cell.get("outputs", [])]
  assert not [o for o in outputs if o.get("output_type") == "error"]
  assert any(o.get("output_type") == "display_data" for o in outputs)
