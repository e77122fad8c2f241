import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.interpolation import lerp, slerp


def test_endpoints_and_shapes():
  z0, z1 = jax.random.normal(jax.random.PRNGKey(0), (2, 16))
  for path in (lerp(z0, z1, 7), slerp(z0, z1, 7)):
    assert path.shape == (7, 16)
    np.testing.assert_allclose(path[0], z0, atol=1e-5)
    np.testing.assert_allclose(path[-1], z1, atol=1e-5)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
  z0 = jnp.array([1.0, 0.0])
  z1 = jnp.array([0.0, 1.0])
  np.testing.assert_allclose(jnp.linalg.norm(slerp(z0, z1, 5), axis=1), 1.0, atol=1e-6)
  np.testing.assert_allclose(slerp(z0, z1, 3)[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
  assert jnp.linalg.norm(lerp(z0, z1, 3)[1]) < 0.8


def test_slerp_of_parallel_vectors_is_lerp():
  z = jnp.array([1.0, 2.0])
  np.testing.assert_allclose(slerp(z, 2 * z, 4), lerp(z, 2 * z, 4), atol=1e-6)
