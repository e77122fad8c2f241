"""The one place training output goes: metrics.jsonl and the progress line."""

import json
import math
import pathlib
import sys
from typing import Any, Dict, Mapping, Optional

from jaxgen import report


class Logbook:
  """Appends records to `metrics.jsonl` and shows progress on stderr.

  On a terminal the progress is one redrawn line (bar, loss, steps/s, ETA);
  otherwise (CI, log files) a plain line per record. An inactive logbook (the
  processes other than the writer of a multi-process run) does nothing.
  """

  def __init__(self, workdir: pathlib.Path, total_steps: int, active: bool = True):
    self.path = pathlib.Path(workdir) / "metrics.jsonl"
    self.total_steps = total_steps
    self.active = active
    self._interactive = sys.stderr.isatty()
    self._mid_line = False  # a redrawn progress line is on screen

  def write(self, record: Mapping[str, Any]) -> None:
    """One JSON object per line; numbers as plain floats/ints, a non-finite
    one as null (strict JSON has no NaN or Infinity)."""
    if not self.active:
      return
    with self.path.open("a") as f:
      f.write(json.dumps({k: _plain(v) for k, v in record.items()}, allow_nan=False) + "\n")

  def resume(self, step: int) -> None:
    """Drops the records of steps after `step`, the checkpoint a run resumes
    from: a run killed after logging them logs them again, and each step
    appears once."""
    if not (self.active and self.path.exists()):
      return
    lines = self.path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
    if len(kept) < len(lines):
      report.write_text_atomically(self.path, "".join(kept))

  def progress(self, step: int, metrics: Mapping[str, Any],
               steps_per_second: Optional[float]) -> None:
    """steps_per_second: None while no step has been timed (no rate, no ETA)."""
    if not self.active:
      return
    width = 24
    done = int(width * step / max(self.total_steps, 1))
    shown: Dict[str, Any] = {"loss": metrics.get("loss")}
    eta = "--"
    if steps_per_second:
      shown["steps/s"] = steps_per_second
      eta = _duration((self.total_steps - step) / steps_per_second)
    line = (f"[{'#' * done}{'.' * (width - done)}] {step}/{self.total_steps} | "
            f"{report.format_metrics(shown)} | ETA {eta}")
    if self._interactive:
      print("\r" + line, end="", file=sys.stderr, flush=True)
      self._mid_line = True
    else:
      print(line, file=sys.stderr, flush=True)

  def say(self, message: str) -> None:
    """A line of news (resumed, compiled, wrote samples) on its own line."""
    if not self.active:
      return
    if self._mid_line:
      print(file=sys.stderr)
      self._mid_line = False
    print(message, file=sys.stderr, flush=True)


def _plain(value: Any) -> Any:
  if hasattr(value, "item"):
    value = value.item()
  if isinstance(value, float) and not math.isfinite(value):
    return None
  return value


def _duration(seconds: float) -> str:
  seconds = int(seconds)
  if seconds >= 3600:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
  return f"{seconds // 60}m{seconds % 60:02d}s"
