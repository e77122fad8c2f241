"""Speed of fixed reference configurations: train steps/s, sampling and FID images/s.

  python -m jaxgen.experiments.bench --out experiments/bench/cpu
  python -m jaxgen.experiments.bench --cases diffusion_train,ddim50_sample \
      --torch eager,channels_last --out experiments/bench/cpu
  python -m jaxgen.experiments.bench --compare experiments/bench/cpu/bench.json
  python -m jaxgen.experiments.bench --dtypes float32,bfloat16

Each case is compiled once (compile seconds reported), run once more to warm
up, then timed `--repeats` times with the device synchronised; the table holds
medians. A timed unit is as many train steps as fill about 0.2 s, so fast
accelerator steps are not dominated by the timer. With `--torch VARIANTS` the
PyTorch twin in `scripts/torch_twin.py` (a source checkout and torch needed)
runs the cases it has, each repeat alternating with the JAX run, so the ratios
in the table are measured side by side. With `--compare OLD.json` (an earlier
bench.json) each row that OLD also has is set beside it: old and new time and
their ratio, so a regression shows in one command; a timing only holds beside
one from the same machine, so a different `hardware` is called out. With
`--dtypes float32,bfloat16` every case but the FID features (Inception is
float32 in every mode) also runs in mixed precision (config.compute_dtype), in
rows of its own beside the float32 ones; the twin runs float32 only.
"""

import argparse
import dataclasses
import importlib.util
import json
import math
import pathlib
import platform
import resource
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import jax
import numpy as np

from jaxgen import config as config_lib
from jaxgen import report
from jaxgen.errors import UsageError, first_line
from jaxgen.experiments.cli import ArgumentParser, run_main
from jaxgen.families import MODELS, DataSpec
from jaxgen.families.family import COMPUTE_DTYPES
from jaxgen.metrics import inception, inception_weights
from jaxgen.metrics.features import FeatureExtractor
from jaxgen.registry import Registry
from jaxgen.training import sharding
from jaxgen.training.loop import compile_train_step
from jaxgen.training.state import initial_state

# The reference diffusion UNet: 3.9M params, channels 32-64-128, attention at 7x7.
REFERENCE_UNET = dict(channels=32, channel_mults=(1, 2, 4), num_res_blocks=2,
                      attention_resolutions=(7,), dropout=0.1, num_groups=8)
MNIST = DataSpec(shape=(28, 28, 1), num_classes=10)
TWIN_PATH = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "torch_twin.py"


@dataclasses.dataclass
class Settings:
  batch_size: int          # diffusion_train's global batch (the twin's too)
  num_samples: int         # images per sampling call
  fid_batch_size: int
  inception_weights: Optional[str]
  compute_dtype: str = "float32"   # the networks' (config.compute_dtype)


@dataclasses.dataclass
class Case:
  """One compiled unit of work: `run()` returns arrays to wait for."""
  run: Callable[[], Any]
  examples: int            # examples (train) or images (sampling, FID) per run
  steps: int               # train steps per run; 0 for sampling and FID
  compile_seconds: float
  flops: Optional[float] = None  # floating-point operations per run (XLA's count)


CASES: Registry[Callable[[Settings], Case]] = Registry("bench case")
# Cases whose work does not depend on compute_dtype.
FLOAT32_ONLY = ("fid_features",)


def _flops(compiled) -> Optional[float]:
  """XLA's count of floating-point operations in one call of `compiled` (or of
  a lowered program), if any.

  A loop body is counted once, so callers multiply by the trip count."""
  analysis = compiled.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return (analysis or {}).get("flops") or None


def _config(model: str, dtype: str, batch_size: Optional[int] = None, **net):
  """`model`'s full-preset MNIST config computing in `dtype`, with its own
  batch unless given."""
  config = config_lib.get_config(model, "mnist", "full")
  config.compute_dtype = dtype
  config.net.update(net)
  config.batch_size = batch_size or config.batch_size
  return config


def _train_case(model: str, dtype: str, batch_size: Optional[int] = None, **net) -> Case:
  """Train steps of `model`'s full-preset config on device-resident MNIST-shaped data."""
  config = _config(model, dtype, batch_size, **net)
  family = MODELS.get(model).family(config, MNIST)
  mesh = sharding.make_mesh()
  sharding.check_batch_size(config.batch_size, mesh)
  replicated = sharding.replicated(mesh)
  rng = np.random.default_rng(0)
  x_all = jax.device_put(rng.integers(0, 256, (4096, 28, 28, 1), np.uint8), replicated)
  labels = jax.device_put(rng.integers(0, 10, 4096).astype(np.int32), replicated)
  state = jax.device_put(initial_state(family, 0), replicated)
  start = time.perf_counter()
  step = compile_train_step(family, config, mesh).lower(state, x_all, labels).compile()
  compile_seconds = time.perf_counter() - start
  holder = {"state": state}

  def one_step():
    holder["state"], _ = step(holder["state"], x_all, labels)
    return holder["state"]

  jax.block_until_ready(one_step())
  start = time.perf_counter()
  jax.block_until_ready(one_step())
  steps = max(1, math.ceil(0.2 / (time.perf_counter() - start)))

  def run():
    for _ in range(steps):
      one_step()
    return holder["state"]
  flops = _flops(step)
  return Case(run, config.batch_size * steps, steps, compile_seconds,
              flops and flops * steps)


def _sample_case(sampler: str, settings: Settings) -> Case:
  """`sampler` drawing settings.num_samples images from the reference UNet
  (random params), batch-parallel over every device."""
  config = _config(sampler, settings.compute_dtype, **REFERENCE_UNET)
  family = MODELS.get(sampler).family(config, MNIST)
  mesh = sharding.make_mesh()
  params = jax.device_put(initial_state(family, 0).params, sharding.replicated(mesh))
  rng = jax.random.PRNGKey(1)
  draw = sharding.batch_parallel(
      lambda p, key: family.sample(p, key, settings.num_samples), mesh)
  start = time.perf_counter()
  compiled = draw.lower(params, rng).compile()
  compile_seconds = time.perf_counter() - start
  # The sampler's scan body is one network call; count one and multiply.
  x = np.zeros((settings.num_samples,) + MNIST.shape, np.float32)
  forward = jax.jit(lambda p, x, t: family.network.apply({"params": p}, x, t, train=False))
  flops = _flops(forward.lower(params, x, np.zeros(len(x), np.float32)).compile())
  return Case(lambda: compiled(params, rng), settings.num_samples, 0, compile_seconds,
              flops and flops * config.diffusion.sample_steps)


CASES.register("diffusion_train")(
    lambda s: _train_case("ddim", s.compute_dtype, s.batch_size, **REFERENCE_UNET))
# The DCGAN pair, 5 critic steps; the conv VAE.
CASES.register("wgan_gp_train")(lambda s: _train_case("wgan_gp", s.compute_dtype))
CASES.register("vae_train")(lambda s: _train_case("vae", s.compute_dtype))
CASES.register("ddpm1000_sample")(lambda s: _sample_case("ddpm", s))
CASES.register("ddim50_sample")(lambda s: _sample_case("ddim", s))


@CASES.register("matmul")
def _matmul_case(settings: Settings) -> Case:
  """A 2048^3 matmul in the compute dtype: the device's practical arithmetic ceiling."""
  a = jax.device_put(np.ones((2048, 2048), np.float32).astype(settings.compute_dtype))
  start = time.perf_counter()
  compiled = jax.jit(lambda a: a @ a).lower(a).compile()
  return Case(lambda: compiled(a), 0, 0, time.perf_counter() - start, 2 * 2048**3)


@CASES.register("fid_features")
def _fid_case(settings: Settings) -> Case:
  """Pool3 features of uint8 28x28 images (resized to 299x299 inside)."""
  if settings.inception_weights:
    path = inception_weights.resolve_weights_path(settings.inception_weights)
    params = inception_weights.load_inception_params(str(path))
  else:  # the speed does not depend on the weights' values
    params = jax.jit(inception.InceptionV3().init)(
        jax.random.PRNGKey(0), np.zeros((1, 299, 299, 3), np.float32))["params"]
  extractor = FeatureExtractor(params, batch_size=settings.fid_batch_size)
  images = np.random.default_rng(0).integers(
      0, 256, (extractor.batch_size, 28, 28, 1), np.uint8)
  start = time.perf_counter()
  extractor(images)
  compile_seconds = time.perf_counter() - start
  flops = _flops(extractor.lowered_for(images))  # no second compile
  return Case(lambda: extractor(images), extractor.batch_size, 0, compile_seconds, flops)


def load_twin(variants: Sequence[str], settings: Settings
              ) -> Tuple[str, Dict[str, Dict[str, Callable]]]:
  """(torch version and threads, variant -> {case: callable}) from
  scripts/torch_twin.py, which alone imports torch."""
  if not TWIN_PATH.is_file():
    raise UsageError(f"--torch needs {TWIN_PATH.relative_to(TWIN_PATH.parents[1])} "
                     "from a source checkout of jaxgen; run from the repository")
  if importlib.util.find_spec("torch") is None:
    raise UsageError("--torch needs PyTorch; pip install torch, or drop --torch")
  spec = importlib.util.spec_from_file_location("torch_twin", TWIN_PATH)
  twin = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(twin)
  version = f"{twin.torch.__version__}, {twin.torch.get_num_threads()} threads"
  return version, {variant: twin.make_cases(variant, batch_size=settings.batch_size,
                                            num_samples=settings.num_samples)
                   for variant in variants}


def _timed(run: Callable[[], Any]) -> float:
  start = time.perf_counter()
  jax.block_until_ready(run())
  return time.perf_counter() - start


def _peak_memory_mb() -> Dict[str, Any]:
  """The device's peak bytes in use where it reports them, else the process's
  peak resident memory (both cumulative over this process)."""
  stats = jax.devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return {"peak_memory_mb": stats["peak_bytes_in_use"] / 2**20,
            "memory": "device peak"}
  return {"peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "memory": "process peak RSS"}


def bench_case(name: str, settings: Settings, repeats: int,
               twins: Dict[str, Dict[str, Callable]]) -> List[Dict[str, Any]]:
  """Rows for one case: JAX first, then each torch variant that has the case."""
  case = CASES.get(name)(settings)
  jax.block_until_ready(case.run())  # warm-up
  runs = {"jax": case.run}
  first_call = {}
  for variant, cases in twins.items():
    if name in cases:
      first_call[variant] = _timed(cases[name])  # torch.compile compiles here
      runs[variant] = cases[name]
  seconds = {label: [] for label in runs}
  for _ in range(repeats):  # alternate, so drifts in machine speed hit all alike
    for label, run in runs.items():
      seconds[label].append(_timed(run))
  # A JAX unit is case.steps train steps; a twin's call is one step (or one
  # sampling call), so rows compare time per step.
  jax_per_unit = statistics.median(seconds["jax"]) / max(case.steps, 1)
  rows = []
  for label, times in seconds.items():
    median = statistics.median(times)
    per_unit = median / max(case.steps, 1) if label == "jax" else median
    row = {"case": name, "framework": "jax" if label == "jax" else "torch",
           "variant": "jit" if label == "jax" else label,
           "dtype": settings.compute_dtype, "repeats": repeats,
           "median_ms": 1000 * per_unit, "spread": (max(times) - min(times)) / median}
    if case.steps:
      row["batch"] = case.examples // case.steps
      row["steps/s"] = 1 / per_unit
      row["examples/s"] = row["batch"] / per_unit
    elif case.examples:
      row["batch"] = case.examples
      row["images/s"] = case.examples / per_unit
    if case.flops:  # the twin computes the same network, so the same count
      row["gflop"] = case.flops / max(case.steps, 1) / 1e9
      row["GFLOP/s"] = row["gflop"] / per_unit
    if label == "jax":
      row["compile_seconds"] = case.compile_seconds
      row.update(_peak_memory_mb())
    else:
      row["first_call_seconds"] = first_call[label]
      row["jax_speedup"] = per_unit / jax_per_unit
    rows.append(row)
  return rows


_COLUMNS = ("case", "framework", "variant", "dtype", "batch", "median_ms", "steps/s",
            "examples/s", "images/s", "gflop", "GFLOP/s", "matmul_fraction",
            "compile_seconds",
            "first_call_seconds",
            "peak_memory_mb", "jax_speedup")


def write_tables(rows: List[Dict[str, Any]], header: Dict[str, Any],
                 out: pathlib.Path, comparison: str = "") -> str:
  """bench.md and bench.json in `out`; returns the Markdown table. `comparison`
  (comparison_table's Markdown) closes bench.md."""
  lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
  for row in rows:
    lines.append("| " + " | ".join(
        report.format_value(c, row[c]) if c in row else "" for c in _COLUMNS) + " |")
  table = "\n".join(lines)
  out.mkdir(parents=True, exist_ok=True)
  notes = "\n".join(f"- {k}: {v}" for k, v in header.items() if k != "compared_with")
  (out / "bench.md").write_text(
      f"# Benchmark\n\n{notes}\n\n"
      "Medians over the repeats; `median_ms` is per train step (train cases) or per "
      "sampling/feature call; `gflop` is XLA's count of floating-point operations in "
      "that unit (the twins compute the same); `matmul_fraction` is a row's GFLOP/s over "
      "the `matmul` case's of the same dtype in this run (the arithmetic ceiling); "
      "`spread` (JSON) is (max - min) / median; "
      "`jax_speedup` = torch time / JAX time in the same run; peak memory is cumulative "
      "over the process.\n\n" + table + "\n"
      + (f"\n## Against an earlier run\n\n{comparison}\n" if comparison else ""))
  report.write_json(out / "bench.json", {**header, "rows": rows})
  return table


def add_matmul_fractions(rows: List[Dict[str, Any]]) -> None:
  """Sets "matmul_fraction" = GFLOP/s / the JAX matmul row's GFLOP/s of the same
  dtype, on every other row with a GFLOP/s, where this run has that matmul row."""
  ceilings = {row["dtype"]: row["GFLOP/s"] for row in rows
              if row["case"] == "matmul" and row["framework"] == "jax"}
  for row in rows:
    if row["case"] != "matmul" and "GFLOP/s" in row and row["dtype"] in ceilings:
      row["matmul_fraction"] = row["GFLOP/s"] / ceilings[row["dtype"]]


def read_bench(path: str) -> Dict[str, Any]:
  """An earlier bench.json; anything else is a UsageError naming the file."""
  fix = "pass a bench.json written by python -m jaxgen.experiments.bench"
  try:
    record = json.loads(pathlib.Path(path).read_text())
  except (OSError, ValueError) as error:
    raise UsageError(f"cannot read {path} ({first_line(error)}); {fix}") from None
  rows = record.get("rows") if isinstance(record, dict) else None
  if not (isinstance(rows, list) and all(
      isinstance(r, dict) and {"case", "framework", "variant", "median_ms"} <= r.keys()
      for r in rows)):
    raise UsageError(f"{path} holds no bench rows; {fix}")
  return record


def _row_key(row: Dict[str, Any]) -> Tuple[Any, ...]:
  return (row["case"], row["framework"], row["variant"], row.get("dtype", "float32"),
          row.get("batch"))


def compare_rows(old: Dict[str, Any], rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
  """Each row that `old` (a bench.json record) also has, with the same batch:
  old and new median_ms and "speedup" = old / new (above 1: faster now)."""
  before = {_row_key(row): row["median_ms"] for row in old["rows"]}
  return [{**{k: row[k] for k in ("case", "framework", "variant", "dtype")},
           "old_ms": before[_row_key(row)], "new_ms": row["median_ms"],
           "speedup": before[_row_key(row)] / row["median_ms"]}
          for row in rows if _row_key(row) in before]


def comparison_table(old_path: str, old: Dict[str, Any], compared: Sequence[Dict[str, Any]],
                     hardware: str) -> str:
  """Markdown: where the old numbers come from, then one row per compared case."""
  machine = ("the same hardware" if old.get("hardware") == hardware else
             f"other hardware ({old.get('hardware', 'not recorded')}), so the ratios "
             "mix machine and code")
  lines = [f"Against {old_path}, measured on {machine}; speedup = old / new time.", "",
           "| case | framework | variant | dtype | old_ms | new_ms | speedup |",
           "|---|---|---|---|---|---|---|"]
  lines += ["| " + " | ".join(report.format_value(k, row[k]) for k in (
      "case", "framework", "variant", "dtype", "old_ms", "new_ms", "speedup")) + " |"
            for row in compared]
  return "\n".join(lines)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
  parser = ArgumentParser(prog="python -m jaxgen.experiments.bench",
                                   description=__doc__.splitlines()[0])
  parser.add_argument("--cases", default=None,
                      help=f"comma list of: {', '.join(CASES.names())} (default: "
                           "all; on a CPU all but ddpm1000_sample, which takes "
                           "minutes per call there)")
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--batch-size", type=int, default=128,
                      help="global batch of diffusion_train (the other train "
                           "cases use their full-preset batch)")
  parser.add_argument("--num-samples", type=int, default=64,
                      help="images per sampling call")
  parser.add_argument("--fid-batch-size", type=int, default=64)
  parser.add_argument("--inception-weights", default=None, metavar="PATH",
                      help="real FID weights for fid_features (default: random "
                           "ones, same speed)")
  parser.add_argument("--torch", default="", metavar="VARIANTS",
                      help="also time the PyTorch twin: comma list of eager, "
                           "channels_last, compile")
  parser.add_argument("--dtypes", default="float32", metavar="DTYPES",
                      help="comma list of compute dtypes to run each case in: "
                           f"{', '.join(COMPUTE_DTYPES)} (default: float32)")
  parser.add_argument("--out", default="bench", help="folder for bench.md/.json")
  parser.add_argument("--compare", default=None, metavar="OLD.json",
                      help="an earlier bench.json: print each case's old and new time "
                           "and their ratio (also written to bench.md/.json)")
  return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
  args = _parse_args(argv)
  names = ([n.strip() for n in args.cases.split(",") if n.strip()] if args.cases
           else [n for n in CASES.names() if jax.default_backend() != "cpu"
                 or n != "ddpm1000_sample"])
  for name in names:
    CASES.get(name)  # unknown names fail before any work
  dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
  unknown = [d for d in dtypes if d not in COMPUTE_DTYPES]
  if unknown or not dtypes:
    raise UsageError(f"--dtypes {args.dtypes}: choose from {', '.join(COMPUTE_DTYPES)}")
  if min(args.repeats, args.batch_size, args.num_samples, args.fid_batch_size) < 1:
    raise UsageError("--repeats, --batch-size, --num-samples and --fid-batch-size "
                     "must be positive")
  old = read_bench(args.compare) if args.compare else None
  settings = Settings(args.batch_size, args.num_samples, args.fid_batch_size,
                      args.inception_weights)
  variants = [v.strip() for v in args.torch.split(",") if v.strip()]
  header = {"hardware": report.hardware(), "command": report.command_line(),
            "jax": jax.__version__, "python": platform.python_version()}
  twins = {}
  if variants:
    header["torch"], twins = load_twin(variants, settings)
  rows = []
  for name in names:
    for dtype in dtypes if name not in FLOAT32_ONLY else ["float32"]:
      print(f"bench: {name} ({dtype}) ...", file=sys.stderr, flush=True)
      for row in bench_case(name, dataclasses.replace(settings, compute_dtype=dtype),
                            args.repeats, twins if dtype == "float32" else {}):
        rows.append(row)
        shown = {k: row[k] for k in ("steps/s", "examples/s", "images/s",
                                     "compile_seconds", "jax_speedup") if k in row}
        print(f"  {row['framework']} {row['variant']}: {report.format_metrics(shown)}",
              file=sys.stderr, flush=True)
  add_matmul_fractions(rows)
  comparison = ""
  if old is not None:
    compared = compare_rows(old, rows)
    header["compared_with"] = {"file": args.compare, "hardware": old.get("hardware"),
                               "rows": compared}
    comparison = comparison_table(args.compare, old, compared, header["hardware"])
  print(write_tables(rows, header, pathlib.Path(args.out), comparison))
  if comparison:
    print(f"\n{comparison}")


if __name__ == "__main__":
  sys.exit(run_main(main))
