"""Process-wide JAX/XLA settings, set once before JAX starts its backends.

Import this module before `jax` (the entry points in `jaxgen.experiments` do).
A user's own XLA_FLAGS are kept: ours are only added when not already given.
"""

import os

# (flag, reason). Each is re-measured on JAX upgrades (see README, "Speed").
_XLA_CPU_FLAGS = ()


def _add_xla_flags() -> None:
  flags = os.environ.get("XLA_FLAGS", "")
  for flag, _ in _XLA_CPU_FLAGS:
    name = flag.split("=")[0]
    if name not in flags:
      flags = f"{flags} {flag}".strip()
  if flags:
    os.environ["XLA_FLAGS"] = flags


_add_xla_flags()
