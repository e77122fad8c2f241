"""The leads of issue 21 for the CPU train-step gap, each timed against its baseline.

  python experiments/bench/cpu_leads/leads.py --out experiments/bench/cpu_leads

Network level, the reference UNet (`jaxgen.experiments.bench.REFERENCE_UNET`,
dropout off so every variant computes the same function) at batch 128: one
jitted loss-and-gradient (MSE against a fixed target) per variant,
  - baseline: the UNet as shipped;
  - remat_nothing / remat_dots: the whole loss under `jax.checkpoint` with the
    `nothing_saveable` / `dots_saveable` policy (recompute to save memory
    traffic; the transposes of the weight gradients stay);
  - groupnorm_affine: GroupNorm as two per-(sample, channel) coefficients,
    y = x * a + b, from one-pass statistics, then SiLU: the hand-fused form.
Layer level, the UNet's 3x3 convolutions (forward plus both gradients):
  - NHWC against NCHW (`lax.conv_general_dilated` dimension numbers);
  - the 1-channel input and output convolutions against their channels
    zero-padded to the 16 float32 lanes of AVX-512 (every inner width of the
    UNet, 32/64/128, is a multiple of 16 already).
Checks without a timing:
  - the weight gradient by hand, a convolution with swapped dimension numbers
    (the lead's custom VJP), against what JAX's own rule emits;
  - whether this jaxlib compiles a Pallas kernel for the CPU.
Variants of one level run alternately, `--rounds` times each after a warm-up
call; the table holds medians and each variant's ratio to its baseline
(above 1: the variant is faster).
"""

import argparse
import pathlib
import re
import statistics
import sys
import time
from typing import Callable, Dict, List, Sequence

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
from jaxgen import report  # noqa: E402  (sets XLA flags before JAX starts)

import flax.linen as nn  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jaxgen.errors import first_line  # noqa: E402
from jaxgen.experiments.bench import REFERENCE_UNET  # noqa: E402
from jaxgen.nn import layers, unet  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
BATCH = 128


class AffineGroupNorm(nn.Module):
  """GroupNorm folded into y = x * a + b with a, b [B, 1, 1, C] from one-pass
  group statistics (float32), same parameters as `nn.GroupNorm`."""
  num_groups: int = 32
  epsilon: float = 1e-6
  dtype: object = jnp.float32

  @nn.compact
  def __call__(self, x):
    b, h, w, c = x.shape
    g = self.num_groups
    scale = self.param("scale", nn.initializers.ones, (c,))
    bias = self.param("bias", nn.initializers.zeros, (c,))
    grouped = x.astype(jnp.float32).reshape(b, h * w, g, c // g)
    mean = grouped.mean(axis=(1, 3))
    var = jnp.maximum((grouped * grouped).mean(axis=(1, 3)) - mean * mean, 0.0)
    inv = jnp.repeat(jax.lax.rsqrt(var + self.epsilon), c // g, axis=1) * scale
    a = inv[:, None, None, :]
    shift = (bias - jnp.repeat(mean, c // g, axis=1) * inv)[:, None, None, :]
    return (x * a + shift).astype(self.dtype)


def unet_loss(policy=None) -> Callable:
  """(params, x, t, target) -> (loss, grads) of the reference UNet, jitted."""
  network = unet.UNet(**dict(REFERENCE_UNET, dropout=0.0))

  def loss(params, x, t, target):
    prediction = network.apply({"params": params}, x, t, train=True)
    return jnp.mean((prediction - target) ** 2)

  if policy is not None:
    loss = jax.checkpoint(loss, policy=policy)
  return jax.jit(jax.value_and_grad(loss))


def unet_inputs():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((BATCH, 28, 28, 1)).astype(np.float32)
  t = rng.uniform(0, 1000, BATCH).astype(np.float32)
  target = rng.standard_normal(x.shape).astype(np.float32)
  params = unet.UNet(**REFERENCE_UNET).init(jax.random.PRNGKey(0), x[:1], t[:1],
                                            train=False)["params"]
  return params, x, t, target


def network_variants() -> Dict[str, Callable[[], object]]:
  """name -> a call of that variant's compiled loss-and-gradient."""
  args = unet_inputs()
  policies = {"baseline": None, "remat_nothing": jax.checkpoint_policies.nothing_saveable,
              "remat_dots": jax.checkpoint_policies.dots_saveable}
  compiled = {name: unet_loss(policy).lower(*args).compile()
              for name, policy in policies.items()}
  calls = {name: (lambda c=c: c(*args)) for name, c in compiled.items()}
  # The same UNet with every GroupNorm in its folded form, initialised and
  # traced while the swap is in place.
  shipped = layers.nn.GroupNorm
  layers.nn.GroupNorm = AffineGroupNorm
  try:
    affine_args = unet_inputs()
    affine = unet_loss().lower(*affine_args).compile()
  finally:
    layers.nn.GroupNorm = shipped
  calls["groupnorm_affine"] = lambda: affine(*affine_args)
  return calls


def conv_inputs(channels_in: int, channels_out: int, size: int):
  """x [B, size, size, Cin] and an HWIO kernel, the same numbers for every layout."""
  rng = np.random.default_rng(0)
  return (rng.standard_normal((BATCH, size, size, channels_in), np.float32),
          rng.standard_normal((3, 3, channels_in, channels_out), np.float32))


def conv_grad(layout: str, channels_in: int, channels_out: int, size: int):
  """A call of a 3x3 SAME conv's forward and input and kernel gradients in
  `layout` (NHWC with an HWIO kernel, or NCHW with OIHW): (loss, (dx, dkernel))."""
  x, kernel = conv_inputs(channels_in, channels_out, size)
  if layout == "NHWC":
    numbers = ("NHWC", "HWIO", "NHWC")
  else:
    x, kernel = x.transpose(0, 3, 1, 2), kernel.transpose(3, 2, 0, 1)
    numbers = ("NCHW", "OIHW", "NCHW")

  def loss(x, kernel):
    y = jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=numbers)
    return jnp.sum(y * y) * 0.5

  step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
  return lambda: step(x, kernel)


def torch_conv_grad(memory_format: str, channels_in: int, channels_out: int, size: int):
  """The same step in PyTorch (its default threads), the input and kernel in
  `memory_format` ("contiguous", i.e. NCHW, or "channels_last"): (dx, dkernel)
  in NCHW and OIHW."""
  import torch  # only with --torch
  fmt = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}[
      memory_format]
  x, kernel = conv_inputs(channels_in, channels_out, size)
  x = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
  kernel = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
  x = x.contiguous(memory_format=fmt).requires_grad_()
  kernel = kernel.contiguous(memory_format=fmt).requires_grad_()

  def step():
    y = torch.nn.functional.conv2d(x, kernel, padding=1)
    loss = (y * y).sum() * 0.5
    return torch.autograd.grad(loss, (x, kernel))
  return step


def conv_gflop(channels_in: int, channels_out: int, size: int) -> float:
  """A 3x3 SAME conv's forward plus input and kernel gradients: three times
  the forward's 2 * B * H * W * Cin * Cout * 9 flops, in GFLOP."""
  return 3 * 2 * BATCH * size * size * channels_in * channels_out * 9 / 1e9


def layer_variants(with_torch: bool) -> Dict[str, Dict[str, Callable[[], object]]]:
  """level name -> {variant: call}; the first variant is the baseline."""
  levels = {}
  for c_in, c_out, size in ((32, 32, 28), (64, 64, 14), (128, 128, 7), (96, 32, 28)):
    variants = {layout: conv_grad(layout, c_in, c_out, size) for layout in ("NHWC", "NCHW")}
    if with_torch:
      variants.update({f"torch {fmt}": torch_conv_grad(fmt, c_in, c_out, size)
                       for fmt in ("contiguous", "channels_last")})
    levels[f"conv3x3 {c_in}->{c_out} at {size}x{size}"] = variants
  levels["conv_in 1->32 at 28x28"] = {
      "1 channel": conv_grad("NHWC", 1, 32, 28), "padded to 16": conv_grad("NHWC", 16, 32, 28)}
  levels["conv_out 32->1 at 28x28"] = {
      "1 channel": conv_grad("NHWC", 32, 1, 28), "padded to 16": conv_grad("NHWC", 32, 16, 28)}
  return levels


def timed(call: Callable[[], object]) -> float:
  start = time.perf_counter()
  jax.block_until_ready(call())
  return time.perf_counter() - start


def alternate(calls: Dict[str, Callable[[], object]], rounds: int) -> Dict[str, Dict]:
  """variant -> {first_call_s, median_ms, runs_ms}: each variant once per
  round after a first (compiling) and a warm-up call."""
  first_call = {name: timed(call) for name, call in calls.items()}
  for call in calls.values():
    timed(call)
  runs = {name: [] for name in calls}
  for _ in range(rounds):
    for name, call in calls.items():
      runs[name].append(1e3 * timed(call))
  return {name: {"first_call_s": first_call[name], "median_ms": statistics.median(ms),
                 "runs_ms": ms} for name, ms in runs.items()}


def weight_gradient_by_hand() -> Dict[str, object]:
  """The custom-VJP lead: the kernel gradient of a 3x3 SAME NHWC conv as one
  convolution of the input with the output gradient, batch and features
  swapped. Returns whether it matches JAX's own gradient and whether JAX's
  rule already emits that convolution."""
  rng = np.random.default_rng(0)
  x = rng.standard_normal((8, 14, 14, 64), np.float32)
  kernel = rng.standard_normal((3, 3, 64, 64), np.float32)
  dy = rng.standard_normal((8, 14, 14, 64), np.float32)
  numbers = ("NHWC", "HWIO", "NHWC")
  forward = lambda k: jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                                   dimension_numbers=numbers)
  _, vjp = jax.vjp(forward, kernel)
  (jax_grad,) = vjp(dy)
  # x as [Cin (batch), H, W, N (features)], dy as a kernel [N (in), H, W, Cout]:
  # out[ci, kh, kw, co] = sum_n,h,w x[n, h + kh - 1, w + kw - 1, ci] dy[n, h, w, co].
  by_hand = jax.lax.conv_general_dilated(
      x, dy, (1, 1), ((1, 1), (1, 1)),
      dimension_numbers=("CHWN", "IHWO", "NHWC")).transpose(1, 2, 0, 3)
  jaxpr = str(jax.make_jaxpr(lambda k: jax.vjp(forward, k)[1](dy))(kernel))
  return {"max_abs_difference": float(jnp.max(jnp.abs(by_hand - jax_grad))),
          "jax_rule": jaxpr_conv_lines(jaxpr)[-1]}


def jaxpr_conv_lines(jaxpr: str) -> List[str]:
  """Each conv_general_dilated equation: its output and dimension numbers."""
  lines = [line.strip() for line in jaxpr.splitlines()]
  return [line + " " + next(l for l in lines[i:] if "dimension_numbers" in l)
          for i, line in enumerate(lines) if "conv_general_dilated" in line]


def pallas_on_cpu() -> str:
  """What compiling a trivial Pallas kernel for the CPU (not interpreted) gives."""
  try:
    from jax.experimental import pallas as pl
  except ImportError as error:
    return f"no jax.experimental.pallas: {error}"

  def double(x_ref, o_ref):
    o_ref[...] = 2 * x_ref[...]

  try:
    call = pl.pallas_call(double, out_shape=jax.ShapeDtypeStruct((8, 128), jnp.float32))
    jax.block_until_ready(jax.jit(call)(jnp.ones((8, 128), jnp.float32)))
    return "compiled and ran"
  except Exception as error:  # noqa: BLE001 (the message is the finding)
    return f"{type(error).__name__}: {first_line(str(error))}"


def baseline_ms(rows: Sequence[Dict], case: str) -> float:
  """The median of `case`'s first row, its baseline."""
  return next(row["median_ms"] for row in rows if row["case"] == case)


def write_table(record: Dict, out: pathlib.Path) -> str:
  """results.md of a record: one row per case and variant, numbers as
  `report.format_value` prints them; returns its text."""
  lines = ["| case | variant | median_ms | GFLOP/s | speed-up over the first row |",
           "|---|---|---|---|---|"]
  for row in record["rows"]:
    cells = [report.format_value(key, row[key]) if key in row else ""
             for key in ("median_ms", "GFLOP/s")]
    lines.append(f"| {row['case']} | {row['variant']} | {' | '.join(cells)} | "
                 f"{baseline_ms(record['rows'], row['case']) / row['median_ms']:.2f}× |")
  checks = record["weight_gradient_by_hand"]
  text = ("# Leads for the CPU train-step gap\n\n"
          f"Measured on {record['hardware']} (jax {record['jax']}) with\n"
          f"`{record['command']}`;\nmedians of {record['rounds']} alternating rounds.\n\n"
          + "\n".join(lines) + "\n\n"
          "- Weight gradient by hand (swapped dimension numbers) against JAX's: max "
          f"|difference| {checks['max_abs_difference']:.1e}; JAX's own rule: "
          f"`{checks['jax_rule']}`.\n"
          f"- Pallas on this CPU: {record['pallas_on_cpu']}\n")
  (out / "results.md").write_text(text)
  return text


def main(argv: Sequence[str] = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=str(HERE))
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--torch", action="store_true",
                      help="time each 3x3 convolution in PyTorch too, alternating")
  args = parser.parse_args(argv)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  cases = {f"UNet loss and gradient, batch {BATCH}": network_variants(),
           **layer_variants(args.torch)}
  rows = []  # the first row of each case is its baseline
  for case, calls in cases.items():
    shape = re.match(r"conv\w* (\d+)->(\d+) at (\d+)x", case)
    for variant, row in alternate(calls, args.rounds).items():
      if shape:
        row["gflop"] = conv_gflop(*map(int, shape.groups()))
        row["GFLOP/s"] = row["gflop"] / row["median_ms"] * 1e3
      rows.append({"case": case, "variant": variant, **row})
  record = {"command": report.command_line(), "hardware": report.hardware(),
            "jax": jax.__version__, "rounds": args.rounds, "rows": rows,
            "weight_gradient_by_hand": weight_gradient_by_hand(),
            "pallas_on_cpu": pallas_on_cpu()}
  report.write_json(out / "results.json", record)
  print(write_table(record, out))

if __name__ == "__main__":
  main()
