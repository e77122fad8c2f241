"""The shared loop end to end on a tiny 2-D diffusion model: outputs, resume,
devices, and what happens when the loss stops being finite; and the range
images take between the data, the model and FID."""

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen import plotting
from jaxgen.errors import TrainingError, UsageError
from jaxgen.training import checkpoints
from jaxgen.training import runs
from jaxgen.training.checkpoints import Checkpointer, all_finite
from jaxgen.training.loop import build_family, to_model_range, train_and_evaluate


def tiny_config(**overrides):
  config = config_lib.get_config("ddim", "gmm_ring8", "cpu")
  config.net.update(dict(hidden=32, depth=2))
  config.diffusion.update(dict(timesteps=100, sample_steps=10))
  config.update(dict(batch_size=64, num_steps=20, log_every=5, checkpoint_every=10,
                     sample_every=10, num_samples=64))
  config.update(overrides)
  return config


def params_of(state):
  return jax.tree_util.tree_leaves(jax.device_get(state.params))


def test_run_writes_its_outputs(tmp_path):
  state = train_and_evaluate(tiny_config(), tmp_path)
  assert int(state.step) == 20
  for name in ("config.json", "metrics.jsonl", "loss_curve.png",
               "denoising_trajectory.png", "samples/final.png", "samples/step_0000010.png"):
    assert (tmp_path / name).is_file(), name
  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train = [r for r in records if "loss" in r]
  assert [r["step"] for r in train] == [5, 10, 15, 20]
  assert all(np.isfinite(r["loss"]) and r["steps/s"] > 0 for r in train)
  assert any("modes_covered" in r for r in records)
  assert Checkpointer(tmp_path / "checkpoints").latest_step() == 20


def test_ema_warmup_false_averages_by_ema_decay_from_the_first_step(tmp_path):
  # After one step, ema = d * initial + (1 - d) * params: TF's warm-up makes
  # d = 0.1, without it d = ema_decay = 0.5; both runs take the same step (at
  # the full learning rate, so that the params move).
  configs = [tiny_config(num_steps=1, ema_decay=0.5, ema_warmup=warmup)
             for warmup in (True, False)]
  for config in configs:
    config.optim.warmup_steps = 0
  warm, cold = (train_and_evaluate(c, tmp_path / str(c.ema_warmup)) for c in configs)
  chex.assert_trees_all_equal(jax.device_get(warm.params), jax.device_get(cold.params))
  for params, ema_warm, ema_cold in zip(params_of(warm), *(
      jax.tree_util.tree_leaves(jax.device_get(s.ema_params)) for s in (warm, cold))):
    np.testing.assert_allclose(ema_cold - params, 5 * (ema_warm - params),
                               rtol=1e-3, atol=1e-6)


def steps_this_run(workdir):
  return json.loads((workdir / "summary.json").read_text())["steps_this_run"]


def test_resumed_run_ends_bit_for_bit_like_an_uninterrupted_one(tmp_path):
  straight = train_and_evaluate(tiny_config(), tmp_path / "straight")
  train_and_evaluate(tiny_config(num_steps=10), tmp_path / "resumed")
  resumed = train_and_evaluate(tiny_config(), tmp_path / "resumed")
  # Batches depend only on (seed, step), so retraining from step 0 would also
  # end equal: only the step count shows that the checkpoint was used.
  assert steps_this_run(tmp_path / "resumed") == 10
  chex.assert_trees_all_equal(jax.device_get(straight), jax.device_get(resumed),
                              strict=True)


def test_train_seconds_add_up_over_the_invocations_that_trained_the_run(tmp_path):
  def summary():
    return json.loads((tmp_path / "summary.json").read_text())

  train_and_evaluate(tiny_config(num_steps=10), tmp_path)
  first = summary()
  train_and_evaluate(tiny_config(), tmp_path)
  second = summary()
  assert 0 < second["train_seconds_this_run"] < second["train_seconds"]
  assert second["train_seconds"] == pytest.approx(
      first["train_seconds"] + second["train_seconds_this_run"])
  train_and_evaluate(tiny_config(), tmp_path)  # finished already: trains nothing
  assert summary()["train_seconds_this_run"] == 0
  assert summary()["train_seconds"] == second["train_seconds"]
  (tmp_path / runs.TRAIN_SECONDS_FILE).unlink()  # as a run from before the ledger
  train_and_evaluate(tiny_config(num_steps=30), tmp_path)
  assert summary()["train_seconds"] is None and summary()["train_seconds_this_run"] > 0


def test_a_resumed_run_trains_past_a_damaged_checkpoint(tmp_path, capsys):
  """One flipped byte in the newest checkpoint's data (which orbax restores
  without noticing): the run resumes from the one before and ends as if
  nothing had happened. tests/training/test_checkpoints.py covers each kind
  of damage."""
  train_and_evaluate(tiny_config(), tmp_path / "damaged")
  data_files = (tmp_path / "damaged" / "checkpoints" / "20").rglob("ocdbt.process_0/d/*")
  largest = max(data_files, key=lambda path: path.stat().st_size)
  damaged = bytearray(largest.read_bytes())
  damaged[len(damaged) // 2] ^= 0xFF
  largest.write_bytes(bytes(damaged))
  resumed = train_and_evaluate(tiny_config(num_steps=30), tmp_path / "damaged")
  assert steps_this_run(tmp_path / "damaged") == 20
  assert "falling back to the checkpoint of step 10" in capsys.readouterr().err
  assert (tmp_path / "damaged" / checkpoints.UNREADABLE_DIR / "20").is_dir()
  kept = sorted((tmp_path / "damaged" / "checkpoints").glob("[0-9]*"))
  assert [path.name for path in kept] == ["20", "30"]  # step 20 saved again
  assert not any(checkpoints.checksum_problem(path) for path in kept)
  straight = train_and_evaluate(tiny_config(num_steps=30), tmp_path / "straight")
  chex.assert_trees_all_equal(jax.device_get(straight), jax.device_get(resumed),
                              strict=True)

def test_one_device_and_eight_devices_agree(tmp_path):
  assert jax.device_count() == 8
  one = train_and_evaluate(tiny_config(), tmp_path / "one", devices=jax.devices()[:1])
  eight = train_and_evaluate(tiny_config(), tmp_path / "eight")
  for a, b in zip(params_of(one), params_of(eight)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
  config = tiny_config(num_steps=40, checkpoint_every=2, log_every=2)
  config.optim.update(dict(learning_rate=1e30, warmup_steps=1, grad_clip=0.0))
  with pytest.raises(TrainingError, match=r"at step \d+"):
    train_and_evaluate(config, tmp_path)
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  kept = checkpointer.latest_step()
  assert kept is not None and kept < 40
  family = build_family(config, data.load("gmm_ring8"))
  assert all_finite(checkpointer.restore(family.init_state(jax.random.PRNGKey(0))).params)


def test_changed_config_on_an_existing_workdir_is_refused(tmp_path):
  """The error names each changed field and the flags that resume the run."""
  train_and_evaluate(tiny_config(num_steps=5), tmp_path)
  config = tiny_config(num_steps=10)
  config.net.hidden = 64
  config.diffusion.guidance_interval = (0.5, 2.0)
  with pytest.raises(UsageError) as refused:
    train_and_evaluate(config, tmp_path)
  assert str(refused.value) == (
      f"{tmp_path} holds a run with a different config (diffusion.guidance_interval: () "
      "in the run, (0.5, 2.0) now, net.hidden: 32 in the run, 64 now); resume it with "
      "--config.diffusion.guidance_interval=() --config.net.hidden=32, or use a new --workdir")
  resumed = config_lib.apply_overrides(
      tiny_config(num_steps=10), ["diffusion.guidance_interval=()", "net.hidden=32"])
  assert int(train_and_evaluate(resumed, tmp_path).step) == 10


def test_a_field_the_run_did_not_record_is_named_with_no_flag(tmp_path):
  """A run made before a config field existed: no flag can unset the field."""
  train_and_evaluate(tiny_config(num_steps=5), tmp_path)
  record = json.loads((tmp_path / "config.json").read_text())
  del record["diffusion"]["clip_x0"]
  (tmp_path / "config.json").write_text(json.dumps(record))
  with pytest.raises(UsageError, match=r"\(diffusion.clip_x0: not set in the run, True now\); "
                                       r"use a new --workdir$"):
    train_and_evaluate(tiny_config(num_steps=5), tmp_path)


def test_batch_size_must_divide_over_devices(tmp_path):
  with pytest.raises(UsageError, match="multiple of 8"):
    train_and_evaluate(tiny_config(batch_size=60), tmp_path)


def test_several_steps_per_dispatch_match_one_at_a_time(tmp_path):
  one = train_and_evaluate(tiny_config(), tmp_path / "one")
  five = train_and_evaluate(tiny_config(steps_per_dispatch=5), tmp_path / "five")
  assert int(five.step) == 20
  for a, b in zip(params_of(one), params_of(five)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  logged = [[json.loads(line) for line in (tmp_path / run / "metrics.jsonl").read_text()
             .splitlines()] for run in ("one", "five")]
  losses = [[(r["step"], r["loss"]) for r in records if "loss" in r] for records in logged]
  assert [s for s, _ in losses[1]] == [5, 10, 15, 20]
  np.testing.assert_allclose([l for _, l in losses[0]], [l for _, l in losses[1]],
                             rtol=1e-5)


def test_steps_per_dispatch_must_divide_the_intervals(tmp_path):
  with pytest.raises(UsageError, match="log_every=5.*multiple of 4"):
    train_and_evaluate(tiny_config(steps_per_dispatch=4), tmp_path)


def test_uint8_images_round_trip_through_the_model_range():
  # Models see to_model_range(data); FID sees to_uint8(samples).
  images = np.arange(256, dtype=np.uint8).reshape(4, 8, 8, 1)
  x = np.asarray(to_model_range(images))
  assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
  np.testing.assert_allclose(x.ravel(), np.arange(256) / 127.5 - 1.0, rtol=0, atol=1e-7)
  np.testing.assert_array_equal(plotting.to_uint8(x), images)


def test_samples_round_to_the_nearest_level_and_clip_to_the_range():
  level = 1 / 127.5  # one uint8 step in the model range
  samples = np.array([-1.5, -1.0 + 0.4 * level, -1.0 + 0.6 * level, 0.0, 1.0, 1.2],
                     np.float32)
  # 0.0 is 127.5 levels up: halfway, rounded to the even 128.
  np.testing.assert_array_equal(plotting.to_uint8(samples), [0, 0, 1, 128, 255, 255])


def test_a_record_with_no_timed_step_has_no_rate(tmp_path, capsys):
  """log_every=1: the first record holds only the compiling step, so it has no
  steps/s and its progress line no ETA."""
  train_and_evaluate(tiny_config(num_steps=3, log_every=1, checkpoint_every=3,
                                 sample_every=3), tmp_path)
  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train = [r for r in records if "loss" in r]
  assert "steps/s" not in train[0] and all(r["steps/s"] > 0 for r in train[1:])
  progress = [line for line in capsys.readouterr().err.splitlines() if "] 1/3" in line]
  assert progress and progress[0].endswith("ETA --")



@pytest.mark.parametrize("field", ["params", "ema_params", "opt_state"])
def test_a_state_with_any_non_finite_leaf_is_not_saved(field, tmp_path):
  config = tiny_config()
  family = build_family(config, data.load("gmm_ring8"))
  state = family.init_state(jax.random.PRNGKey(0))
  first = [True]

  def poison(x):  # the first float leaf of `field` becomes inf
    if first[0] and jnp.issubdtype(x.dtype, jnp.floating):
      first[0] = False
      return x.at[(0,) * x.ndim].set(jnp.inf)
    return x
  state = state.replace(**{field: jax.tree_util.tree_map(poison, getattr(state, field))})
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  assert not checkpointer.save(state)
  assert checkpointer.latest_step() is None
