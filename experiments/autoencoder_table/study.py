"""The classic autoencoder table on MNIST: AE latents 16/128/1024, VAE latent 128.

  python experiments/autoencoder_table/study.py --preset cpu --data-dir ../shared/data

Trains five configurations one after another through
`jaxgen.training.loop.train_and_evaluate` (an AE with latent sizes 16, 128 and
1024; a VAE with latent 128 at beta = 0.8, constant and with a linear warm-up),
reads each run's test-split metrics from its metrics.jsonl, and writes
`results_PRESET.md` and `results_PRESET.json` beside this file, plus the annealed
VAE's sample, reconstruction and interpolation grids. Run workdirs go under
--workdir (rerunning on the same root resumes finished runs instead of training).
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import sys
import time
from typing import List, Optional, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import config as config_lib  # noqa: E402  (sets XLA flags before JAX starts)
from jaxgen import report  # noqa: E402
from jaxgen.experiments.cli import ArgumentParser, run_main  # noqa: E402
from jaxgen.training.loop import train_and_evaluate  # noqa: E402
import jax  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
# (run name, model, latent size, beta schedule); beta = 0.8 for the VAEs.
RUNS = (
    ("ae_16", "ae", 16, "constant"),
    ("ae_128", "ae", 128, "constant"),
    ("ae_1024", "ae", 1024, "constant"),
    ("vae_128_beta0.8", "vae", 128, "constant"),
    ("vae_128_beta0.8_warmup", "vae", 128, "linear_warmup"),
)
FIGURES = (("samples/final.png", "vae_samples.png"),
           ("reconstructions.png", "vae_reconstructions.png"),
           ("latent_interpolation.png", "vae_interpolation.png"))
COLUMNS = ("run", "latent", "beta", "recon", "kl", "elbo", "fid", "seconds")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--preset", default="cpu", choices=config_lib.PRESETS)
  parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
  parser.add_argument("--workdir", default="/tmp/jaxgen_autoencoder_table",
                      help="root of the five run workdirs")
  parser.add_argument("--train-steps", type=int, default=None,
                      help="training steps per run (default: the preset's)")
  parser.add_argument("--loss", default="bce", choices=("bce", "l2", "l1"),
                      help="reconstruction loss, summed per image on [0, 1] pixels")
  return parser.parse_args(argv)


def run_config(args: argparse.Namespace, model: str, latent: int, schedule: str):
  config = config_lib.get_config(model, "mnist", args.preset)
  config.autoencoder.update(dict(latent_dim=latent, reconstruction_loss=args.loss,
                                 beta=0.8, beta_schedule=schedule))
  if args.train_steps:
    config.num_steps = args.train_steps
  config.autoencoder.warmup_steps = config.num_steps // 2
  return config


def test_metrics(workdir: pathlib.Path) -> dict:
  """The last test-split record of a run's metrics.jsonl."""
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  return [r for r in records if r.get("split") == "test"][-1]


def markdown_table(rows: List[dict]) -> str:
  lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
  for row in rows:
    lines.append("| " + " | ".join(
        "—" if row.get(c) is None else report.format_value(c, row[c]) for c in COLUMNS) + " |")
  return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  root = pathlib.Path(args.workdir)
  rows, record_runs = [], []
  started = time.perf_counter()
  for name, model, latent, schedule in RUNS:
    config = run_config(args, model, latent, schedule)
    clock = time.perf_counter()
    train_and_evaluate(config, root / name, data_dir=args.data_dir)
    metrics = test_metrics(root / name)
    row = {"run": name, "latent": latent, "beta": None if model == "ae" else 0.8,
           "recon": metrics["recon"], "kl": metrics.get("kl"), "elbo": metrics.get("elbo"),
           "fid": None, "seconds": time.perf_counter() - clock}
    rows.append(row)
    record_runs.append({**row, "model": model, "beta_schedule": schedule,
                        "warmup_steps": config.autoencoder.warmup_steps,
                        "config": json.loads(config.to_json())})
  total = time.perf_counter() - started
  steps, batch = config.num_steps, config.batch_size
  hardware = (f"{jax.device_count()} x {jax.devices()[0].device_kind} "
              f"({platform.machine()}, {os.cpu_count()} CPU cores)")
  header = (f"# Autoencoders on MNIST, preset `{args.preset}`\n\n"
            f"Command: `python experiments/autoencoder_table/study.py --preset {args.preset}"
            f"{f' --data-dir {args.data_dir}' if args.data_dir else ''}"
            f"{f' --train-steps {args.train_steps}' if args.train_steps else ''} --loss {args.loss}`\n\n"
            f"{steps} steps of batch {batch} per run (MLP 784-400-latent, Adam 1e-3); "
            f"test split (10,000 images); `recon` = {args.loss} summed per image on [0, 1] "
            f"pixels, `kl` in nats, `elbo` = -(recon + kl); the warm-up takes beta from 0 "
            f"to 0.8 over the first {steps // 2} steps. FID: not yet available. "
            f"Hardware: {hardware}; whole study {report.format_value('seconds', total)} s.\n\n")
  (HERE / f"results_{args.preset}.md").write_text(header + markdown_table(rows) + "\n")
  report.write_json(HERE / f"results_{args.preset}.json", {
      "preset": args.preset, "steps": steps, "batch_size": batch,
      "reconstruction_loss": args.loss, "hardware": hardware,
      "jax_version": jax.__version__, "total_seconds": total, "runs": record_runs})
  for source, target in FIGURES:
    shutil.copyfile(root / RUNS[-1][0] / source, HERE / target)
  print(markdown_table(rows))


if __name__ == "__main__":
  sys.exit(run_main(main))
