"""The EMA of the params, with and without TF's warm-up, against values worked out by hand."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.training.state import ema_update

EMA = {"dense": {"kernel": np.array([[2.0, -1.0]], np.float32)}, "bias": np.float32(4.0)}
PARAMS = {"dense": {"kernel": np.array([[0.0, 3.0]], np.float32)}, "bias": np.float32(-6.0)}


@pytest.mark.parametrize("step, decay_t", [
    (0, 1 / 10),         # warm-up: (1 + step) / (10 + step)
    (5, 6 / 15),
    (90, 91 / 100),
    (10_000, 0.999),     # past the warm-up, 10001 / 10010 > 0.999
])
def test_ema_moves_towards_the_params_by_the_warmed_up_decay(step, decay_t):
  ema = ema_update(EMA, PARAMS, jnp.asarray(step, jnp.int32), 0.999)
  kernel = decay_t * np.array([[2.0, -1.0]]) + (1 - decay_t) * np.array([[0.0, 3.0]])
  bias = decay_t * 4.0 + (1 - decay_t) * -6.0
  assert ema["dense"]["kernel"].dtype == jnp.float32
  np.testing.assert_allclose(ema["dense"]["kernel"], kernel, rtol=1e-6)
  np.testing.assert_allclose(ema["bias"], bias, rtol=1e-6)


def test_a_lower_decay_caps_the_warm_up():
  # At step 90 the warm-up allows 0.91; a decay of 0.5 wins.
  ema = ema_update(EMA, PARAMS, jnp.asarray(90, jnp.int32), 0.5)
  np.testing.assert_allclose(ema["bias"], 0.5 * 4.0 + 0.5 * -6.0, rtol=1e-6)


@pytest.mark.parametrize("step", [0, 5, 10_000])
def test_without_warm_up_the_decay_holds_from_the_first_step(step):
  ema = ema_update(EMA, PARAMS, jnp.asarray(step, jnp.int32), 0.995, warmup=False)
  np.testing.assert_allclose(ema["bias"], 0.995 * 4.0 + 0.005 * -6.0, rtol=1e-6)
