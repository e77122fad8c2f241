"""Every model on MNIST at the standard sample count: FID of 10,000 samples.

  python experiments/all_mnist_fid10k/study.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/fid10k

First the real-data floor, with the FID command: the first 10,000 MNIST train
images against the test split, which also writes the test split's statistics
with their 10,000 features (WORKDIR/mnist_test.npz, the reference of every row;
its FID against ../shared/data/fid_stats/mnist_test.npz is 0). Then, per entry
(every model at the `cpu` preset, and the cheap MLP GANs and VAEs at 20,000
steps), the run command trains it in WORKDIR/ENTRY, the sample command draws
10,000 samples in ten seeded calls of 1,000, and the FID command scores them
against the reference (FID, KID, precision/recall/density/coverage, the digit
classifier). Each finished entry goes into results.json here at once and the
table (results.md) is rewritten, so the study can stop anywhere: a rerun skips
the entries results.json already holds and resumes the rest from WORKDIR.
`--entries` picks some. DDPM-1000 for 10,000 samples (about 5.5 hours of
sampling on a 2-core CPU) is left out; the `ddim` entry trains the same model.
"""

import argparse
import json
import pathlib
import subprocess
import sys
from typing import Dict, List, Sequence

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import report  # noqa: E402  (sets XLA flags before JAX starts)

HERE = pathlib.Path(__file__).resolve().parent
NUM, CHUNK = 10_000, 1_000
# entry -> (model, config overrides): the cpu preset, then the longer budget.
ENTRIES = {
    **{model: (model, ()) for model in
       ("vae", "cvae", "gan", "lsgan", "wgan_gp", "cgan", "ddim", "ae")},
    **{f"{model}_20k": (model, ("num_steps=20000",)) for model in
       ("gan", "lsgan", "wgan_gp", "cgan", "vae", "cvae")},
}
REAL, REFERENCE = f"mnist:train[:{NUM}]", "mnist:test"
FLOOR = f"real: {REAL}"
COLUMNS = ("fid", "kid", "precision", "recall", "density", "coverage",
           "confident_fraction", "classes_covered", "class_kl")
# MNIST FIDs of Lucic et al. 2018 as quoted by Dai & Wipf 2019: another
# protocol (their own Inception features and splits), so a scale, not a target.
LUCIC = {"NS-GAN": 6.8, "LSGAN": 7.8, "WGAN-GP": 20.3}


def run(command: Sequence[str]) -> str:
  print("$", " ".join(command), flush=True)
  subprocess.run(command, check=True)
  return " ".join(command)


def fid_command(inputs: Sequence[str], args, out: pathlib.Path,
                save_stats: Sequence[str] = ()) -> List[str]:
  return [sys.executable, "-m", "jaxgen.experiments.fid", *inputs, "--data-dir",
          args.data_dir, "--inception-weights", args.inception_weights, "--batch-size",
          "100", "--classifier", "mnist", "--kid", "--out", str(out),
          *(["--save-stats", *save_stats] if save_stats else [])]


def floor(args, workdir: pathlib.Path) -> Dict:
  """The floor's FID record; writes the reference statistics on the way."""
  out = workdir / "floor.json"
  command = run(fid_command([REAL, REFERENCE], args, out, save_stats=(
      str(workdir / "mnist_train_stats.npz"), str(args.reference))))
  return {"command": command, "hardware": report.hardware(), **json.loads(out.read_text())}


def reference_only(args) -> None:
  """The test split's statistics and features again (a new WORKDIR): the same
  bytes as the floor's run wrote, the features being all 10,000 in order."""
  run([sys.executable, "-m", "jaxgen.experiments.fid", REFERENCE, "--data-dir",
       args.data_dir, "--inception-weights", args.inception_weights, "--batch-size", "100",
       "--save-stats", str(args.reference)])


def score_entry(name: str, args, workdir: pathlib.Path) -> Dict:
  """Trains, samples and scores one entry; its record."""
  model, overrides = ENTRIES[name]
  run_dir = workdir / name
  train = run([sys.executable, "-m", "jaxgen.experiments.run", "--model", model,
               "--dataset", "mnist", "--workdir", str(run_dir), "--data-dir",
               args.data_dir, *(f"--config.{o}" for o in overrides)])
  summary = json.loads((run_dir / "summary.json").read_text())
  sample = [sys.executable, "-m", "jaxgen.experiments.sample", "--workdir", str(run_dir),
            "--num", str(CHUNK), "--seed", "SEED", "--out", str(run_dir / "chunks" / "SEED.png")]
  samples = run_dir / "samples10k.npz"
  if not samples.is_file():
    chunks = []
    for seed in range(NUM // CHUNK):
      out = run_dir / "chunks" / f"{seed}.png"
      if not out.with_suffix(".npz").is_file():
        run([part.replace("SEED", str(seed)) for part in sample])
      with np.load(out.with_suffix(".npz")) as arrays:
        chunks.append(arrays["samples"])
    np.savez(samples, samples=np.concatenate(chunks))
  scores = run_dir / "fid10k.json"
  fid = run(fid_command([str(samples), str(args.reference)], args, scores))
  return {"model": model, "overrides": list(overrides), "hardware": report.hardware(),
          "train command": train, "sample command (SEED 0-9)": " ".join(sample),
          "fid command": fid,
          "steps": summary["steps"], "parameters": summary["parameters"],
          "train_seconds": summary["train_seconds"],
          **json.loads(scores.read_text())}


def measured_on(results: Dict) -> str:
  """The entries' hardware, and the floor's where it differs."""
  entries = sorted({row["hardware"] for row in results["entries"].values()})
  floor = results.get("floor", {}).get("hardware")
  return "; ".join(entries) + (f" (the floor: {floor})" if floor and floor not in entries
                               else "")


def write_table(results: Dict, path: pathlib.Path) -> None:
  """results.md: one row per finished entry, the floor last, then the scale."""
  header = ["entry", "steps", "train_seconds", *COLUMNS]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  rows = {name: results["entries"][name] for name in ENTRIES if name in results["entries"]}
  for name, row in [*rows.items(), *([(FLOOR, results["floor"])] if "floor" in results else [])]:
    lines.append("| " + " | ".join([name] + [
        report.format_value(c, row[c]) if row.get(c) is not None else ""
        for c in header[1:]]) + " |")
  pending = [name for name in ENTRIES if name not in rows]
  path.write_text(
      "# Every model on MNIST: FID of 10,000 samples against the test split\n\n"
      f"Measured on {measured_on(results)} with\n"
      f"`{results['command']}`\n"
      f"(each row's own commands are in results.json). {NUM:,} samples per row, drawn by "
      "the sample command with the run's defaults (for `ddim` the `cpu` preset's "
      "class-conditional DDIM-50 with η = 1 and guidance w = 3, a tenth of the samples per "
      "class), scored by the FID "
      "command against the test split's statistics and its 10,000 features (KID, "
      "precision/recall/density/coverage at k = 5) and by the digit classifier. "
      "`_20k` rows train 20,000 steps instead of the `cpu` preset's count. The floor is "
      "10,000 real train images scored the same way.\n\n" + "\n".join(lines) + "\n\n"
      + (f"Not measured yet: {', '.join(pending)} (a rerun of the command adds them).\n\n"
         if pending else "")
      + "Left out: `ddpm`, whose 10,000 DDPM-1000 samples take about 5.5 hours on a "
      "2-core CPU; it trains the same model as `ddim`.\n\n"
      "For scale, the MNIST FIDs of Lucic et al. 2018 as quoted by Dai & Wipf 2019 "
      "(another protocol and training budget): "
      + ", ".join(f"{name} {fid}" for name, fid in LUCIC.items()) + ".\n")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/fid10k")
  parser.add_argument("--entries", default=",".join(ENTRIES),
                      help=f"comma list of: {', '.join(ENTRIES)}")
  parser.add_argument("--out", default=str(HERE))
  args = parser.parse_args()
  entries = [name.strip() for name in args.entries.split(",")]
  unknown = [name for name in entries if name not in ENTRIES]
  if unknown:
    parser.error(f"unknown entries {', '.join(unknown)}; choose from {', '.join(ENTRIES)}")
  workdir, out = pathlib.Path(args.workdir), pathlib.Path(args.out)
  workdir.mkdir(parents=True, exist_ok=True)
  args.reference = workdir / "mnist_test.npz"
  results_path = out / "results.json"
  results = (json.loads(results_path.read_text()) if results_path.is_file()
             else {"entries": {}})
  results["command"] = report.command_line()
  if "floor" not in results:
    results["floor"] = floor(args, workdir)
    report.write_json(results_path, results)
  elif not args.reference.is_file():
    reference_only(args)
  for name in entries:
    if name in results["entries"]:
      print(f"{name}: in {results_path} already", flush=True)
      continue
    results["entries"][name] = score_entry(name, args, workdir)
    report.write_json(results_path, results)
    write_table(results, out / "results.md")
  report.write_json(results_path, results)
  write_table(results, out / "results.md")
  print(f"wrote {results_path} and results.md")


if __name__ == "__main__":
  main()
