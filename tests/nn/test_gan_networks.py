"""GAN networks: shapes and ranges, state collections, and critics whose scores
do not mix examples (what a gradient penalty needs)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.dcgan import DCGANCriticBody, DCGANGenerator
from jaxgen.nn.gan_mlp import MLPCriticBody, MLPGenerator
from jaxgen.nn.resnet_gan import ResNetGenerator, SNResNetCriticBody

SHAPE = (8, 8, 1)
GENERATORS = {
    "mlp": MLPGenerator((16, 32), SHAPE),
    "dcgan": DCGANGenerator(SHAPE, channels=4),
    "resnet": ResNetGenerator(SHAPE, channels=4),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_make_images_in_range_and_carry_batch_stats(name):
  generator = GENERATORS[name]
  z = jax.random.normal(jax.random.PRNGKey(0), (3, 5))
  variables = generator.init(jax.random.PRNGKey(1), z, train=False)
  x, updates = generator.apply(variables, z, train=True, mutable=["batch_stats"])
  assert x.shape == (3,) + SHAPE and x.dtype == jnp.float32
  assert np.all(np.abs(x) <= 1.0)
  before = jax.tree_util.tree_leaves(variables["batch_stats"])
  after = jax.tree_util.tree_leaves(updates["batch_stats"])
  assert any(not np.allclose(a, b) for a, b in zip(before, after))


def test_mlp_generator_for_points_is_linear_and_may_skip_batch_norm():
  generator = MLPGenerator((16,), (2,), batch_norm=False, tanh_output=False)
  z = 10.0 * jnp.ones((4, 3))
  variables = generator.init(jax.random.PRNGKey(0), z, train=False)
  assert "batch_stats" not in variables
  assert generator.apply(variables, z, train=True).shape == (4, 2)


@pytest.mark.parametrize("body", [MLPCriticBody((16, 8)), DCGANCriticBody(4, norm="layer"),
                                  DCGANCriticBody(4, norm="none"), SNResNetCriticBody(4)],
                         ids=["mlp", "dcgan_layer", "dcgan_none", "resnet_sn"])
def test_batch_free_critics_score_each_example_alone(body):
  x = jax.random.normal(jax.random.PRNGKey(0), (4,) + SHAPE)
  variables = body.init(jax.random.PRNGKey(1), x, train=False)
  features, _ = body.apply(variables, x, train=True, mutable=["batch_stats"])
  alone, _ = body.apply(variables, x[:1], train=True, mutable=["batch_stats"])
  np.testing.assert_allclose(features[:1], alone, rtol=1e-5, atol=1e-6)


def test_spectral_norm_state_advances_only_in_training():
  body = SNResNetCriticBody(4)
  x = jax.random.normal(jax.random.PRNGKey(0), (2,) + SHAPE)
  variables = body.init(jax.random.PRNGKey(1), x, train=False)
  sigmas = lambda stats: [v for path, v in jax.tree_util.tree_leaves_with_path(stats)
                          if "sigma" in jax.tree_util.keystr(path)]
  assert sigmas(variables["batch_stats"])
  assert all(s == 1.0 for s in sigmas(variables["batch_stats"]))  # initial value
  _, updates = body.apply(variables, x, train=True, mutable=["batch_stats"])
  assert all(s != 1.0 for s in sigmas(updates["batch_stats"]))
  _, frozen = body.apply(variables, x, train=False, mutable=["batch_stats"])
  assert all(s == 1.0 for s in sigmas(frozen["batch_stats"]))
