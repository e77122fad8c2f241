"""The diffusion family: learning, guidance convention, sample shapes and ranges."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.families import DataSpec
from jaxgen.families.diffusion.family import DiffusionFamily


def point_family(conditional=False, **diffusion):
  config = config_lib.get_config("ddim", "gmm_ring8", "cpu")
  config.net.update(dict(hidden=64, depth=2))
  config.diffusion.update(dict(timesteps=100, sample_steps=10, **diffusion))
  config.conditional = conditional
  config.optim.update(dict(learning_rate=3e-3, warmup_steps=1))
  return DiffusionFamily(config, DataSpec(shape=(2,), num_classes=8))


def image_family(conditional=False):
  config = config_lib.get_config("ddpm", "mnist", "cpu")
  config.net.update(dict(channels=8, channel_mults=(1, 2), num_res_blocks=1,
                         attention_resolutions=(7,), num_groups=4))
  config.diffusion.update(dict(timesteps=20))
  config.conditional = conditional
  return DiffusionFamily(config, DataSpec(shape=(14, 14, 1), num_classes=10))


def perturbed_params(family):
  """Initial params with noise added, so the zero-initialised output layer does
  not make every sample trivially 0."""
  params = family.init_state(jax.random.PRNGKey(0)).params
  return jax.tree_util.tree_map(
      lambda p: p + 0.3 * jax.random.normal(jax.random.PRNGKey(5), p.shape), params)


@pytest.mark.parametrize("target, weighting", [
    ("eps", "none"), ("x0", "none"), ("v", "none"), ("eps", "min_snr"), ("v", "min_snr")])
def test_tiny_model_overfits_one_batch(target, weighting):
  """Same batch, same timesteps and noise every step: the loss must go to ~0."""
  family = point_family(target=target, loss_weighting=weighting)
  batch = {"x": jax.random.normal(jax.random.PRNGKey(1), (8, 2)),
           "labels": jnp.zeros((8,), jnp.int32)}
  rng = jax.random.PRNGKey(2)
  loss = jax.jit(lambda params: family.loss(params, batch, rng)[0])
  step = jax.jit(lambda state: family.train_step(state, batch, rng)[0])
  state = family.init_state(jax.random.PRNGKey(0))
  before = loss(state.params)
  for _ in range(300):
    state = step(state)
  assert loss(state.params) < 0.05 * before


def test_guidance_at_w_1_is_the_plain_conditional_model():
  family = point_family(conditional=True)
  params = family.init_state(jax.random.PRNGKey(0)).params
  x = jax.random.normal(jax.random.PRNGKey(1), (16, 2))
  t = jnp.arange(16, dtype=jnp.int32) * 6
  labels = jnp.arange(16, dtype=jnp.int32) % 8
  guided_x0, guided_eps = family.denoiser(params, labels, guidance_scale=1.0)(x, t)
  plain = family.network.apply({"params": params}, x, t.astype(jnp.float32), labels,
                               train=False)
  np.testing.assert_allclose(guided_eps, plain, rtol=1e-5, atol=1e-6)
  # ... while w = 0 is the unconditional (null-label) model, which differs.
  _, unguided_eps = family.denoiser(params, labels, guidance_scale=0.0)(x, t)
  null = family.network.apply({"params": params}, x, t.astype(jnp.float32),
                              jnp.full_like(labels, 8), train=False)
  np.testing.assert_allclose(unguided_eps, null, rtol=1e-5, atol=1e-6)
  assert not np.allclose(plain, null)


@pytest.mark.parametrize("w", [0.0, 1.0])
def test_guidance_at_w_0_or_1_is_one_network_call_with_the_blend_s_values(w):
  family = point_family(conditional=True)
  params = family.init_state(jax.random.PRNGKey(0)).params
  x = jax.random.normal(jax.random.PRNGKey(1), (16, 2))
  t = jnp.arange(16, dtype=jnp.int32) * 6
  labels = jnp.arange(16, dtype=jnp.int32) % 8
  one_call = family.denoiser(params, labels, guidance_scale=w)
  blend = family.denoiser(params, labels, guidance_scale=jnp.float32(w))  # not a Python w
  for got, want in zip(one_call(x, t), blend(x, t)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  # The blend runs the network on a batch of 32 (labelled and null halves); w = 0 or 1 on 16.
  assert "f32[32,2]" in str(jax.make_jaxpr(blend)(x, t))
  assert "f32[32,2]" not in str(jax.make_jaxpr(one_call)(x, t))


def test_guidance_interval_guides_only_the_noise_levels_inside_it():
  family = point_family(conditional=True)
  params = family.init_state(jax.random.PRNGKey(0)).params
  abar = family.schedule.alphas_cumprod
  sigma = np.sqrt((1 - abar) / abar)
  interval = (float(sigma[30]), float(sigma[60]))  # (lo, hi]: t = 31 ... 60
  x = jax.random.normal(jax.random.PRNGKey(1), (16, 2))
  labels = jnp.arange(16, dtype=jnp.int32) % 8
  for t in (jnp.arange(16, dtype=jnp.int32) * 6,       # some inside, some not
            jnp.full((16,), 90, jnp.int32), jnp.full((16,), 30, jnp.int32)):  # none inside
    inside = (np.asarray(t) > 30) & (np.asarray(t) <= 60)
    got = family.denoiser(params, labels, 3.0, interval)(x, t)
    guided = family.denoiser(params, labels, 3.0)(x, t)
    plain = family.denoiser(params, labels, 1.0)(x, t)
    for g, w3, w1 in zip(got, guided, plain):
      np.testing.assert_allclose(g[inside], w3[inside], rtol=1e-5, atol=1e-6)
      np.testing.assert_allclose(g[~inside], w1[~inside], rtol=1e-5, atol=1e-6)
    assert not inside.any() or not np.allclose(guided[0][inside], plain[0][inside])


def test_a_sampler_with_an_interval_around_every_noise_level_guides_every_step():
  family = point_family(conditional=True, sampler="ddim", eta=0.0)
  params = family.init_state(jax.random.PRNGKey(0)).params
  labels = jnp.arange(32, dtype=jnp.int32) % 8
  draw = functools.partial(family.sample, params, jax.random.PRNGKey(1), 32, labels,
                           guidance_scale=3.0)
  np.testing.assert_allclose(draw(guidance_interval=(0.0, 1e9)), draw(guidance_interval=()),
                             rtol=1e-5, atol=1e-5)
  assert not np.allclose(draw(guidance_interval=(0.0, 1.0)), draw(guidance_interval=()),
                         atol=1e-3)


def test_label_dropout_uses_the_null_label():
  family = point_family(conditional=True, label_dropout=1.0)
  state = family.init_state(jax.random.PRNGKey(0))
  batch = {"x": jnp.ones((4, 2)), "labels": jnp.arange(4, dtype=jnp.int32)}
  with_labels = family.loss(state.params, batch, jax.random.PRNGKey(3))[0]
  other = dict(batch, labels=jnp.arange(4, 8, dtype=jnp.int32))
  assert with_labels == family.loss(state.params, other, jax.random.PRNGKey(3))[0]


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpm_solver++", "dpm_solver++_sde"])
@pytest.mark.parametrize("conditional", [False, True])
def test_image_samples_have_the_data_shape_and_range(sampler, conditional):
  family = image_family(conditional)
  params = perturbed_params(family)
  labels = jnp.arange(4, dtype=jnp.int32) if conditional else None
  sample = jax.jit(functools.partial(family.sample_with_trajectory, num=4, sampler=sampler,
                                     steps=None if sampler == "ddpm" else 5,
                                     eta=0.0 if sampler == "ddim" else None,
                                     guidance_scale=2.0, clip_x0=True, keep_trajectory=True))
  x, trajectory = sample(params, jax.random.PRNGKey(1), labels=labels)
  assert x.shape == (4, 14, 14, 1) and x.dtype == jnp.float32
  assert trajectory.shape == ((20 if sampler == "ddpm" else 5), 4, 14, 14, 1)
  assert np.all(np.isfinite(x)) and np.abs(x).max() <= 1.0 + 1e-5


@pytest.mark.parametrize("sampler", ["ddim", "dpm_solver++_sde"])
def test_clip_x0_off_leaves_each_step_s_prediction_unclipped(sampler):
  """With clipping the last step's x0_hat, the output, lies in [-1, 1]; without
  it a network that overshoots draws beyond, and the run's diffusion.clip_x0 is
  what a sampler gets when the caller does not choose."""
  family = image_family()
  params = perturbed_params(family)

  def draw(params, clip_x0):  # traced afresh each time, so it reads the config now
    return jax.jit(lambda p: family.sample(p, jax.random.PRNGKey(1), 4, sampler=sampler,
                                           steps=5, clip_x0=clip_x0))(params)

  clipped, unclipped = draw(params, True), draw(params, False)
  assert np.abs(clipped).max() <= 1.0 + 1e-5 < np.abs(unclipped).max()
  for clip_x0, expected in ((True, clipped), (False, unclipped)):
    family.config.diffusion.clip_x0 = clip_x0
    np.testing.assert_array_equal(draw(params, None), expected)


@pytest.mark.parametrize("family, steps, rows", [(image_family(conditional=True), 20, 8),
                                                 (point_family(), 10, 12)])
def test_sample_grid_draws_what_sample_does_and_its_trajectory(family, steps, rows, tmp_path):
  """The run's grid sampler also returns the denoising trajectory its figure
  pictures: the first 8 images (every point), ending at the samples, which are
  the ones `sample` draws from the same noise."""
  params = perturbed_params(family)
  labels = jnp.arange(12, dtype=jnp.int32) % 10 if family.num_classes else None
  grid = jax.jit(lambda p: family.sample_grid(p, jax.random.PRNGKey(1), 12, labels))
  x, trajectory = grid(params)
  np.testing.assert_array_equal(
      x, jax.jit(lambda p: family.sample(p, jax.random.PRNGKey(1), 12, labels))(params))
  assert trajectory.shape == (steps, rows) + family.spec.shape
  np.testing.assert_array_equal(trajectory[-1], x[:rows])
  family.write_figures(None, None, tmp_path, {}, trajectory)
  assert (tmp_path / "denoising_trajectory.png").is_file()


def test_min_snr_loss_weights_each_example_of_the_eps_loss():
  """eps weights are min(SNR, gamma) / SNR: 1 for a gamma above every SNR, below
  1 where SNR > gamma."""
  def loss(**diffusion):
    family = point_family(**diffusion)
    params = family.init_state(jax.random.PRNGKey(0)).params
    batch = {"x": jax.random.normal(jax.random.PRNGKey(1), (64, 2)),
             "labels": jnp.zeros((64,), jnp.int32)}
    return float(family.loss(params, batch, jax.random.PRNGKey(2))[0])

  plain = loss()
  assert loss(loss_weighting="min_snr", min_snr_gamma=1e12) == pytest.approx(plain, rel=1e-5)
  assert loss(loss_weighting="min_snr", min_snr_gamma=1.0) < 0.95 * plain
