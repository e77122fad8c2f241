"""make_optimizer against updates worked out by hand: linear warm-up,
global-norm clipping, Adam's bias-corrected moments and decoupled weight decay."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.errors import UsageError
from jaxgen.training.optim import make_optimizer

# b2 = 0.999 is not exact in float32, and Adam's 1 - b2**t magnifies that to
# ~1e-5 relative; every breakage these tests guard against moves a step by >30%.
RTOL = 1e-4


def optim_config(**fields):
  optim = config_lib.base_config().optim
  optim.update(dict(learning_rate=0.1, warmup_steps=0, b1=0.9, b2=0.999,
                    weight_decay=0.0, grad_clip=0.0))
  optim.update(fields)
  return optim


def updates(optim, gradients, params, num_steps=100, updates_per_step=1):
  """The update of each gradient in turn, [steps, *params.shape] float32."""
  optimizer = make_optimizer(optim, num_steps=num_steps, updates_per_step=updates_per_step)
  params = jnp.asarray(params, jnp.float32)
  state = optimizer.init(params)
  result = []
  for gradient in gradients:
    update, state = optimizer.update(jnp.asarray(gradient, jnp.float32), state, params)
    result.append(np.asarray(update))
  return np.stack(result)


def test_warm_up_raises_the_step_linearly_from_zero():
  # A constant gradient makes Adam's step learning_rate * sign(g) exactly,
  # so the steps read off the schedule: 0.1 * step / 4, then 0.1.
  got = updates(optim_config(warmup_steps=4), [[0.5, -2.0]] * 6, [0.0, 0.0])
  rates = np.array([0.0, 0.025, 0.05, 0.075, 0.1, 0.1])
  np.testing.assert_allclose(got, -rates[:, None] * np.array([1.0, -1.0]), rtol=RTOL)


def test_gradients_are_clipped_to_the_global_norm():
  # [30, 40] (norm 50) is clipped to [0.6, 0.8], the next gradient: to Adam
  # the same gradient twice, so both steps are -learning_rate. Unclipped, the
  # second step would be -0.1 * 0.685.
  got = updates(optim_config(grad_clip=1.0), [[30.0, 40.0], [0.6, 0.8]], [0.0, 0.0])
  np.testing.assert_allclose(got, np.full((2, 2), -0.1), rtol=RTOL)


def test_adam_moments_are_bias_corrected():
  # Gradients +1 then -1: m_hat = (0.9 * 0.1 - 0.1) / (1 - 0.9**2),
  # v_hat = (0.999 * 0.001 + 0.001) / (1 - 0.999**2) = 1.
  got = updates(optim_config(), [[1.0], [-1.0]], [0.0])
  m_hat = (0.9 * 0.1 - 0.1) / (1 - 0.9**2)
  np.testing.assert_allclose(got[:, 0], [-0.1, -0.1 * m_hat], rtol=RTOL)


def test_weight_decay_is_decoupled_from_the_gradient():
  # AdamW: with a zero gradient the step is -lr * weight_decay * params; an L2
  # term inside Adam would be normalised to -lr * sign(params) = [-0.1, 0.1].
  got = updates(optim_config(weight_decay=0.5), [[0.0, 0.0]], [3.0, -4.0])
  np.testing.assert_allclose(got[0], [-0.15, 0.2], rtol=RTOL)


@pytest.mark.parametrize("decay,rates", [
    # After 2 warm-up steps, 4 steps of decay to 0 at step 6.
    ("linear", [0.0, 0.05, 0.1, 0.075, 0.05, 0.025, 0.0]),
    ("cosine", [0.0, 0.05, 0.1] + [0.05 * (1 + np.cos(np.pi * k / 4)) for k in (1, 2, 3, 4)]),
    ("constant", [0.0, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1]),
])
def test_learning_rate_decays_to_zero_at_the_last_step(decay, rates):
  got = updates(optim_config(warmup_steps=2, decay=decay), [[1.0]] * 7, [0.0], num_steps=6)
  np.testing.assert_allclose(got[:, 0], -np.array(rates), rtol=RTOL, atol=1e-7)


def test_a_critics_schedule_counts_loop_steps_not_its_own_updates():
  # Three updates per loop step (a GAN critic's n_critic): the linear decay of
  # 2 warm-up and 2 decay steps spans 12 updates, each rate held for 3 of them.
  got = updates(optim_config(warmup_steps=2, decay="linear"), [[1.0]] * 12, [0.0],
                num_steps=4, updates_per_step=3)
  rates = np.repeat([0.0, 0.05, 0.1, 0.05], 3)
  np.testing.assert_allclose(got[:, 0], -rates, rtol=RTOL, atol=1e-7)


def test_an_unknown_decay_names_the_choices():
  with pytest.raises(UsageError, match="unknown learning-rate decay 'step'; choose one of: "
                     "constant, cosine, linear"):
    make_optimizer(optim_config(decay="step"), num_steps=10)
