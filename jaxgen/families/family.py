"""What a model family gives the shared loop, and the registry of model names.

A family is a small object of pure functions over explicit params pytrees
(google-research/vdm's idea): it builds its networks from the config, creates a
`TrainState`, makes one `train_step` and draws samples. It never owns a loop:
sharding, jit, EMA, checkpoints, metrics and plots live in `jaxgen.training`.
"""

import abc
import dataclasses
import pathlib
from typing import Any, Callable, Dict, Optional, Tuple

import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.registry import Registry
from jaxgen.training.state import TrainState

Batch = Dict[str, jnp.ndarray]
Metrics = Dict[str, jnp.ndarray]
# config.compute_dtype: what the networks compute in. Parameters, optimizer
# state, losses, schedules and samplers are float32 in both.
COMPUTE_DTYPES = ("float32", "bfloat16")


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a family needs to know of its data: one example's shape, e.g.
  (28, 28, 1) for images or (2,) for points, and the number of classes."""
  shape: Tuple[int, ...]
  num_classes: int

  @property
  def is_image(self) -> bool:
    return len(self.shape) == 3


class Family(abc.ABC):
  """Model family interface. Batches are dicts: "x" float32 [B, *shape] (images
  in [-1, 1], points as they are) and "labels" int32 [B]."""

  # How many test examples `write_figures` receives.
  figure_examples: int = 16

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    self.config = config
    self.spec = spec

  @abc.abstractmethod
  def init_state(self, rng: jax.Array) -> TrainState:
    """Fresh params and optimizer state; rng also seeds the state's base key."""

  @abc.abstractmethod
  def train_step(self, state: TrainState, batch: Batch,
                 rng: jax.Array) -> Tuple[TrainState, Metrics]:
    """One update of params/opt_state (the loop handles step, EMA and rng)."""

  @abc.abstractmethod
  def sample(self, params: Any, rng: jax.Array, num: int,
             labels: Optional[jnp.ndarray] = None, **options) -> jnp.ndarray:
    """num samples: float32 [num, *shape] in the data's range. `params` is what
    `sampling_params` returns."""

  def sample_grid(self, params: Any, rng: jax.Array, num: int,
                  labels: Optional[jnp.ndarray] = None) -> Tuple[jnp.ndarray, Any]:
    """The run's sample grids: (samples as `sample` draws them, trace), where
    trace is what `write_figures` pictures of how they were drawn (default:
    None). Drawing both at once spares the figures a compile of their own."""
    return self.sample(params, rng, num, labels), None

  def sampling_params(self, state: TrainState, use_ema: bool = True) -> Any:
    """What `sample`, `evaluate` and `write_figures` need from a state
    (default: the EMA params, or the raw ones)."""
    return state.ema_params if use_ema else state.params

  def evaluate(self, params: Any, test: Batch, rng: jax.Array) -> Dict[str, float]:
    """Held-out metrics at the end of training; `test` is the whole test split
    as one batch. Default: none."""
    del params, test, rng
    return {}

  def write_figures(self, params: Any, rng: jax.Array, outdir: pathlib.Path,
                    examples: Batch, grid_trace: Any) -> None:
    """Family-specific pictures at the end of training; `examples` holds the
    first `figure_examples` test examples (e.g. for reconstructions),
    `grid_trace` what `sample_grid` returned beside the final grid. Default: none."""


def compute_dtype(config: ml_collections.ConfigDict) -> jnp.dtype:
  """The networks' dtype, config.compute_dtype (float32 for runs saved before
  the field existed)."""
  return jnp.dtype(config.get("compute_dtype", "float32"))


def cycling_labels(num: int, num_classes: int) -> jnp.ndarray:
  """int32 [num]: classes 0, 1, ..., num_classes - 1, 0, 1, ... (one class per
  column of a grid num_classes wide)."""
  return jnp.arange(num, dtype=jnp.int32) % num_classes


@dataclasses.dataclass(frozen=True)
class ModelEntry:
  """A `--model` name: the family class and how it fills in the config."""
  family: Callable[[ml_collections.ConfigDict, DataSpec], Family]
  # configure(config, preset, is_image) fills in defaults for this model.
  configure: Callable[[ml_collections.ConfigDict, str, bool], None]
  # check(config) raises UsageError for a value of the model's own section that
  # no run can use (see jaxgen.checks); config.check runs it after the shared checks.
  check: Callable[[ml_collections.ConfigDict], None] = lambda config: None


MODELS: Registry[ModelEntry] = Registry("model")
