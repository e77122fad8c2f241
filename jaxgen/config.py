"""Experiment configs: ml_collections ConfigDicts built from (model, dataset, preset).

`get_config("ddim", "mnist", "cpu")` starts from the shared training fields
below, then the model's family fills in its own section and network for the
preset (`cpu`: minutes on a 2-core laptop; `full`: an accelerator run) and for
the kind of data (images or 2-D points). Any field can then be overridden from
the command line in ml_collections' syntax: `--config.optim.learning_rate=1e-3`.
"""

import ast
import importlib.util
import json
import pathlib
from typing import Any, Dict, Iterable, List

import ml_collections

from jaxgen import checks
from jaxgen import data
from jaxgen.errors import UsageError, first_line
from jaxgen.families import MODELS
from jaxgen.families.family import COMPUTE_DTYPES
from jaxgen.training import optim

PRESETS = ("cpu", "full")
# Every (model, preset) written out in full, for one image and one 2-D dataset
# (the others of each kind differ only in `dataset`): scripts/make_configs.py.
SHIPPED_DIR = pathlib.Path(__file__).parent / "configs"
SHIPPED_DATASETS = ("mnist", "gmm_ring8")
# Fields that may change when a run resumes (they do not change the model).
RESUMABLE_FIELDS = ("num_steps", "steps_per_dispatch", "log_every", "checkpoint_every",
                    "sample_every",
                    "num_samples", "keep_checkpoints", "fid", "classifier_weights")


def base_config() -> ml_collections.ConfigDict:
  """Fields every family shares."""
  config = ml_collections.ConfigDict()
  config.model = "ddim"
  config.dataset = "mnist"
  config.preset = "cpu"
  config.seed = 0
  config.batch_size = 128
  config.num_steps = 10_000
  config.steps_per_dispatch = 1    # train steps per compiled call (lax.scan); more
                                   # cuts per-step dispatch cost on accelerators
  config.log_every = 50
  config.checkpoint_every = 1000
  config.sample_every = 1000
  config.num_samples = 64          # images per sample grid (points: per scatter)
  config.keep_checkpoints = 2
  config.ema_decay = 0.999         # 0 turns EMA off
  config.ema_warmup = True         # TF's: decay min(ema_decay, (1+step)/(10+step)); False:
                                   # ema_decay from the first step
  config.conditional = False       # class-conditional model (labels in, guidance out)
  config.compute_dtype = "float32"  # or bfloat16: mixed precision (params stay float32)
  config.optim = ml_collections.ConfigDict(dict(
      learning_rate=2e-4, warmup_steps=500,
      decay="constant",            # after warm-up: constant | linear | cosine (to 0 at num_steps)
      b1=0.9, b2=0.999, weight_decay=0.0, grad_clip=1.0))
  # FID of `num_samples` samples against the reference split's statistics
  # (image datasets), every `every` steps (0: at the end only) and at the end.
  config.fid = ml_collections.ConfigDict(dict(
      num_samples=0,          # 0 turns FID off
      every=0,
      batch_size=64,          # samples per sampler call and per Inception call
      reference_split="train",
      reference_size=0,       # first N reference images; 0: the whole split
      reference_stats="",     # a statistics .npz to compare with instead of the split
      kid=False))
  # Digit classifier behind the class metrics of image samples: "" the
  # shipped weights for the dataset, a path to other weights, or "off".
  config.classifier_weights = ""
  return config


def get_config(model: str, dataset: str, preset: str) -> ml_collections.ConfigDict:
  """The resolved config for a model on a dataset at a preset."""
  entry = MODELS.get(model)
  if dataset not in data.names():
    raise UsageError(f"unknown dataset {dataset!r}; choose one of: "
                     f"{', '.join(data.names())}")
  if preset not in PRESETS:
    raise UsageError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
  config = base_config()
  config.model, config.dataset, config.preset = model, dataset, preset
  entry.configure(config, preset, data.is_image_dataset(dataset))
  if preset == "full" and data.is_image_dataset(dataset):
    config.fid.update(num_samples=10_000, every=max(config.num_steps // 10, 1),
                      batch_size=500, kid=True)
  return config


def apply_overrides(config: ml_collections.ConfigDict,
                    overrides: Iterable[str]) -> ml_collections.ConfigDict:
  """Applies `path.to.field=value` strings (values parsed as Python literals,
  true/false in any case as booleans, else kept as strings), keeping each
  field's type."""
  for override in overrides:
    path, sep, text = override.partition("=")
    if not sep:
      raise UsageError(f"config override {override!r} needs a value: "
                       f"--config.{path}=VALUE")
    *parents, field = path.split(".")
    node = config
    for i, name in enumerate(parents + [field]):
      if not isinstance(node, ml_collections.ConfigDict) or name not in node:
        where = ".".join(parents[:i]) or "the config"
        choices = ", ".join(sorted(node.keys())) if isinstance(
            node, ml_collections.ConfigDict) else "(none)"
        raise UsageError(f"unknown config field {path!r}; fields of {where}: {choices}")
      if name != field:
        node = node[name]
    try:
      node[field] = _parse_value(text)
    except (TypeError, ValueError):
      default = node[field]
      raise UsageError(f"bad value for config field {path!r}: {text!r} is no "
                       f"{type(default).__name__} (default {default!r}); "
                       f"--config.{path}=VALUE") from None
  return config


def check(config: ml_collections.ConfigDict) -> None:
  """Raises UsageError, naming the field and the fix, for a value no run can use:
  a size or interval below 1, a negative count, a learning rate that is not
  positive, a decay, beta or dropout rate outside [0, 1), a network size (any
  whole number in config.net) below 1; then the model's own checks."""
  for field in ("batch_size", "num_steps", "log_every", "checkpoint_every", "sample_every",
                "num_samples", "keep_checkpoints", "steps_per_dispatch", "fid.batch_size"):
    checks.require(config, field, checks.at_least(1), "at least 1")
  for field in ("fid.num_samples", "fid.every", "fid.reference_size"):
    checks.require(config, field, checks.at_least(0), "at least 0")
  _check_steps_per_dispatch(config)
  checks.require(config, "ema_decay", checks.in_unit_interval, "in [0, 1) (0 turns EMA off)")
  checks.choice(config, "compute_dtype", COMPUTE_DTYPES)
  for section in sorted(k for k in config.keys() if k.startswith("optim")):
    checks.require(config, f"{section}.learning_rate", lambda v: v > 0, "positive")
    for name in ("warmup_steps", "weight_decay", "grad_clip"):
      checks.require(config, f"{section}.{name}", checks.at_least(0), "at least 0")
    for name in ("b1", "b2"):
      checks.require(config, f"{section}.{name}", checks.in_unit_interval, "in [0, 1)")
    checks.choice(config, f"{section}.decay", optim.DECAYS)
  for name, value in config.net.items():
    sizes = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, int) and not isinstance(v, bool) and v < 1 for v in sizes):
      checks.fail(f"net.{name}", "whole numbers of at least 1" if sizes is value
                  else "at least 1", value)
  if "dropout" in config.net:
    checks.require(config, "net.dropout", checks.in_unit_interval, "in [0, 1)")
  MODELS.get(config.model).check(config)


def _check_steps_per_dispatch(config: ml_collections.ConfigDict) -> None:
  """num_steps and every interval must be multiples of steps_per_dispatch (one
  compiled call runs that many steps, so nothing can happen between them)."""
  k = config.steps_per_dispatch
  intervals = {"num_steps": config.num_steps, "log_every": config.log_every,
               "checkpoint_every": config.checkpoint_every,
               "sample_every": config.sample_every, "fid.every": config.fid.every}
  bad = [f"{name}={value}" for name, value in intervals.items() if value % k]
  if bad:
    raise UsageError(f"steps_per_dispatch={k} needs {', '.join(bad)} to be a "
                     f"multiple of {k}; change them or steps_per_dispatch")


def to_json(config: ml_collections.ConfigDict) -> str:
  """Every field of `config`, as `--print-config` prints it and a run records
  it (config.json); `from_file` reads it back."""
  return json.dumps(json.loads(config.to_json()), indent=2, sort_keys=True) + "\n"


def shipped_name(model: str, dataset: str, preset: str) -> str:
  """The name of a shipped config file, e.g. "ddim_mnist_full"."""
  return f"{model}_{dataset}_{preset}"


def shipped_configs() -> List[str]:
  """Names of the config files in jaxgen/configs/, sorted."""
  return sorted(path.stem for path in SHIPPED_DIR.glob("*.json"))


def from_file(spec: str) -> ml_collections.ConfigDict:
  """The config that `spec` names: a JSON file (written by `--print-config`, or
  a run's config.json), a Python file whose `get_config()` returns a ConfigDict
  (`FILE.py:ARG` calls `get_config("ARG")`, the Flax examples' convention), or
  a shipped config's name (e.g. `ddim_mnist_full`, from jaxgen/configs/). The
  result is the defaults of the model, dataset and preset it names with each
  field it sets; an unknown field or a bad value is a UsageError naming it."""
  record = _read_record(spec)
  if not (isinstance(record, dict) and
          all(isinstance(record.get(k), str) for k in ("model", "dataset", "preset"))):
    raise UsageError(f"config {spec} does not name a model, dataset and preset; "
                     f"{_FILE_FIX}")
  try:
    config = get_config(record["model"], record["dataset"], record["preset"])
    return apply_overrides(config, _as_overrides(record))
  except UsageError as error:
    raise UsageError(f"config {spec}: {error}") from None


_FILE_FIX = ("pass a file written by --print-config, a run's config.json, a Python "
             "file with get_config(), or a shipped config such as ddim_mnist_full")


def _read_record(spec: str) -> Dict[str, Any]:
  """The fields (a nested dict) of the JSON file, Python file or shipped config `spec`."""
  path, arg = pathlib.Path(spec), None
  if ".py:" in spec:
    head, _, arg = spec.rpartition(".py:")
    path = pathlib.Path(head + ".py")
  if not path.is_file():
    shipped = SHIPPED_DIR / f"{spec.removesuffix('.json')}.json"
    if arg is not None or not shipped.is_file():
      raise UsageError(f"config file {path} not found; pass a path, or one of the "
                       f"shipped configs: {', '.join(shipped_configs())}")
    path = shipped
  if path.suffix == ".py":
    return _python_record(path, arg)
  try:
    return json.loads(path.read_text())
  except (OSError, ValueError) as error:
    raise UsageError(f"cannot read config file {path} ({error}); {_FILE_FIX}") from None


def _python_record(path: pathlib.Path, arg: Any) -> Dict[str, Any]:
  """The fields of the ConfigDict that `path`'s get_config() (or get_config(arg)) returns."""
  try:
    module_spec = importlib.util.spec_from_file_location(f"jaxgen_config_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    config = module.get_config() if arg is None else module.get_config(arg)
  except Exception as error:  # the user's code: report it in one line, whatever it raised
    raise UsageError(f"config file {path} failed: {type(error).__name__}: "
                     f"{first_line(error)}; it must define get_config() returning an "
                     "ml_collections.ConfigDict") from None
  if not isinstance(config, ml_collections.ConfigDict):
    raise UsageError(f"get_config() in {path} returned {type(config).__name__}, "
                     "not an ml_collections.ConfigDict")
  return json.loads(config.to_json())


def _as_overrides(record: dict) -> List[str]:
  """{"net": {"channels": 16}} -> ["net.channels=16"]; JSON lists become tuples."""
  return [f"{name}={value!r}" for name, value in flat_fields(record).items()]


def flat_fields(record: dict, prefix: str = "") -> Dict[str, Any]:
  """{"net": {"channels": 16}} -> {"net.channels": 16}; JSON lists become tuples."""
  fields = {}
  for key, value in record.items():
    if isinstance(value, dict) and value:
      fields.update(flat_fields(value, f"{prefix}{key}."))
    else:
      fields[f"{prefix}{key}"] = tuple(value) if isinstance(value, list) else value
  return fields


def override_flag(name: str, value: Any) -> str:
  """The command-line flag that sets field `name` to `value`, without spaces:
  ("net.channel_mults", (1, 2)) -> "--config.net.channel_mults=(1,2)"."""
  if isinstance(value, tuple):
    value = "(" + ",".join(map(repr, value)) + ("," if len(value) == 1 else "") + ")"
  return f"--config.{name}={value}"


def _parse_value(text: str) -> Any:
  # JSON's and the shell's spelling of a boolean, beside Python's True/False.
  if text.lower() in ("true", "false"):
    return text.lower() == "true"
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text
