"""How the headline model's quality grows with its training steps.

Trains the headline command (`--model ddim`, the `cpu` preset) in one workdir to
each of --steps in turn (each stage resumes the last: a longer `num_steps` only
extends the run, so stage N is the run `--config.num_steps=N` would make), and
after each stage draws 1,000 samples with the run's own sampler through the
sample command and scores them as headline_fid.py does (FID-1k against the
MNIST test split's statistics, the digit classifier). Writes
`learning_curve.json` here (every number with the commands that made it; stages
already measured are kept, so a later invocation can add longer ones) and
`learning_curve.png` beside it.

  python experiments/diffusion_cpu/learning_curve.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/learning_curve --steps 1000 2000 4000
"""

import argparse
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import HERE, NUM, fid_of, run  # noqa: E402
from jaxgen import report  # noqa: E402


def plot(stages, real_floor, path):
  """FID-1k and the confident fraction against training steps."""
  steps = sorted(stages, key=int)
  x = [int(s) for s in steps]
  fig, (fid_ax, conf_ax) = plt.subplots(1, 2, figsize=(9, 3.5))
  fid_ax.plot(x, [stages[s]["fid"] for s in steps], "o-", label="headline model")
  fid_ax.axhline(3 * real_floor["fid"], ls="--", c="gray", label="3 × real-data floor")
  fid_ax.set(xlabel="training steps (batch 64)", ylabel="FID-1k (MNIST test)", ylim=(0, None))
  fid_ax.legend()
  conf_ax.plot(x, [stages[s]["confident_fraction"] for s in steps], "o-")
  conf_ax.axhline(0.9, ls="--", c="gray", label="0.9")
  conf_ax.axhline(real_floor["confident_fraction"], ls=":", c="gray", label="real data")
  conf_ax.set(xlabel="training steps (batch 64)", ylabel="confidently classified",
              ylim=(0, 1))
  conf_ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/learning_curve")
  parser.add_argument("--steps", type=int, nargs="+", required=True,
                      help="training steps at which to measure, increasing")
  parser.add_argument("--out", default=str(HERE / "learning_curve.json"))
  args = parser.parse_args()
  if args.steps != sorted(set(args.steps)):
    parser.error("--steps must increase")
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  workdir, results_path = pathlib.Path(args.workdir), pathlib.Path(args.out)
  results = (json.loads(results_path.read_text()) if results_path.is_file()
             else {"commands": [], "stages": {}})
  results["commands"].append(report.command_line())
  results.update({"hardware": report.hardware(), "reference": args.reference_stats,
                  "samples": NUM, "workdir": str(workdir)})
  if "real data floor" not in results:
    results["real data floor"] = fid_of([f"mnist:train[:{NUM}]"], args,
                                        workdir / "fid_real_floor.json")

  for steps in args.steps:
    train = run([sys.executable, "-m", "jaxgen.experiments.run", "--model", "ddim",
                 "--workdir", str(workdir), "--data-dir", args.data_dir,
                 f"--config.num_steps={steps}"])
    summary = json.loads((workdir / "summary.json").read_text())
    out = workdir / f"step{steps}.png"
    sample = run([sys.executable, "-m", "jaxgen.experiments.sample", "--workdir",
                  str(workdir), "--num", str(NUM), "--out", str(out)])
    record = fid_of([str(out.with_suffix(".npz"))], args, workdir / f"fid_step{steps}.json")
    results["stages"][str(steps)] = {
        "train command": train, "steps_this_stage": summary["steps_this_run"],
        "train_seconds_this_stage": summary["train_seconds_this_run"], "sample command": sample,
        **record}
    report.write_json(results_path, results)  # each stage as it lands
    plot(results["stages"], results["real data floor"], results_path.with_suffix(".png"))
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
