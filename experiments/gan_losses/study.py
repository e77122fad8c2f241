"""GAN losses on MNIST: vanilla, LSGAN and WGAN-GP, same generator, same steps.

  python experiments/gan_losses/study.py --preset cpu --data-dir ../shared/data \
      --inception-weights ../shared/data/fid_inception/default_1.pt

Trains the three models one after another with the preset's generator and the
same number of generator steps (`jaxgen.experiments.compare.run_models`), each
ending with FID against the MNIST train statistics (cached once), and writes
beside this file, under PRESET/: comparison_mnist.{md,json,png} (table and
samples) and interpolations.png (each model's latent interpolations).
"""

import argparse
import pathlib
import sys
from typing import Optional, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from jaxgen import plotting  # noqa: E402  (sets XLA flags before JAX starts)
from jaxgen.experiments import compare  # noqa: E402
from jaxgen.experiments.cli import run_main, study_parser  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
MODELS = ("gan", "lsgan", "wgan_gp")
# Generator steps per model, FID samples, and reference images (the first N of
# MNIST train; 0: all 60,000) for each preset. Inception runs at about 8 images/s
# on a 2-core CPU, so the cpu preset compares with 2,000 train images: its FIDs
# rank the three losses but are not comparable with 10k-vs-60k FIDs.
BUDGETS = {"cpu": dict(steps=3000, fid_samples=1000, reference_size=2000),
           "full": dict(steps=20_000, fid_samples=10_000, reference_size=0)}


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = study_parser(__doc__.splitlines()[0], default_workdir="runs/gan_losses")
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = parse_args(argv)
  budget = BUDGETS[args.preset]
  steps = args.train_steps or budget["steps"]
  overrides = [f"num_steps={steps}", f"checkpoint_every={steps}",
               f"sample_every={steps}", f"log_every={max(steps // 30, 1)}",
               f"fid.num_samples={args.fid_samples or budget['fid_samples']}",
               f"fid.reference_size={budget['reference_size']}"]
  workdir = pathlib.Path(args.workdir) / args.preset
  out = pathlib.Path(args.out) if args.out else HERE / args.preset
  compare.run_models(MODELS, "mnist", args.preset, overrides, workdir, table_dir=out,
                     data_dir=args.data_dir, inception_weights=args.inception_weights)
  plotting.save_png_panels(
      {model: workdir / f"{model}_mnist" / "latent_interpolation.png" for model in MODELS},
      out / "interpolations.png", columns=1)


if __name__ == "__main__":
  sys.exit(run_main(main))
