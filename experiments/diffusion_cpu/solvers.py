"""Samplers on the headline run at equal network calls: FID-1k, the digit
classifier and sampling seconds for each, against the MNIST test split's statistics.

Draws 1,000 samples per sampler from a run that headline_fid.py or the headline
command trained (its --workdir), scores each as headline_fid.py does, and adds a
row per sampler to solvers.json here (every number with the commands that made
it; rows of earlier invocations are kept, and each invocation is listed under
"commands"); the FID against the sampler's seconds per 1,000 samples is drawn
beside it (solvers.png for solvers.json). Scoring runs for minutes per sampler;
`--time-only N` then times the same samplers again on N samples each, scoring
nothing, for speeds measured with nothing else running.

  python experiments/diffusion_cpu/solvers.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt \
      --workdir runs/headline --samplers ddpm ddim:10 dpm_solver++:10:time ddim:50:eta=1 ddim:50:raw

A sampler is SAMPLER:STEPS (SAMPLER alone for ddpm, which runs every timestep)
with options after further colons: a spacing (`time`, `logsnr`) for the
DPM-Solver++ samplers, `eta=E` for DDIM, `w=W` for the classifier-free guidance scale of a
conditional run, `gi=LO,HI` for its guidance interval of noise levels, `clip` or
`noclip` to clip every step's x0 prediction or not (default: the run's), `raw` to
sample with the raw parameters instead of their EMA.
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from headline_fid import HERE, NUM, fid_of, run  # noqa: E402
from jaxgen import plotting  # noqa: E402
from jaxgen import report  # noqa: E402

FLAGS = {"eta": "--eta", "w": "--guidance-scale", "gi": "--guidance-interval",
         "raw": "--raw-params", "clip": "--clip-x0", "noclip": "--no-clip-x0"}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True)
  parser.add_argument("--inception-weights", required=True)
  parser.add_argument("--workdir", default="runs/headline")
  parser.add_argument("--samplers", nargs="+", required=True,
                      help="SAMPLER[:STEPS][:SPACING][:eta=E][:w=W][:gi=LO,HI][:noclip][:raw] "
                           "(see above)")
  parser.add_argument("--time-only", type=int, default=None, metavar="N",
                      help="score nothing: time each sampler (already scored) on N samples "
                           "and keep that as its row's speed, for timings on a machine that "
                           "the scoring shared with other work")
  parser.add_argument("--out", default=str(HERE / "solvers.json"))
  args = parser.parse_args()
  args.reference_stats = str(pathlib.Path(args.data_dir) / "fid_stats" / "mnist_test.npz")
  workdir, results_path = pathlib.Path(args.workdir), pathlib.Path(args.out)
  results = (json.loads(results_path.read_text()) if results_path.is_file()
             else {"commands": []})
  names = {spec: spec.replace("=", "").replace(":", "-") for spec in args.samplers}
  unscored = [spec for spec, name in names.items() if name not in results]
  if args.time_only and unscored:
    parser.error(f"--time-only times scored samplers; {args.out} has no row for "
                 f"{', '.join(unscored)}: score them first (without --time-only)")
  results["commands"].append(report.command_line())
  results.update({"hardware": report.hardware(), "reference": args.reference_stats,
                  "samples": NUM, "workdir": str(workdir)})
  for spec, name in names.items():
    num = args.time_only or NUM
    out = workdir / ("timing" if args.time_only else "") / f"{name}.png"
    sample = run(sample_command(spec, workdir, num, out))
    speed = json.loads(out.with_suffix(".json").read_text())
    sampling = {"num": num, "command": sample, **{k: speed[k] for k in ("seconds", "images/s")}}
    if args.time_only:
      results[name]["sampling"] = sampling
    else:
      record = fid_of([str(out.with_suffix(".npz"))], args, workdir / f"fid_{name}.json")
      results[name] = {"sample command": sample, "sampling": sampling, **record}
    report.write_json(results_path, results)  # each row as it lands
  plot(results, results_path.with_suffix(".png"))
  print(f"wrote {args.out} and {results_path.with_suffix('.png')}")


def plot(results, path):
  """FID against seconds per 1,000 samples for every timed row of `results`."""
  timed = {name: row for name, row in results.items()
           if isinstance(row, dict) and "sampling" in row}
  # Options every row shares go to the title, so the dots' labels stay short.
  shared = set.intersection(*(set(name.split("-")[1:]) for name in timed))
  plotting.save_fid_against_seconds(
      [("-".join(t for t in name.split("-") if t not in shared),
        1000 / row["sampling"]["images/s"], row["fid"]) for name, row in timed.items()],
      path, results["samples"],
      title=f"every sampler: {' '.join(sorted(shared))}" if shared else "")


def sample_command(spec, workdir, num, out):
  """The sample command that draws `num` samples of sampler `spec` (see above)
  from the run in `workdir` to `out`."""
  sampler, *options = spec.split(":")
  command = [sys.executable, "-m", "jaxgen.experiments.sample", "--workdir", str(workdir),
             "--sampler", sampler, "--num", str(num), "--out", str(out)]
  for option in options:
    key, _, value = option.partition("=")
    if key.isdigit():
      command += ["--steps", key]
    elif key in FLAGS:
      command += [FLAGS[key], *value.split(",")] if value else [FLAGS[key]]
    else:
      command += ["--spacing", key]
  return command


if __name__ == "__main__":
  main()
