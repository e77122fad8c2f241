"""The headline command measured by numbers: FID-1k against the MNIST test split.

Trains `python -m jaxgen.experiments.run --model ddim` (the `cpu` preset) with an
FID of 1,000 DDIM-50 samples against a statistics file of the test split
(`fid.reference_stats`), then draws 1,000 samples of the same run with DDIM-50
and with DPM-Solver++ at 10 and 20 steps through the sample command (DDIM-50
again, so that all three samplers are drawn and scored the same way) and scores
each by FID and the digit classifier, and the real-data floor: 1,000 MNIST
train images against the same statistics. Writes `headline_fid.json` here
(every number with the command that made it).

  python experiments/diffusion_cpu/headline_fid.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/headline
"""

import argparse
import json
import pathlib
import subprocess
import sys

from jaxgen import report

HERE = pathlib.Path(__file__).resolve().parent
NUM = 1000
SAMPLERS = (("ddim", 50), ("dpm_solver++", 10), ("dpm_solver++", 20))
# The cpu preset's batch and steps until variants.py made them 32 and 1750: the
# studies measured before then pin them.
BATCH_64_PRESET = ["--config.batch_size=64", "--config.num_steps=1000"]


def run(command):
  print("$", " ".join(command), flush=True)
  subprocess.run(command, check=True)
  return " ".join(command)


def fid_of(inputs, args, out):
  """The FID command (and the digit classifier) on `inputs` against the
  statistics; its JSON record."""
  command = [sys.executable, "-m", "jaxgen.experiments.fid", *inputs, args.reference_stats,
             "--data-dir", args.data_dir, "--inception-weights", args.inception_weights,
             "--batch-size", "100", "--classifier", "mnist", "--out", str(out)]
  shown = run(command)
  return {"command": shown, **json.loads(out.read_text())}


def study_parser(description, default_workdir, default_out):
  """The arguments of a study that trains the headline command per setting and
  seed (weighting.py, variants.py); the study adds its settings."""
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default=default_workdir)
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
  parser.add_argument("--out", default=str(HERE / default_out))
  return parser


def open_results(args, **fields):
  """The study's results file (--out) as a dict, its earlier runs kept, with this
  invocation's command added and `fields` set; sets args.reference_stats."""
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  path = pathlib.Path(args.out)
  results = json.loads(path.read_text()) if path.is_file() else {"commands": [], "runs": {}}
  results["commands"].append(report.command_line())
  results.update({"hardware": report.hardware(), "reference": args.reference_stats,
                  "samples": NUM, **fields})
  return results


def train_and_score(workdir, overrides, args):
  """Trains the headline command with `overrides` (--config.FIELD=VALUE flags) in
  `workdir` (reused when finished), draws 1,000 samples with the run's own
  sampler through the sample command (reused when drawn) and scores them with
  `fid_of`; one JSON record of the run."""
  train = run([sys.executable, "-m", "jaxgen.experiments.run", "--model", "ddim",
               "--workdir", str(workdir), "--data-dir", args.data_dir, *overrides])
  summary = json.loads((workdir / "summary.json").read_text())
  out = workdir / f"samples{NUM}.png"
  sample = [sys.executable, "-m", "jaxgen.experiments.sample", "--workdir", str(workdir),
            "--num", str(NUM), "--out", str(out)]
  if out.with_suffix(".npz").is_file():
    sample = " ".join(sample)
  else:
    sample = run(sample)
  record = fid_of([str(out.with_suffix(".npz"))], args, workdir / f"fid{NUM}.json")
  return {"train command": train, "steps": summary["steps"],
          "train_seconds": summary["train_seconds"], "sample command": sample, **record}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/headline")
  parser.add_argument("--out", default=str(HERE / "headline_fid.json"))
  args = parser.parse_args()
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  workdir = pathlib.Path(args.workdir)
  results = {"command": report.command_line(), "hardware": report.hardware(),
             "reference": args.reference_stats, "samples": NUM}

  train = run([sys.executable, "-m", "jaxgen.experiments.run", "--model", "ddim",
               "--workdir", str(workdir), "--data-dir", args.data_dir,
               "--inception-weights", args.inception_weights,
               f"--config.fid.num_samples={NUM}", "--config.fid.batch_size=100",
               f"--config.fid.reference_stats={args.reference_stats}"])
  summary = json.loads((workdir / "summary.json").read_text())
  results["ddim-50 (the run's own FID)"] = {"command": train, **summary}

  for sampler, steps in SAMPLERS:
    name = f"{sampler}-{steps}"
    out = workdir / f"{name}.png"
    sample = run([sys.executable, "-m", "jaxgen.experiments.sample", "--workdir",
                  str(workdir), "--sampler", sampler, "--steps", str(steps),
                  "--num", str(NUM), "--out", str(out)])
    record = fid_of([str(out.with_suffix(".npz"))], args, workdir / f"fid_{name}.json")
    results[name] = {"sample command": sample, **record}

  results["real data floor (mnist:train[:1000])"] = fid_of(
      [f"mnist:train[:{NUM}]"], args, workdir / "fid_real_floor.json")
  report.write_json(pathlib.Path(args.out), results)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
