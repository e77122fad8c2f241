"""Runs a notebook top to bottom, headless, as a fresh runtime would, and prints its wall time.

  JAXGEN_DATA_DIR=../shared/data \
  JAXGEN_FID_WEIGHTS=../shared/data/fid_inception/default_1.pt \
      python scripts/time_notebook.py notebooks/quickstart.ipynb [--out executed.ipynb]

The notebook runs at its own setting for this machine (on a CPU: its CPU budget;
set JAXGEN_NOTEBOOK_SMALL=1 for the CI setting), in a temporary folder, with a
fresh jaxgen cache (so FID reference statistics are computed as on a new Colab
runtime). Prints `seconds` per notebook the same way the other commands print
their figures; `--out` keeps the executed notebook with its outputs.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import nbclient
import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from jaxgen import report  # noqa: E402


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("notebook", type=pathlib.Path)
  parser.add_argument("--out", type=pathlib.Path, default=None,
                      help="where to write the executed notebook")
  parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
  args = parser.parse_args()
  if not args.notebook.is_file():
    sys.exit(f"time_notebook: no notebook at {args.notebook}; pass a .ipynb path")
  notebook = nbformat.read(args.notebook, as_version=4)
  with tempfile.TemporaryDirectory(prefix="jaxgen-notebook-") as folder:
    os.environ["JAXGEN_CACHE_DIR"] = str(pathlib.Path(folder) / "cache")
    start = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                            resources={"metadata": {"path": folder}}).execute()
    seconds = time.perf_counter() - start
  if args.out:
    nbformat.write(notebook, args.out)
  print(f"{args.notebook.name} on {report.hardware()}: "
        f"{report.format_metrics({'seconds': seconds})}")


if __name__ == "__main__":
  main()
