"""split_batch and batch_parallel: a computation spread over the batch gives the
values of one device."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.training import sharding


def _toy_sampler(rng: jax.Array, num: int) -> jax.Array:
  """A scan over steps from noise, like a diffusion sampler: [num, 5, 3]."""
  x = jax.random.normal(rng, (num, 5, 3))
  step = lambda x, t: (jnp.tanh(x @ jnp.eye(3) * (1.0 + t)) + 0.1 * x, None)
  return jax.lax.scan(step, x, jnp.linspace(0.0, 1.0, 7))[0]


def test_split_batch_draws_what_one_device_draws():
  mesh = sharding.make_mesh()
  assert mesh.size == 8
  rng = jax.random.PRNGKey(3)
  spread = jax.jit(lambda key: sharding.split_batch(_toy_sampler(key, 16), mesh),
                   out_shardings=sharding.replicated(mesh))
  on_one = jax.jit(lambda key: _toy_sampler(key, 16))(jax.device_put(rng, jax.devices()[0]))
  on_all = spread(rng)
  assert on_all.sharding.is_fully_replicated
  np.testing.assert_allclose(on_all, on_one, rtol=1e-6, atol=1e-6)
  # The constraint is in the compiled program: each device works on 16 / 8 rows.
  assert "[2,5,3]" in spread.lower(rng).compile().as_text()


def test_batch_parallel_spreads_the_samples_and_keeps_the_rest():
  mesh = sharding.make_mesh()
  rng = jax.random.PRNGKey(4)
  sample = sharding.batch_parallel(lambda key: (_toy_sampler(key, 16), jnp.arange(3)), mesh)
  samples, extra = sample(rng)
  on_one = jax.jit(lambda key: _toy_sampler(key, 16))(jax.device_put(rng, jax.devices()[0]))
  np.testing.assert_allclose(samples, on_one, rtol=1e-6, atol=1e-6)
  assert samples.sharding.is_fully_replicated and extra.sharding.is_fully_replicated
  np.testing.assert_array_equal(extra, np.arange(3))
  assert "[2,5,3]" in sample.lower(rng).compile().as_text()


def test_split_batch_leaves_a_batch_the_mesh_does_not_divide():
  mesh = sharding.make_mesh()
  x = jnp.ones((12, 2))
  assert sharding.split_batch(x, mesh) is x
