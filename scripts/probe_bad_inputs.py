"""Feeds the command-line tools bad input and checks each answer.

  python scripts/probe_bad_inputs.py --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt --out probe.json

Each case runs one command (`run`, `sample`, `fid`, `train_classifier`, `bench`)
in a scratch folder that holds a small trained gmm_ring8 run and the broken
files the cases need. A case passes when the command exits 2 with one line on
stderr that starts with "error:" (besides the run's one "jaxgen: MODEL on
DATASET" banner), no traceback, and wrote nothing it should not have. The
table and a JSON record go to stdout and --out.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from typing import Callable, List, Optional

import numpy as np

TINY_DDIM = ["--model", "ddim", "--dataset", "gmm_ring8", "--config.net.hidden=16",
             "--config.num_steps=2", "--config.log_every=1", "--config.checkpoint_every=2",
             "--config.sample_every=2", "--config.num_samples=64"]


@dataclasses.dataclass
class Case:
  name: str
  tool: str                            # run | sample | fid | train_classifier | bench
  argv: List[str]
  # Checked after the command: "" when it holds, else what went wrong.
  after: Optional[Callable[[pathlib.Path], str]] = None


def make_scratch(scratch: pathlib.Path, python: str) -> None:
  """A trained run (`ok`) and the broken files the cases use."""
  subprocess.run([python, "-m", "jaxgen.experiments.run", *TINY_DDIM, "--workdir", "ok"],
                 cwd=scratch, check=True, capture_output=True)
  (scratch / "afile").write_text("not a folder")
  (scratch / "corrupt.json").write_text("{x")
  (scratch / "random.npz").write_bytes(os.urandom(4096))
  (scratch / "random.pt").write_bytes(os.urandom(4096))
  np.savez(scratch / "object.npz", samples=np.array([{"a": 1}, None], dtype=object))
  np.savez(scratch / "flat.npz", samples=np.zeros(100, np.uint8))
  np.savez(scratch / "images.npz", samples=np.zeros((16, 28, 28, 1), np.uint8))
  np.savez(scratch / "nan_images.npz", samples=np.full((8, 28, 28, 1), np.nan, np.float32))
  eye = np.eye(10)
  np.savez(scratch / "stats_a.npz", mu=np.zeros(10), sigma=eye)
  np.savez(scratch / "stats_nan.npz", mu=np.zeros(10), sigma=np.where(eye > 0, np.nan, 0))
  np.savez(scratch / "stats_negative.npz", mu=np.zeros(10), sigma=-eye)
  np.savez(scratch / "stats_nonsymmetric.npz", mu=np.zeros(10),
           sigma=eye + np.triu(np.ones((10, 10)), 1))
  np.savez(scratch / "stats_wrong_dim.npz", mu=np.zeros(11), sigma=np.eye(11))
  np.savez(scratch / "stats_no_sigma.npz", mu=np.zeros(10))
  for name in ("pngs", "empty_dir", "bad_data"):
    (scratch / name).mkdir()
  (scratch / "pngs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
  (scratch / "bad_data" / "train-images-idx3-ubyte.gz").write_bytes(os.urandom(512))
  (scratch / "bad.py").write_text("raise RuntimeError('boom')\n")
  bad_run = scratch / "corrupt_run"
  bad_run.mkdir()
  (bad_run / "config.json").write_text("{x")


def unchanged(path: str) -> Callable[[pathlib.Path], str]:
  def check(scratch: pathlib.Path) -> str:
    return f"{path} was written" if (scratch / path).exists() else ""
  return check


def cases(data_dir: str, weights: str) -> List[Case]:
  ok_run = ["--workdir", "ok"]
  fid_w = ["--inception-weights", weights]
  # One train step at most, should a bad input get through.
  run = lambda name, *argv, after=None: Case(name, "run", ["--config.num_steps=1", *argv],
                                             after)
  sample = lambda name, *argv, after=None: Case(name, "sample", list(argv), after)
  fid = lambda name, *argv, after=None: Case(name, "fid", list(argv), after)
  return [
      run("unknown model", "--model", "dmm"),
      run("unknown dataset", "--dataset", "cifar"),
      run("unknown preset", "--preset", "tiny"),
      run("model listed twice", "--model", "gan,gan"),
      run("unknown flag", "--modle", "gan"),
      run("unknown config field", "--config.optim.lr=1"),
      run("unknown config section", "--config.optimizer.learning_rate=1"),
      run("config field without value", "--config.batch_size"),
      run("non-numeric value", "--config.batch_size=big"),
      run("batch size 0", "--config.batch_size=0"),
      run("negative steps", "--config.num_steps=-5"),
      run("negative learning rate", "--config.optim.learning_rate=-1.0"),
      run("ema decay 1", "--config.ema_decay=1.0"),
      run("net size 0", "--dataset", "gmm_ring8", "--config.net.hidden=0"),
      run("dropout 1", "--config.net.dropout=1.0"),
      run("bad seed", "--config.seed=abc"),
      run("sampler typo keeps workdir free", "--dataset", "gmm_ring8", "--workdir", "t1",
          "--config.diffusion.sampler=ddmi", after=unchanged("t1")),
      run("schedule typo", "--workdir", "t2", "--config.diffusion.schedule=cosin",
          after=unchanged("t2")),
      run("target typo", "--workdir", "t3", "--config.diffusion.target=e",
          after=unchanged("t3")),
      run("gan loss typo", "--model", "gan", "--workdir", "t4", "--config.gan.loss=hinge2",
          after=unchanged("t4")),
      run("gan architecture typo", "--model", "gan", "--config.gan.architecture=resnett"),
      run("decay typo", "--config.optim.decay=cosinus"),
      run("vae beta schedule typo", "--model", "vae", "--config.autoencoder.beta_schedule=x"),
      run("sample steps 0", "--config.diffusion.sample_steps=0"),
      run("eta 2", "--config.diffusion.eta=2.0"),
      run("eta for an ODE solver", "--config.diffusion.sampler=dpm_solver++",
          "--config.diffusion.eta=0.5"),
      run("steps per dispatch not dividing", "--config.steps_per_dispatch=3"),
      run("negative fid samples", "--config.fid.num_samples=-1"),
      run("fid reference size too big", "--dataset", "mnist", "--data-dir", data_dir,
          "--workdir", "t5", "--config.num_steps=1", "--config.fid.num_samples=8",
          "--config.fid.reference_size=99999999", "--inception-weights", weights),
      run("fid reference stats missing", "--data-dir", data_dir, "--inception-weights",
          weights, "--config.fid.reference_stats=nope.npz", "--config.fid.num_samples=8"),
      run("fid reference stats corrupt", "--workdir", "t6", "--data-dir", data_dir,
          "--config.num_steps=1", "--config.fid.reference_stats=random.npz",
          "--config.fid.num_samples=8", "--inception-weights", weights),
      run("inception weights missing", "--workdir", "t7", "--data-dir", data_dir,
          "--config.num_steps=1", "--config.fid.num_samples=8",
          "--inception-weights", "nope.pt"),
      run("inception weights corrupt", "--workdir", "t8", "--data-dir", data_dir,
          "--config.num_steps=1", "--config.fid.num_samples=8",
          "--inception-weights", "random.pt"),
      run("classifier weights missing", "--data-dir", data_dir,
          "--config.classifier_weights=nope.npz"),
      run("classifier weights corrupt", "--workdir", "t9", "--data-dir", data_dir,
          "--config.num_steps=1", "--config.classifier_weights=random.npz"),
      run("data dir missing", "--data-dir", "nope", "--workdir", "t10"),
      run("data dir empty", "--data-dir", "empty_dir", "--workdir", "t11"),
      run("data dir with a corrupt file", "--data-dir", "bad_data", "--workdir", "t12"),
      run("workdir is a file", "--dataset", "gmm_ring8", "--workdir", "afile"),
      run("workdir under a file", "--dataset", "gmm_ring8", "--workdir", "afile/run"),
      run("workdir with corrupt config.json", "--dataset", "gmm_ring8", "--workdir",
          "corrupt_run"),
      run("workdir of another model", "--model", "gan", "--dataset", "gmm_ring8",
          "--workdir", "ok"),
      run("config file missing", "--config", "nope.json"),
      run("config file corrupt", "--config", "corrupt.json"),
      run("config file that raises", "--config", "bad.py"),
      run("config file and --model", "--config", "ddim_mnist_cpu", "--model", "gan"),
      run("print-config of two models", "--print-config", "--model", "gan,vae"),
      run("processes without coordinator", "--num-processes", "2"),
      run("process id out of range", "--coordinator", "localhost:1", "--num-processes",
          "2", "--process-id", "5"),
      sample("workdir missing", "--workdir", "nope"),
      sample("workdir not a run", "--workdir", "empty_dir"),
      sample("workdir with corrupt config.json", "--workdir", "corrupt_run"),
      sample("num not a number", *ok_run, "--num", "abc"),
      sample("num 0", *ok_run, "--num", "0"),
      sample("unknown sampler", *ok_run, "--sampler", "euler"),
      sample("steps 0", *ok_run, "--steps", "0"),
      sample("steps above timesteps", *ok_run, "--steps", "5000"),
      sample("eta 2", *ok_run, "--eta", "2"),
      sample("eta for an ODE solver", *ok_run, "--sampler", "dpm_solver++", "--eta", "0.5"),
      sample("spacing for ddim", *ok_run, "--sampler", "ddim", "--spacing", "time"),
      sample("label on an unconditional run", *ok_run, "--label", "3"),
      sample("guidance on an unconditional run", *ok_run, "--guidance-scale", "3"),
      sample("out under a file", *ok_run, "--out", "afile/x.png", after=unchanged("afile/x.png")),
      sample("out with another extension", *ok_run, "--out", "x.gif"),
      fid("input missing", "nope.npz", "stats_a.npz", *fid_w),
      fid("unknown dataset", "cifar:test", "stats_a.npz", *fid_w),
      fid("unknown split", "mnist:valid", "stats_a.npz", "--data-dir", data_dir, *fid_w),
      fid("corrupt png in a folder", "pngs", "stats_a.npz", *fid_w),
      fid("empty folder", "empty_dir", "stats_a.npz", *fid_w),
      fid("npz of objects", "object.npz", "stats_a.npz", *fid_w),
      fid("npz of random bytes", "random.npz", "stats_a.npz", *fid_w),
      fid("npz of a flat array", "flat.npz", "stats_a.npz", *fid_w),
      fid("npz of NaN images", "nan_images.npz", "stats_a.npz", *fid_w),
      fid("statistics with NaN", "stats_a.npz", "stats_nan.npz"),
      fid("negative-definite sigma", "stats_a.npz", "stats_negative.npz"),
      fid("non-symmetric sigma", "stats_a.npz", "stats_nonsymmetric.npz"),
      fid("statistics of another dimension", "stats_a.npz", "stats_wrong_dim.npz"),
      fid("statistics without sigma", "stats_a.npz", "stats_no_sigma.npz"),
      fid("KID of statistics", "stats_a.npz", "stats_a.npz", "--kid"),
      fid("save-stats under a file", "stats_a.npz", "stats_a.npz", "--save-stats",
          "afile/o.npz", "afile/p.npz"),
      fid("save-stats count", "stats_a.npz", "stats_a.npz", "--save-stats", "o.npz",
          after=unchanged("o.npz")),
      fid("out under a file", "stats_a.npz", "stats_a.npz", "--out", "afile/o.json"),
      fid("batch size 0", "images.npz", "stats_a.npz", "--batch-size", "0", *fid_w),
      fid("inception weights missing", "images.npz", "stats_a.npz",
          "--inception-weights", "nope.pt"),
      fid("inception weights corrupt", "images.npz", "stats_a.npz",
          "--inception-weights", "random.pt"),
      fid("unknown classifier", "stats_a.npz", "stats_a.npz", "--classifier", "cifar"),
      fid("classifier on statistics", "stats_a.npz", "stats_a.npz", "--classifier", "mnist"),
      Case("classifier: unknown dataset", "train_classifier", ["--dataset", "cifar"]),
      Case("classifier: data dir missing", "train_classifier",
           ["--dataset", "mnist", "--data-dir", "nope", "--out", "c.npz"],
           unchanged("c.npz")),
      Case("bench: unknown case", "bench", ["--cases", "nope"]),
  ]


def run_case(case: Case, scratch: pathlib.Path, python: str) -> dict:
  env = {k: v for k, v in os.environ.items() if not k.startswith("JAXGEN_DATA_DIR")}
  env["JAXGEN_CACHE_DIR"] = str(scratch / "cache")
  start = time.perf_counter()
  done = subprocess.run([python, "-m", f"jaxgen.experiments.{case.tool}", *case.argv],
                        cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
  lines = [line for line in done.stderr.splitlines() if line.strip()]
  answer = [line for line in lines if not (line.startswith("jaxgen: ") and " on " in line
                                           and "preset" in line)]
  problems = []
  if done.returncode != 2:
    problems.append(f"exit {done.returncode}")
  if "Traceback" in done.stderr:
    problems.append("traceback")
  if len(answer) != 1 or not answer[0].startswith("error: "):
    problems.append(f"{len(answer)} lines")
  if case.after and (why := case.after(scratch)):
    problems.append(why)
  return dict(tool=case.tool, case=case.name, argv=case.argv, exit=done.returncode,
              lines=len(lines), answer=(answer[-1] if answer else "")[:300],
              ok=not problems, problems=problems,
              seconds=round(time.perf_counter() - start, 1))


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", required=True, help="folder with the IDX .gz files")
  parser.add_argument("--inception-weights", required=True, help="default_1.pt")
  parser.add_argument("--out", default=None, help="JSON record of every case")
  parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
  args = parser.parse_args()
  data_dir = str(pathlib.Path(args.data_dir).resolve())
  weights = str(pathlib.Path(args.inception_weights).resolve())
  with tempfile.TemporaryDirectory() as folder:
    scratch = pathlib.Path(folder)
    make_scratch(scratch, sys.executable)
    with futures.ThreadPoolExecutor(args.jobs) as pool:
      results = list(pool.map(lambda case: run_case(case, scratch, sys.executable),
                              cases(data_dir, weights)))
  for row in results:
    mark = "ok  " if row["ok"] else "FAIL"
    print(f"{mark} {row['tool']:>16} {row['case']:<40} exit {row['exit']} "
          f"{', '.join(row['problems'])} | {row['answer'][:150]}")
  passed = sum(row["ok"] for row in results)
  print(f"{passed}/{len(results)} bad inputs answered with one line and exit 2")
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(
        dict(command=" ".join(sys.argv), passed=passed, cases=results), indent=1) + "\n")
  return 0 if passed == len(results) else 1


if __name__ == "__main__":
  sys.exit(main())
