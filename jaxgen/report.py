"""One way to print and store the numbers a user compares (FID, steps/s, images/s)."""

import json
import math
import os
import pathlib
import platform
import shlex
import sys
from typing import Any, Mapping

import jax

# Digits after the point for each kind of number; anything else gets 4
# significant digits.
_DECIMALS = {"fid": 2, "kid": 5, "kid_std": 5, "precision": 3, "recall": 3,
             "density": 3, "coverage": 3, "steps/s": 2, "images/s": 1,
             "samples/s": 1, "examples/s": 1,
             "seconds": 1, "ms": 1, "speedup": 2}


def format_value(name: str, value: Any) -> str:
  """`format_value("fid", 3.14159) == "3.14"`; ints print as ints.

  A name with no rule of its own is formatted by the rule its end names, after
  "/", "_" or a space: "fid/seconds", "train_seconds", "median_ms", "ddim50
  images/s", "train steps/s (median of log intervals)".
  """
  if isinstance(value, (int, str)) or value is None:
    return str(value)
  value = float(value)
  if not math.isfinite(value):
    return str(value)
  kind = _kind(name)
  if kind:
    return f"{value:.{_DECIMALS[kind]}f}"
  return f"{value:.4g}"


def _kind(name: str):
  """The key of _DECIMALS that `name` is, or ends with as a whole word; else None."""
  if name in _DECIMALS:
    return name
  words = name.split(" (")[0].replace("_", " ").replace("/", " ").split()
  for kind in sorted(_DECIMALS, key=len, reverse=True):
    size = len(kind.split("/"))
    if " ".join(words[-size:]) == kind.replace("/", " "):
      return kind
  return None


def format_metrics(metrics: Mapping[str, Any]) -> str:
  """`{"fid": 3.1, "images/s": 120.0}` -> `"fid 3.10 | images/s 120.0"`."""
  return " | ".join(f"{k} {format_value(k, v)}" for k, v in metrics.items())


def write_json(path: pathlib.Path, record: Mapping[str, Any]) -> None:
  """Writes `record` as indented JSON (the machine-readable twin of a table)."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def hardware() -> str:
  """What the numbers were measured on, e.g. "2-core Intel(R) Xeon(R) Processor
  CPU, 1 cpu device(s)" or "1x NVIDIA H100 80GB HBM3"."""
  devices = jax.devices()
  if devices[0].platform == "cpu":
    return f"{os.cpu_count()}-core {cpu_model()} CPU, {len(devices)} cpu device(s)"
  return f"{len(devices)}x {devices[0].device_kind}"


def cpu_model() -> str:
  """The CPU's model name from /proc/cpuinfo (timings hold only on their own
  CPU), else what `platform.processor()` says."""
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


def command_line() -> str:
  """The command that started this process, as a user would type it
  ("python -m jaxgen.experiments.run --model gan", "python experiments/x/study.py")."""
  script = pathlib.Path(sys.argv[0]).resolve()
  parts = script.with_suffix("").parts
  if "jaxgen" in parts:
    head = "python -m " + ".".join(parts[len(parts) - 1 - parts[::-1].index("jaxgen"):])
  else:
    try:
      script = script.relative_to(pathlib.Path.cwd())
    except ValueError:
      pass
    head = f"python {script}"
  return " ".join([head, *map(shlex.quote, sys.argv[1:])])
