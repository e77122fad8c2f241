"""Times the headline command as a new user meets it, at several commits, one
after the other on this machine.

For each commit: a fresh clone of this repository at that commit, a fresh
virtual environment, `pip install -e .`, then
`python -m jaxgen.experiments.run --model ddim` (data from --data-dir). Writes
the install and run wall times of each, the run's summary.json and the CPU
model to --out. Timings compare only within one invocation (same machine, same
load): run it with nothing else running.

  python scripts/time_headline.py --data-dir ../shared/data \
      --commits 056a828 HEAD 056a828 HEAD --out experiments/diffusion_cpu/headline_timing.json
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from jaxgen import report  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def timed(command, cwd, env=None):
  """Runs `command` (a shell line) in `cwd`; its wall seconds."""
  print(f"$ (cd {cwd} && {command})", flush=True)
  start = time.perf_counter()
  subprocess.run(command, shell=True, cwd=cwd, env=env, check=True)
  return time.perf_counter() - start


def time_commit(commit: str, data_dir: str, clone: pathlib.Path) -> dict:
  sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                       capture_output=True, text=True).stdout.strip()
  subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
  subprocess.run(["git", "checkout", "-q", sha], cwd=clone, check=True)
  subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=clone, check=True)
  env = {**os.environ, "PATH": f"{clone / '.venv' / 'bin'}:{os.environ['PATH']}",
         "VIRTUAL_ENV": str(clone / ".venv"), "JAXGEN_DATA_DIR": data_dir}
  install = timed("pip install -q -e .", clone, env)
  run = timed("python -m jaxgen.experiments.run --model ddim", clone, env)
  summary = json.loads((clone / "runs" / "ddim_mnist" / "summary.json").read_text())
  return {"commit": sha, "install_seconds": install, "run_wall_seconds": run,
          "wall_seconds_including_install": install + run, "summary": summary}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--commits", nargs="+", required=True)
  parser.add_argument("--out", required=True)
  args = parser.parse_args()
  data_dir = str(pathlib.Path(args.data_dir).resolve())
  results = {"command": report.command_line(), "hardware": report.hardware(),
             "headline": "pip install -e . && python -m jaxgen.experiments.run --model ddim",
             "commits": []}
  with tempfile.TemporaryDirectory() as scratch:
    for index, commit in enumerate(args.commits):  # a commit may come again: alternate them
      clone = pathlib.Path(scratch) / str(index)
      results["commits"].append(time_commit(commit, data_dir, clone))
      report.write_json(pathlib.Path(args.out), results)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
