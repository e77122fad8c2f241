"""Where jaxgen keeps what it downloads or computes once (datasets, FID statistics)."""

import os
import pathlib

CACHE_ENV = "JAXGEN_CACHE_DIR"


def cache_root() -> pathlib.Path:
  """$JAXGEN_CACHE_DIR, else ~/.cache/jaxgen."""
  root = os.environ.get(CACHE_ENV)
  return pathlib.Path(root) if root else pathlib.Path.home() / ".cache" / "jaxgen"
