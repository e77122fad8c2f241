"""Writes jaxgen/configs/MODEL_DATASET_PRESET.json: every config in full.

  python scripts/make_configs.py          # rewrite the folder
  python scripts/make_configs.py --check  # exit 1 if any file is out of date

One file per model and preset for one image dataset and one 2-D dataset (the
others of each kind differ only in `dataset`), exactly as `--print-config`
prints it; `python -m jaxgen.experiments.run --config ddim_mnist_full` starts
a run from one. The code in jaxgen/config.py and each family's config.py stays
the source; tests/test_configs.py fails when a file disagrees with it.
"""

import argparse
import sys
from typing import Dict

from jaxgen import config as config_lib
from jaxgen import families


def expected_files() -> Dict[str, str]:
  """File name -> the text it should hold."""
  return {
      f"{config_lib.shipped_name(model, dataset, preset)}.json":
          config_lib.to_json(config_lib.get_config(model, dataset, preset))
      for model in families.MODELS.names()
      for dataset in config_lib.SHIPPED_DATASETS
      for preset in config_lib.PRESETS}


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true",
                      help="exit 1 (and name the files) if the folder is out of date")
  args = parser.parse_args()
  folder = config_lib.SHIPPED_DIR
  expected = expected_files()
  stale = sorted({name for name, text in expected.items()
                  if not (folder / name).is_file() or (folder / name).read_text() != text}
                 | {path.name for path in folder.glob("*.json") if path.name not in expected})
  if args.check:
    if stale:
      print(f"out of date in {folder}: {', '.join(stale)}; run python scripts/make_configs.py",
            file=sys.stderr)
    return 1 if stale else 0
  folder.mkdir(exist_ok=True)
  for path in folder.glob("*.json"):
    if path.name not in expected:
      path.unlink()
  for name, text in expected.items():
    (folder / name).write_text(text)
  print(f"wrote {len(expected)} configs to {folder} ({len(stale)} changed)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
