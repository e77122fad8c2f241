"""Process-wide JAX/XLA settings, set once, before JAX starts its CPU backend.

`import jaxgen` runs this (XLA reads XLA_FLAGS when a backend starts, so it
must come before the first computation). A user's own XLA_FLAGS are kept, and a
flag they already set is never overridden. Set JAXGEN_NO_XLA_FLAGS=1 to add
nothing.
"""

import importlib.metadata
import os

# (flag, reason, jaxlib versions it was measured on). An XLA flag unknown to a
# jaxlib aborts the process, so each flag is tied to the versions checked, and
# re-measured on every JAX upgrade (docs/performance.md).
_XLA_CPU_FLAGS = (
    ("--xla_cpu_experimental_ynn_fusion_type=-individual_convolution,-reduce",
     "XLA:CPU's YNNPACK path runs each convolution unfused, and GroupNorm's strided "
     "reductions slower than XLA's own reduction code; leaving both out of YNN makes "
     "UNet train steps and forwards faster (measured in docs/performance.md)",
     ("0.10.",)),
)


def _jaxlib_version() -> str:
  try:
    return importlib.metadata.version("jaxlib")
  except importlib.metadata.PackageNotFoundError:
    return ""


def add_xla_flags() -> None:
  if os.environ.get("JAXGEN_NO_XLA_FLAGS") == "1":
    return
  flags = os.environ.get("XLA_FLAGS", "")
  version = _jaxlib_version()
  for flag, _, versions in _XLA_CPU_FLAGS:
    name = flag.split("=")[0]
    if name not in flags and version.startswith(versions):
      flags = f"{flags} {flag}".strip()
  if flags:
    os.environ["XLA_FLAGS"] = flags


add_xla_flags()
