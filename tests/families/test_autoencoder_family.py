"""The autoencoder family: learning, sampling, evaluation, figures, bad input,
and one run through the shared loop."""

import json

import jax
import jax.numpy as jnp
import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.families import DataSpec
from jaxgen.families.autoencoder.family import AutoencoderFamily
from jaxgen.training.loop import train_and_evaluate

IMAGE_SPEC = DataSpec(shape=(8, 8, 1), num_classes=10)


def image_family(model="vae", **autoencoder):
  config = config_lib.get_config(model, "mnist", "cpu")
  config.net.update(dict(hidden=(32,), channels=(4, 8)))
  config.autoencoder.update({"latent_dim": 4, **autoencoder})
  config.optim.update(dict(learning_rate=3e-3, warmup_steps=1))
  return AutoencoderFamily(config, IMAGE_SPEC)


def image_batch(size=8):
  pixels = jax.random.bernoulli(jax.random.PRNGKey(1), 0.3, (size,) + IMAGE_SPEC.shape)
  return {"x": pixels.astype(jnp.float32) * 2.0 - 1.0,
          "labels": jnp.arange(size, dtype=jnp.int32) % 10}


@pytest.mark.parametrize("model, loss, architecture", [
    ("ae", "l2", "mlp"), ("ae", "bce", "conv"), ("vae", "bce", "mlp")])
def test_tiny_model_overfits_one_batch(model, loss, architecture):
  config = image_family(model, reconstruction_loss=loss).config
  config.net.architecture = architecture
  family = AutoencoderFamily(config, IMAGE_SPEC)
  batch, rng = image_batch(), jax.random.PRNGKey(2)
  recon = jax.jit(lambda params: jnp.mean(family.loss_terms(params, batch, rng)[0]))
  def step(_, state):
    return family.train_step(state, batch, rng)[0].replace(step=state.step + 1)
  state = family.init_state(jax.random.PRNGKey(0))
  before = recon(state.params)
  state = jax.jit(lambda state: jax.lax.fori_loop(0, 300, step, state))(state)
  assert recon(state.params) < 0.1 * before


def test_train_step_reports_the_terms_and_the_scheduled_beta():
  family = image_family(beta=0.8, beta_schedule="linear_warmup", warmup_steps=10)
  state = family.init_state(jax.random.PRNGKey(0)).replace(step=jnp.int32(5))
  _, metrics = jax.jit(family.train_step)(state, image_batch(), jax.random.PRNGKey(1))
  assert float(metrics["beta"]) == pytest.approx(0.4)
  assert float(metrics["loss"]) == pytest.approx(
      float(metrics["recon"] + 0.4 * metrics["kl"]), rel=1e-5)
  ae = image_family("ae")
  _, ae_metrics = jax.jit(ae.train_step)(ae.init_state(jax.random.PRNGKey(0)),
                                         image_batch(), jax.random.PRNGKey(1))
  assert set(ae_metrics) == {"loss", "recon", "grad_norm"}


@pytest.mark.parametrize("model", ["ae", "vae", "cvae"])
def test_samples_have_the_data_shape_and_range(model):
  family = image_family(model)
  params = family.init_state(jax.random.PRNGKey(0)).params
  labels = jnp.arange(6) % 10 if model == "cvae" else None
  samples = family.sample(params, jax.random.PRNGKey(1), 6, labels)
  assert samples.shape == (6, 8, 8, 1) and samples.dtype == jnp.float32
  assert float(samples.min()) >= -1.0 and float(samples.max()) <= 1.0


def test_evaluate_averages_the_per_example_terms():
  family = image_family()
  params = family.init_state(jax.random.PRNGKey(0)).params
  test = image_batch(520)  # more than one chunk of EVAL_BATCH_SIZE, and a remainder
  metrics = family.evaluate(params, test, jax.random.PRNGKey(3))
  assert set(metrics) == {"recon", "kl", "elbo"}
  assert metrics["elbo"] == pytest.approx(-(metrics["recon"] + metrics["kl"]), rel=1e-5)
  recon, kl = family.loss_terms(params, test, jax.random.PRNGKey(4))
  assert metrics["kl"] == pytest.approx(float(jnp.mean(kl)), rel=1e-4)  # KL is exact
  assert metrics["recon"] == pytest.approx(float(jnp.mean(recon)), rel=0.05)


def test_cvae_figures(tmp_path):
  family = image_family("cvae", latent_dim=2)
  params = family.init_state(jax.random.PRNGKey(0)).params
  family.write_figures(params, jax.random.PRNGKey(1), tmp_path, image_batch(16), None)
  for name in ("reconstructions.png", "latent_interpolation.png", "class_grid.png",
               "latent_scatter.png"):
    assert (tmp_path / name).is_file(), name


@pytest.mark.parametrize("override, message", [
    (dict(reconstruction_loss="mse"), "bce, l1, l2"),
    (dict(beta_schedule="sigmoid"), "constant, cyclical, linear_warmup"),
])
def test_bad_settings_are_usage_errors(override, message):
  with pytest.raises(UsageError, match=message):
    image_family(**override)


def test_points_refuse_bce_and_conv():
  config = config_lib.get_config("vae", "gmm_ring8", "cpu")
  spec = DataSpec(shape=(2,), num_classes=8)
  config.autoencoder.reconstruction_loss = "bce"
  with pytest.raises(UsageError, match="reconstruction_loss=l2"):
    AutoencoderFamily(config, spec)
  config.autoencoder.reconstruction_loss = "l2"
  config.net.architecture = "conv"
  with pytest.raises(UsageError, match="architecture=mlp"):
    AutoencoderFamily(config, spec)


def test_cvae_through_the_loop_logs_beta_and_test_metrics(tmp_path):
  config = config_lib.get_config("cvae", "gmm_ring8", "cpu")
  config.net.hidden = (16,)
  config.autoencoder.update(dict(beta_schedule="cyclical", cycle_steps=4))
  config.update(dict(batch_size=64, num_steps=8, log_every=1, checkpoint_every=8,
                     sample_every=8, num_samples=64))
  train_and_evaluate(config, tmp_path)
  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train = [r for r in records if "loss" in r]
  # beta(state.step) for steps 1..8: a cycle of 4 steps rising over its first half.
  assert [r["beta"] for r in train] == pytest.approx(
      [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0])
  assert all({"recon", "kl"} <= set(r) for r in train)
  test = [r for r in records if r.get("split") == "test"]
  assert len(test) == 1 and {"recon", "kl", "elbo"} <= set(test[0])
  assert (tmp_path / "latent_scatter.png").is_file()
