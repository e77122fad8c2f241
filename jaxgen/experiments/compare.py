"""Several models on one dataset, one after another, and one comparison table.

  python -m jaxgen.experiments.run --model all
  python -m jaxgen.experiments.run --model gan,wgan_gp,vae,ddpm,ddim \
      --dataset gmm_ring8,gmm_grid25 --workdir runs/families_2d --table-dir experiments/families_2d

Each model trains in WORKDIR/MODEL_DATASET (resumable as usual, from its own
summary.json once finished); then TABLE_DIR/comparison_DATASET.{md,json,png}
(TABLE_DIR defaults to WORKDIR) hold
the table (steps, parameters, train time, samples/s and every quality metric
the runs logged: FID/KID, the digit classifier's class metrics on images, or
modes covered, high-quality fraction and KL on 2-D mixtures) and one panel of
final samples per model. A last row scores the real test split with the same
sample metrics: the ceiling for the models' samples.
"""

import json
import pathlib
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from jaxgen import config as config_lib
from jaxgen import families
from jaxgen import plotting
from jaxgen import report
from jaxgen.errors import UsageError
from jaxgen.training import distributed
from jaxgen.training.evaluate import real_data_metrics
from jaxgen.training.loop import train_and_evaluate

# Columns in table order; quality metrics follow, in the order first seen.
_COLUMNS = ("model", "steps", "parameters", "train_seconds", "wall_seconds",
            "samples/s")
REAL_DATA_ROW = "real test split"


def parse_models(spec: str) -> List[str]:
  """"all" or a comma list -> model names, each checked against the registry."""
  if spec == "all":
    return families.MODELS.names()
  models = [name.strip() for name in spec.split(",") if name.strip()]
  for name in models:
    families.MODELS.get(name)  # unknown names raise, listing the valid ones
  if len(set(models)) != len(models):
    raise UsageError(f"--model {spec} names a model twice; list each once")
  return models


def run_models(models: Sequence[str], dataset: str, preset: str,
               overrides: Sequence[str], workdir: pathlib.Path, *,
               table_dir: Optional[pathlib.Path] = None,
               model_overrides: Optional[Mapping[str, Sequence[str]]] = None,
               data_dir: Optional[str] = None,
               inception_weights: Optional[str] = None) -> List[Dict[str, Any]]:
  """Trains each model (configs checked before the first starts); writes and
  returns the comparison rows.

  `overrides` ("field=value") apply to every model, then
  `model_overrides[model]` to that model only (e.g. its own num_steps).
  """
  configs = {}
  for model in models:
    config = config_lib.get_config(model, dataset, preset)
    try:
      config_lib.apply_overrides(
          config, [*overrides, *(model_overrides or {}).get(model, ())])
      config_lib.check(config)
    except UsageError as error:
      raise UsageError(f"{model}: {error}") from None
    configs[model] = config
  rows, panels = [], {}
  for i, (model, config) in enumerate(configs.items()):
    run_dir = workdir / f"{model}_{dataset}"
    _say(f"[{i + 1}/{len(configs)}] {model} on {dataset} -> {run_dir}")
    if finished(run_dir, config):
      _say(f"{run_dir} already finished; reusing its summary.json")
    else:
      train_and_evaluate(config, run_dir, data_dir=data_dir,
                         inception_weights=inception_weights)
    rows.append(json.loads((run_dir / "summary.json").read_text()))
    with np.load(run_dir / "samples" / "final.npz") as arrays:
      samples = arrays["samples"]
    panels[model] = samples[:64] if samples.ndim == 4 else samples  # every 2-D point
  if distributed.is_main_process():
    ceiling = real_data_metrics(next(iter(configs.values())), data_dir)
    write_comparison(rows, panels, dataset, table_dir or workdir, ceiling)
  return rows


def _say(message: str) -> None:
  """Progress on stderr, from the main process only."""
  if distributed.is_main_process():
    print(f"jaxgen: {message}", file=sys.stderr)


def finished(run_dir: pathlib.Path, config) -> bool:
  """Whether run_dir holds a finished run of exactly this config."""
  summary, saved = run_dir / "summary.json", run_dir / "config.json"
  return (summary.is_file() and saved.is_file()
          and json.loads(saved.read_text()) == json.loads(config.to_json())
          and json.loads(summary.read_text())["steps"] == config.num_steps)


def write_comparison(rows: Sequence[Dict[str, Any]], panels: Dict[str, np.ndarray],
                     dataset: str, out_dir: pathlib.Path,
                     ceiling: Optional[Mapping[str, float]] = None) -> None:
  """comparison_DATASET.md (table), .json (rows) and .png (sample panels);
  `ceiling`, the sample metrics of the real test split, is the table's last
  row and the JSON's `real_test_split`."""
  columns = list(_COLUMNS)
  for row in rows:
    columns += [k for k in row if k not in columns and k not in (
        "dataset", "preset", "steps_this_run") and isinstance(row[k], (int, float))]
  lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
  for row in [*rows, *([{"model": REAL_DATA_ROW, **ceiling}] if ceiling else [])]:
    lines.append("| " + " | ".join(
        report.format_value(c, row[c]) if c in row else "" for c in columns) + " |")
  out_dir.mkdir(parents=True, exist_ok=True)
  base = out_dir / f"comparison_{dataset}"
  preset = ", ".join(sorted({row["preset"] for row in rows}))
  command = report.command_line()
  fid_settings = sorted({f"FID of {row['fid/samples']} samples against "
                         f"{row['fid/reference']}" for row in rows if "fid/reference" in row})
  base.with_suffix(".md").write_text(
      f"# {dataset}, preset {preset}\n\nMeasured on {report.hardware()} with\n"
      f"`{command}`.{''.join(f' {s}.' for s in fid_settings)}\n\n"
      + "\n".join(lines) + "\n")
  report.write_json(base.with_suffix(".json"), {
      "dataset": dataset, "hardware": report.hardware(), "command": command,
      "rows": list(rows), **({"real_test_split": dict(ceiling)} if ceiling else {})})
  plotting.save_sample_panels(panels, base.with_suffix(".png"), dataset)
  print("\n".join(lines))
  print(f"comparison written to {base}.md, .json and .png", file=sys.stderr)
