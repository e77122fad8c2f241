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


def write_text_atomically(path: pathlib.Path, text: str) -> None:
  """Writes `text` to `path` through a temporary file renamed into place: a
  process killed mid-write leaves the old file or none, never a truncated one."""
  path = pathlib.Path(path)
  partial = path.with_name(path.name + ".partial")
  partial.write_text(text)
  os.replace(partial, path)


def write_json(path: pathlib.Path, record: Mapping[str, Any]) -> None:
  """Writes `record` as indented JSON (the machine-readable twin of a table)."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def hardware() -> str:
  """What the numbers were measured on, e.g. "2-core AMD EPYC (AVX-512) CPU,
  1 cpu device(s)" or "1x NVIDIA H100 80GB HBM3"."""
  devices = jax.devices()
  if devices[0].platform == "cpu":
    return f"{os.cpu_count()}-core {cpu_model()} CPU, {len(devices)} cpu device(s)"
  return f"{len(devices)}x {devices[0].device_kind}"


# /proc/cpuinfo flag -> its name, widest first.
_VECTOR_ISAS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"))


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
  """The CPU's model name and widest vector instructions from /proc/cpuinfo,
  e.g. "AMD EPYC (AVX-512)" (timings hold only on their own CPU, and float
  rounding differs between vector widths), else what `platform.processor()`
  says."""
  try:
    lines = pathlib.Path(cpuinfo).read_text().splitlines()
  except OSError:
    lines = []
  fields = dict(line.split(":", 1) for line in lines if ":" in line)
  fields = {k.strip(): v.strip() for k, v in fields.items()}
  if "model name" not in fields:
    return platform.processor() or "unknown"
  flags = set(fields.get("flags", "").split())
  isa = next((name for flag, name in _VECTOR_ISAS if flag in flags), None)
  return f"{fields['model name']} ({isa})" if isa else fields["model name"]


def command_line() -> str:
  """The command that started this process, as a user would type it
  ("python -m jaxgen.experiments.run --model gan", "python experiments/x/study.py"),
  after JAXGEN_NO_XLA_FLAGS=1 where that is set: it changes XLA's kernels, so
  the numbers."""
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
  env = ["JAXGEN_NO_XLA_FLAGS=1"] if os.environ.get("JAXGEN_NO_XLA_FLAGS") == "1" else []
  return " ".join([*env, head, *map(shlex.quote, sys.argv[1:])])
