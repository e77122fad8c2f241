"""Test-wide setup: 8 fake CPU devices and the shared offline data.

Every test process sees 8 CPU devices (XLA's host device count flag, set through
chex before JAX initialises), so the data-parallel paths are exercised; a test
that wants one device builds its mesh from `jax.devices()[:1]`.

Tests that need the real MNIST/Fashion-MNIST files or the FID Inception weights
read them from `../shared/data` (or `$JAXGEN_SHARED_DATA`) and fail where it is
absent, so no run passes by skipping them; a user without those files opts out
with `JAXGEN_SKIP_SHARED_DATA=1`, which turns the failures into skips.
"""

import atexit
import os
import pathlib
import shutil
import tempfile

import chex
import jax
import pytest

# Tests are dominated by XLA compiles, not by running: LLVM at -O1 compiles
# several times faster (random-number kernels of 4-D parameter shapes take
# seconds each at the default -O3) and runs a UNet step 7-25% slower. Test-only.
os.environ["XLA_FLAGS"] = (
    f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=1".strip())
chex.set_n_cpu_devices(8)

# Many tests compile the same programs (Inception at one batch size, the same
# small models): JAX's persistent compilation cache, fresh for each session and
# shared by its xdist workers and notebook kernels (they inherit the variables),
# compiles each once. The process that made the folder removes it at exit.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxgen-tests-xla-")
  atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
# JAX (imported by chex above) read its config before these were set.
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _shared_data_dir() -> pathlib.Path:
  return pathlib.Path(
      os.environ.get("JAXGEN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data_dir() -> pathlib.Path:
  """`../shared/data`, or a failure (a skip under JAXGEN_SKIP_SHARED_DATA=1)."""
  path = _shared_data_dir()
  if not (path / "mnist").is_dir():
    message = f"shared data not found at {path}"
    if os.environ.get("JAXGEN_SKIP_SHARED_DATA") == "1":
      pytest.skip(message + " (JAXGEN_SKIP_SHARED_DATA=1)")
    pytest.fail(message + "; point $JAXGEN_SHARED_DATA at a folder holding mnist/, "
                "fashion-mnist/ and fid_inception/, or set JAXGEN_SKIP_SHARED_DATA=1 to skip "
                "these tests")
  return path


def pytest_collection_modifyitems(items):
  """Longest first: the quality floors, then the other tests marked slow, then
  the rest. xdist hands out one test at a time (setup.cfg), so a long test
  never starts last while the other workers have run out of work."""
  def order(item):
    slow = item.get_closest_marker("slow") is not None
    return (not slow, not (slow and "quality" in item.path.parts))
  items.sort(key=order)
