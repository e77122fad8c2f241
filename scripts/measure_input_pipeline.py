"""Device-resident data (batch drawn inside the compiled step) vs. host-fed batches.

  python scripts/measure_input_pipeline.py --data-dir ../shared/data --out experiments/input_pipeline/cpu.json

For each model, alternates rounds of the two ways of feeding a train step and
reports the median steps/s of each: `device` is jaxgen's loop (the uint8
dataset lives on the device, indices come from fold_in(rng, step) inside the
jitted step); `host` gathers the batch in numpy and copies it over every step.
"""

import argparse
import statistics
import time

import jax
import numpy as np

from jaxgen import config as config_lib
from jaxgen import data, report
from jaxgen.training import sharding
from jaxgen.training.loop import build_family, compile_train_step, to_model_range


def host_fed_step(family):
  def step(state, x_uint8, labels):
    _, step_rng = jax.random.split(jax.random.fold_in(state.rng, state.step))
    batch = {"x": to_model_range(x_uint8), "labels": labels}
    new_state, metrics = family.train_step(state, batch, step_rng)
    return new_state.replace(step=state.step + 1), metrics
  return jax.jit(step, donate_argnums=0)


def steps_per_second(run_step, state, steps):
  state, _ = run_step(state)  # compile / warm up
  jax.block_until_ready(state)
  start = time.perf_counter()
  for _ in range(steps):
    state, _ = run_step(state)
  jax.block_until_ready(state)
  return state, steps / (time.perf_counter() - start)


def measure(model, dataset_name, data_dir, steps, rounds):
  config = config_lib.get_config(model, dataset_name, "cpu")
  dataset = data.load(dataset_name, "train", data_dir)
  family = build_family(config, dataset)
  mesh = sharding.make_mesh()
  replicated = sharding.replicated(mesh)
  x_all = jax.device_put(dataset.x, replicated)
  labels_all = jax.device_put(dataset.labels, replicated)
  device_step = compile_train_step(family, config, mesh)
  host_step = host_fed_step(family)
  rng = np.random.default_rng(0)

  def host_run(state):
    index = rng.integers(0, len(dataset.x), config.batch_size)
    return host_step(state, jax.device_put(dataset.x[index]),
                     jax.device_put(dataset.labels[index]))

  state = jax.device_put(family.init_state(jax.random.PRNGKey(0)), replicated)
  rates = {"device": [], "host": []}
  for _ in range(rounds):
    state, rate = steps_per_second(lambda s: device_step(s, x_all, labels_all), state, steps)
    rates["device"].append(rate)
    state, rate = steps_per_second(host_run, state, steps)
    rates["host"].append(rate)
  return {name: statistics.median(values) for name, values in rates.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--data-dir", default=None)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--out", default=None)
  args = parser.parse_args()
  results = {"device": str(jax.devices()[0].device_kind), "rounds": args.rounds}
  for model, dataset, steps in (("ddim", "gmm_ring8", 200), ("ddim", "mnist", 10)):
    rates = measure(model, dataset, args.data_dir, steps, args.rounds)
    results[f"{model}/{dataset}"] = {"device steps/s": rates["device"],
                                     "host steps/s": rates["host"], "steps": steps}
    print(f"{model} on {dataset} (cpu preset): device-resident "
          f"{report.format_metrics({'steps/s': rates['device']})} vs host-fed "
          f"{report.format_metrics({'steps/s': rates['host']})}")
  if args.out:
    report.write_json(args.out, results)


if __name__ == "__main__":
  main()
