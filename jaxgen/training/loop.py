"""train_and_evaluate(config, workdir): the one training loop for every family.

dataset (on device) -> batch drawn inside the compiled step -> family.train_step
-> EMA -> metrics.jsonl / progress -> checkpoints -> sample grids and metrics.
"""

import functools
import json
import pathlib
import signal
import time
from typing import Any, Dict, List, Optional, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen import plotting
from jaxgen import report
from jaxgen.errors import Interrupted, TrainingError, UsageError
from jaxgen.families import MODELS, DataSpec, Family, cycling_labels
from jaxgen.metrics.classifier import Classifier
from jaxgen.training import distributed
from jaxgen.training import runs
from jaxgen.training import sharding
from jaxgen.training.checkpoints import Checkpointer
from jaxgen.training.evaluate import sample_classifier, sample_metrics
from jaxgen.training.fid_eval import FidEvaluator
from jaxgen.training.logbook import Logbook
from jaxgen.training.state import TrainState, ema_update, initial_state, state_structure


def to_model_range(x: jnp.ndarray) -> jnp.ndarray:
  """uint8 images [..., H, W, C] -> float32 in [-1, 1]; float points unchanged."""
  if x.dtype == jnp.uint8:
    return x.astype(jnp.float32) / 127.5 - 1.0
  return x.astype(jnp.float32)


def build_family(config: ml_collections.ConfigDict, dataset: data.Dataset) -> Family:
  spec = DataSpec(shape=tuple(dataset.x.shape[1:]), num_classes=dataset.num_classes)
  return MODELS.get(config.model).family(config, spec)


def compile_train_step(family: Family, config: ml_collections.ConfigDict, mesh):
  """jit(steps(state, x_all, labels_all) -> (state, metrics)), data-parallel on mesh.

  One call runs config.steps_per_dispatch train steps (a lax.scan when more
  than one; each metric is then [steps_per_dispatch]). The batch is drawn from
  the device-resident dataset inside the step with key fold_in(state.rng,
  state.step), so a run is a pure function of (config, seed) and resumes bit
  for bit.
  """
  batch_sharding = sharding.batch_sharded(mesh)

  def step(state: TrainState, x_all: jnp.ndarray, labels_all: jnp.ndarray):
    batch_rng, step_rng = jax.random.split(jax.random.fold_in(state.rng, state.step))
    index = jax.random.randint(batch_rng, (config.batch_size,), 0, x_all.shape[0])
    batch = {"x": to_model_range(x_all[index]), "labels": labels_all[index]}
    batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
    new_state, metrics = family.train_step(state, batch, step_rng)
    ema = (ema_update(state.ema_params, new_state.params, state.step, config.ema_decay,
                      config.ema_warmup)
           if config.ema_decay > 0 else new_state.params)
    return new_state.replace(step=state.step + 1, ema_params=ema), metrics

  def steps(state: TrainState, x_all: jnp.ndarray, labels_all: jnp.ndarray):
    if config.steps_per_dispatch == 1:
      return step(state, x_all, labels_all)
    return jax.lax.scan(lambda s, _: step(s, x_all, labels_all), state, None,
                        length=config.steps_per_dispatch)

  replicated = sharding.replicated(mesh)
  return jax.jit(steps, in_shardings=(replicated, replicated, replicated),
                 out_shardings=(replicated, replicated), donate_argnums=0)


def _check_resume_step(config: ml_collections.ConfigDict, start_step: int,
                       checkpoints: pathlib.Path) -> int:
  """config.steps_per_dispatch, once the step the run resumes from is a multiple
  of it (config.check has checked it against the config's intervals)."""
  k = config.steps_per_dispatch
  if start_step % k:
    raise UsageError(f"the checkpoint in {checkpoints} is at step {start_step}, not a "
                     f"multiple of steps_per_dispatch={k}; resume with a divisor of it")
  return k


class _StopRequest:
  """Turns Ctrl-C (SIGINT) and a preemption's SIGTERM into a flag the loop
  checks between steps, so the state is whole when it is saved. Processes of
  a multi-process run agree at each logged step: a signal to any of them stops
  them all there, together (they must save the same step)."""

  SIGNALS = (signal.SIGINT, signal.SIGTERM)

  def __init__(self):
    self.signum = None  # the signal received, once one is

  def __enter__(self):
    self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
    return self

  def _handle(self, signum, frame):
    if self.signum is not None:  # a second signal stops at once
      raise Interrupted(signum)
    self.signum = signum

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)

  def agreed(self, logged_step: bool) -> Optional[int]:
    """The signal to stop on now, the same on every process, or None."""
    if jax.process_count() == 1:
      return self.signum
    if not logged_step:
      return None
    return distributed.max_over_processes(self.signum or 0) or None


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       data_dir: Optional[str] = None,
                       inception_weights: Optional[str] = None,
                       devices: Optional[Sequence[jax.Device]] = None) -> TrainState:
  """Trains config.model on config.dataset, writing everything into workdir.

  With config.fid.num_samples > 0 it also logs FID every config.fid.every
  steps and at the end (Inception weights from `inception_weights`, else
  $JAXGEN_FID_WEIGHTS or the cache). Rerunning on the same workdir resumes
  from its latest checkpoint. In a multi-process run (`distributed.initialize`)
  every process calls this and process 0 writes the files. Returns the final
  TrainState. Raises UsageError for bad input, TrainingError when the loss
  stops being finite, errors.Interrupted (a KeyboardInterrupt) after Ctrl-C or
  SIGTERM (a checkpoint is saved first).
  """
  started = time.perf_counter()
  run = _Run(config, pathlib.Path(workdir), data_dir, inception_weights, devices)
  run.train()
  return run.finish(wall_started=started)


class _TrainClock:
  """Time spent in train steps: steps/s of each logged interval and the total,
  leaving out compiling, checkpoints, sample grids and FID (`restart` after each)."""

  def __init__(self):
    self.train_seconds = 0.0
    self.restart()

  def restart(self) -> None:
    self._start, self._steps = time.perf_counter(), 0

  def count(self, steps: int) -> None:
    self._steps += steps

  def seconds(self) -> float:
    return time.perf_counter() - self._start

  def lap(self) -> Optional[float]:
    """Ends an interval: adds its time to the total; its steps/s (None when
    no step was timed in it)."""
    elapsed = self.seconds()
    self.train_seconds += elapsed
    rate = self._steps / max(elapsed, 1e-9) if self._steps else None
    self.restart()
    return rate


class _Run:
  """One invocation of train_and_evaluate: set up (or resumed) in __init__,
  trained by `train`, finished (samples, FID, test metrics, summary, figures)
  by `finish`."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: pathlib.Path,
               data_dir: Optional[str], inception_weights: Optional[str],
               devices: Optional[Sequence[jax.Device]]):
    config_lib.check(config)
    self.config, self.workdir, self.data_dir = config, workdir, data_dir
    self.classifier = sample_classifier(config)  # a bad weights file fails before training
    try:
      workdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
      raise UsageError(f"cannot make the workdir {workdir}: {error.strerror}; pass a "
                       "folder that can be written (--workdir DIR)") from None
    self.main = distributed.is_main_process()
    _record_config(config, workdir, write=self.main)
    dataset = data.load(config.dataset, "train", data_dir)
    self.family = family = build_family(config, dataset)
    if self.main:
      runs.write_spec(family.spec, workdir)
    mesh = sharding.make_mesh(devices)
    sharding.check_batch_size(config.batch_size, mesh)
    self.replicated = sharding.replicated(mesh)
    self.log = Logbook(workdir, config.num_steps, active=self.main)
    self.checkpointer = Checkpointer(workdir / "checkpoints", config.keep_checkpoints)
    if self.checkpointer.latest_step() is None:
      self.state = jax.device_put(initial_state(family, config.seed), self.replicated)
    else:
      self.state = self.checkpointer.restore(state_structure(family, self.replicated),
                                             say=self.log.say, set_aside=True)
      self.log.say(f"resumed from step {int(self.state.step)} in {workdir / 'checkpoints'}")
    self.start_step = int(self.state.step)
    self.log.resume(self.start_step)
    # Training seconds of the invocations before this one; None if unrecorded.
    self.seconds_before = runs.train_seconds_at(workdir, self.start_step)
    self.data = (jax.device_put(dataset.x, self.replicated),
                 jax.device_put(dataset.labels.astype(np.int32), self.replicated))
    self.train_step = compile_train_step(family, config, mesh)
    self.sample_fn = _compile_sampler(family, config, config.num_samples, mesh, grid=True)
    self.sample_rng = jax.random.PRNGKey(config.seed + 1)  # fixed noise: grids compare
    self.fid_eval = None
    if config.fid.num_samples:  # before training, so a missing file fails fast
      self.fid_eval = FidEvaluator.from_config(config, data_dir=data_dir,
                                               inception_weights_path=inception_weights,
                                               devices=devices)
      self.fid_draw = _compile_sampler(family, config, self.fid_eval.extractor.batch_size,
                                       mesh)
    self.pending: List[Dict[str, Any]] = []  # metrics of the steps not yet logged
    self.clock = _TrainClock()

  def train(self) -> None:
    """Train steps from the restored step to config.num_steps, with the
    logging, checkpoints, sample grids and FID that the config's intervals ask for."""
    config, log = self.config, self.log
    per_call = _check_resume_step(config, self.start_step, self.workdir / "checkpoints")
    first = self.start_step + per_call
    self.clock.restart()
    with _StopRequest() as stop:
      for step in range(first, config.num_steps + 1, per_call):
        self.state, metrics = self.train_step(self.state, *self.data)
        self.pending.append(metrics)
        self.clock.count(per_call)
        if step == first:
          jax.block_until_ready(self.state)
          log.say(f"compiled and ran the first "
                  f"{'step' if per_call == 1 else f'{per_call} steps'} in "
                  f"{self.clock.seconds():.1f} s")
          self.clock.restart()  # steps/s leaves compiling out
        if step % config.log_every == 0:
          self.flush(step)
        if step % config.checkpoint_every == 0:
          self.save(step)
        if step % config.sample_every == 0 and step < config.num_steps:
          self.flush(step)
          samples, _ = self.sample_fn(self.family.sampling_params(self.state), self.sample_rng)
          if self.main:
            _write_samples(samples, step, config, self.workdir, log, self.classifier)
          self.clock.restart()
        if self.fid_eval and config.fid.every and step % config.fid.every == 0 and (
            step < config.num_steps):
          self.flush(step)
          self.log_fid(step)
          self.clock.restart()
        signum = stop.agreed(logged_step=step % config.log_every == 0)
        if signum:
          self.save(step)
          log.say(f"interrupted ({signal.Signals(signum).name}) at step {step}; "
                  f"checkpoint saved in {self.workdir / 'checkpoints'}; rerun the same "
                  "command to resume")
          raise Interrupted(signum)

  def flush(self, step: int) -> None:
    """Checks and logs the metrics of the steps since the last flush."""
    if not self.pending:
      return
    fetched = jax.device_get(self.pending)  # each metric: a scalar or [steps_per_dispatch]
    history = {k: np.concatenate([np.ravel(m[k]) for m in fetched]) for k in fetched[0]}
    for name, values in history.items():  # the loss, its terms and the gradient norms
      bad = np.flatnonzero(~np.isfinite(values))
      if bad.size:
        first = step - len(values) + int(bad[0]) + 1
        raise TrainingError(
            f"{name} became {values[bad[0]]} at step {first}; training stopped. "
            f"{self.kept_checkpoint()}; try a lower learning rate "
            f"(--config.optim*.learning_rate)")
    means = {k: float(np.mean(v)) for k, v in history.items()}
    steps_per_second = self.clock.lap()
    self.log.write({"step": step, **means,
                    **({"steps/s": steps_per_second} if steps_per_second else {})})
    self.log.progress(step, means, steps_per_second)
    self.pending.clear()

  def save(self, step: int) -> None:
    self.flush(step)
    if not self.checkpointer.save(self.state):
      raise TrainingError(f"the train state (params, EMA or optimizer state) is not finite "
                          f"at step {step}; not saved. {self.kept_checkpoint()}")
    if self.main and self.train_seconds() is not None:
      runs.record_train_seconds(self.workdir, step, self.train_seconds())
    self.clock.restart()  # steps/s counts training only

  def train_seconds(self) -> Optional[float]:
    """Seconds in train steps since step 0, over every invocation (None when an
    earlier one left no record)."""
    if self.seconds_before is None:
      return None
    return self.seconds_before + self.clock.train_seconds

  def kept_checkpoint(self) -> str:
    kept = self.checkpointer.latest_step()
    if kept is None:
      return "No checkpoint had been saved yet"
    return (f"The last good checkpoint (step {kept}) is kept in "
            f"{self.workdir / 'checkpoints'}")

  def log_fid(self, step: int) -> Dict[str, Any]:
    draw = functools.partial(self.fid_draw, self.family.sampling_params(self.state))
    metrics = self.fid_eval(draw, jax.random.PRNGKey(self.config.seed + 2))
    self.log.say(f"step {step}: {report.format_metrics(metrics)} "
                 f"(vs {self.fid_eval.reference.name})")
    record = {"fid/reference": self.fid_eval.reference.name, **metrics}
    self.log.write({"step": step, **record})
    return record

  def finish(self, wall_started: float) -> TrainState:
    """The last checkpoint, the final samples (timed), FID, the test split's
    metrics, summary.json and the figures; returns the final state."""
    config, family, state, log = self.config, self.family, self.state, self.log
    final_step = int(state.step)
    self.save(final_step)
    self.checkpointer.close()
    params = family.sampling_params(state)
    sampler = self.sample_fn.lower(params, self.sample_rng).compile()
    clock = time.perf_counter()
    samples, grid_trace = jax.block_until_ready(sampler(params, self.sample_rng))
    sample_seconds = time.perf_counter() - clock
    summary = _write_samples(samples, final_step, config, self.workdir, log,
                             self.classifier, name="final") if self.main else {}
    if self.fid_eval:
      summary.update(self.log_fid(final_step))
    test = data.load(config.dataset, "test", self.data_dir)
    test_batch = jax.device_put({"x": test.x, "labels": test.labels.astype(np.int32)},
                                self.replicated)
    test_batch["x"] = to_model_range(test_batch["x"])
    test_metrics = family.evaluate(params, test_batch, self.sample_rng)
    if test_metrics:
      log.write({"step": final_step, "split": "test", **test_metrics})
      log.say(f"test split: {report.format_metrics(test_metrics)}")
    if self.main:
      report.write_json(self.workdir / "summary.json", {
          "model": config.model, "dataset": config.dataset, "preset": config.preset,
          "steps": final_step, "steps_this_run": final_step - self.start_step,
          "train_seconds": self.train_seconds(),
          "train_seconds_this_run": self.clock.train_seconds,
          "wall_seconds": time.perf_counter() - wall_started,
          "parameters": sum(np.size(p) for p in jax.tree_util.tree_leaves(state.params)),
          "samples/s": config.num_samples / sample_seconds,
          **summary, **{f"test/{k}": v for k, v in test_metrics.items()}})
      # Figures are drawn by this process alone, from host copies of the params.
      count = family.figure_examples
      examples = {"x": to_model_range(test.x[:count]),
                  "labels": jnp.asarray(test.labels[:count], jnp.int32)}
      family.write_figures(jax.device_get(params), self.sample_rng, self.workdir, examples,
                           jax.device_get(grid_trace))
      plotting.save_loss_curves(self.workdir / "metrics.jsonl",
                                self.workdir / "loss_curve.png")
    log.say(f"done: {final_step} steps; samples in "
            f"{self.workdir / 'samples' / 'final.png'}; metrics, plots and checkpoints in "
            f"{self.workdir}")
    distributed.wait_for_all("jaxgen: run written")
    return state


def _compile_sampler(family: Family, config: ml_collections.ConfigDict, num: int, mesh,
                     grid: bool = False):
  """jit(params, rng) -> samples [num, *shape] (`family.sample`), or with
  `grid` (samples, trace) (`family.sample_grid`), drawn batch-parallel over the
  mesh and returned replicated; conditional models get labels 0, 1, ..., so a
  grid has one class per column and classes are balanced."""
  labels = cycling_labels(num, family.spec.num_classes) if config.conditional else None
  draw = family.sample_grid if grid else family.sample
  return sharding.batch_parallel(lambda params, rng: draw(params, rng, num, labels), mesh)


def _write_samples(samples: jnp.ndarray, step: int, config: ml_collections.ConfigDict,
                   workdir: pathlib.Path, log: Logbook,
                   classifier: Optional[Classifier], name: Optional[str] = None
                   ) -> Dict[str, Any]:
  """Saves a sample grid (or scatter) PNG, and the samples as .npz (uint8 images
  or float points) beside it; logs and returns any sample metrics."""
  samples = np.asarray(jax.device_get(samples))
  path = workdir / "samples" / f"{name or f'step_{step:07d}'}.png"
  runs.write_samples(samples, path, config.dataset, ncols=10 if config.conditional else None)
  metrics = sample_metrics(samples, config.dataset, classifier)
  if metrics:
    log.write({"step": step, **metrics})
    log.say(f"step {step}: {report.format_metrics(metrics)}")
  return metrics


def _difference(name: str, saved: Dict[str, Any], current: Dict[str, Any]) -> str:
  """'diffusion.schedule: 'linear' in the run, 'cosine' now'."""
  def shown(fields):
    return repr(fields[name]) if name in fields else "not set"
  return f"{name}: {shown(saved)} in the run, {shown(current)} now"


def _record_config(config: ml_collections.ConfigDict, workdir: pathlib.Path,
                   write: bool = True) -> None:
  """Checks a resumed run keeps the model-defining fields; writes config.json
  (whole or not at all) when `write`."""
  path = workdir / "config.json"
  if path.exists():
    saved = config_lib.flat_fields(runs.read_record(path))
    current = config_lib.flat_fields(json.loads(config.to_json()))
    changed = sorted(name for name in set(saved) | set(current)
                     if name.split(".")[0] not in config_lib.RESUMABLE_FIELDS
                     and saved.get(name) != current.get(name))
    if changed:
      # A field only one side has (added to jaxgen after the run) no flag restores.
      fix = "use"
      if all(name in saved and name in current for name in changed):
        flags = " ".join(config_lib.override_flag(name, saved[name]) for name in changed)
        fix = f"resume it with {flags}, or use"
      raise UsageError(
          f"{workdir} holds a run with a different config "
          f"({', '.join(_difference(name, saved, current) for name in changed)}); "
          f"{fix} a new --workdir")
  if write:
    report.write_text_atomically(path, config_lib.to_json(config))
