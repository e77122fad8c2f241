"""Train a model: `python -m jaxgen.experiments.run --model ddim`.

Kept short on purpose: the logic lives in `jaxgen.training` so it can be used
from a notebook. Any config field can be overridden in ml_collections' syntax,
e.g. `--config.num_steps=500 --config.net.channels=64`; `--print-config` prints
the resolved config as JSON and `--config FILE` starts from such a file, a
Python config file or a shipped one (jaxgen/configs/).
"""

import argparse
import os
import pathlib
import sys
from typing import List, Optional, Sequence, Tuple

import jax

from jaxgen import config as config_lib
from jaxgen import families
from jaxgen.errors import UsageError
from jaxgen.experiments import compare
from jaxgen.experiments.cli import (ArgumentParser, add_process_flags, parse_with_overrides,
                                    run_main, start_processes)
from jaxgen.families.diffusion.samplers import SAMPLERS
from jaxgen.training import distributed
from jaxgen.training.loop import train_and_evaluate


def parse_args(argv: Optional[Sequence[str]]) -> Tuple[argparse.Namespace, List[str]]:
  parser = ArgumentParser(
      prog="python -m jaxgen.experiments.run", description=__doc__.splitlines()[0],
      epilog="Extra flags --config.FIELD=VALUE override any config field, e.g. "
             "--config.num_steps=500 or --config.diffusion.sampler=NAME (diffusion "
             f"samplers: {', '.join(SAMPLERS.names())}).")
  parser.add_argument("--model", default=None,
                      help=f"one of: {', '.join(families.MODELS.names())} (default: ddim); "
                           "or a comma list, or all: trains each and writes a comparison "
                           "table")
  parser.add_argument("--dataset", default=None,
                      help="mnist (default), fashion_mnist, gmm_ring8 or gmm_grid25; a "
                           "comma list makes one comparison table per dataset")
  parser.add_argument("--config", default=None, metavar="FILE",
                      help="start from a config instead of --model/--dataset/--preset: a "
                           "JSON file (written by --print-config, or a run's config.json), "
                           "a Python file's get_config() (FILE.py or FILE.py:ARG), or a "
                           "shipped config by name: MODEL_mnist_PRESET or "
                           "MODEL_gmm_ring8_PRESET (jaxgen/configs/)")
  parser.add_argument("--print-config", action="store_true",
                      help="print the resolved config (every field, as JSON) and exit")
  parser.add_argument("--preset", default=None, choices=config_lib.PRESETS,
                      help="cpu (minutes on a laptop) or full (an accelerator run); "
                           "default: cpu when JAX sees only a CPU, else full")
  parser.add_argument("--workdir", default=None,
                      help="where checkpoints, metrics and plots go "
                           "(default: runs/MODEL_DATASET; with several models: "
                           "WORKDIR/MODEL_DATASET, default runs/); rerun to resume")
  parser.add_argument("--data-dir", default=None,
                      help="folder with the original IDX .gz files (default: "
                           "$JAXGEN_DATA_DIR, else tensorflow-datasets)")
  parser.add_argument("--inception-weights", default=None, metavar="PATH",
                      help="FID Inception weights for --config.fid.num_samples>0 "
                           "(default: $JAXGEN_FID_WEIGHTS, else the cache)")
  parser.add_argument("--table-dir", default=None,
                      help="with several models or datasets: where the comparison "
                           "tables go (default: the workdir)")
  add_process_flags(parser)
  return parse_with_overrides(parser, argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args, overrides = parse_args(argv)
  start_processes(args)
  if args.config:
    given = [f"--{name}" for name in ("model", "dataset", "preset") if getattr(args, name)]
    if given:
      raise UsageError(f"{', '.join(given)}: --config FILE names the model, dataset and "
                       "preset; change them in the file or leave out --config")
    config = config_lib.from_file(args.config)
  else:
    preset = args.preset or ("cpu" if jax.default_backend() == "cpu" else "full")
    model, dataset = args.model or "ddim", args.dataset or "mnist"
    models = compare.parse_models(model)
    datasets = [name.strip() for name in dataset.split(",") if name.strip()]
    if len(models) > 1 or len(datasets) > 1 or model == "all":
      if args.print_config:
        raise UsageError("--print-config prints one config: pass one --model and one "
                         "--dataset")
      workdir = pathlib.Path(args.workdir or "runs")
      for dataset in datasets:
        compare.run_models(models, dataset, preset, overrides, workdir,
                           table_dir=pathlib.Path(args.table_dir or workdir),
                           data_dir=args.data_dir, inception_weights=args.inception_weights)
      return
    config = config_lib.get_config(model, dataset, preset)
  config_lib.apply_overrides(config, overrides)
  if args.print_config:
    print(config_lib.to_json(config), end="")
    return
  workdir = args.workdir or os.path.join("runs", f"{config.model}_{config.dataset}")
  if distributed.is_main_process():
    print(f"jaxgen: {config.model} on {config.dataset}, preset {config.preset}, "
          f"{jax.device_count()} {jax.default_backend()} device(s) in "
          f"{jax.process_count()} process(es), workdir {workdir}", file=sys.stderr)
  train_and_evaluate(config, workdir, data_dir=args.data_dir,
                     inception_weights=args.inception_weights)


if __name__ == "__main__":
  sys.exit(run_main(main))
