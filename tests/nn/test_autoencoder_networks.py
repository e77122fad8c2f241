"""Autoencoder networks: output shapes, conditioning and the conv size check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn.autoencoder_conv import ConvDecoder, ConvEncoder
from jaxgen.nn.autoencoder_mlp import MLPDecoder, MLPEncoder


def output_of(module, *inputs):
  params = module.init(jax.random.PRNGKey(0), *inputs)
  return module.apply(params, *inputs)


@pytest.mark.parametrize("encoder, decoder", [
    (MLPEncoder((32,), 6), MLPDecoder((32,), (28, 28, 1))),
    (ConvEncoder((4, 8), (16,), 6), ConvDecoder((4, 8), (16,), (28, 28, 1))),
])
@pytest.mark.parametrize("num_classes", [0, 10])
def test_shapes_with_and_without_a_condition(encoder, decoder, num_classes):
  condition = jax.nn.one_hot(jnp.arange(3), 10) if num_classes else None
  codes = output_of(encoder, jnp.zeros((3, 28, 28, 1)), condition)
  assert codes.shape == (3, 6)
  assert output_of(decoder, codes, condition).shape == (3, 28, 28, 1)


def test_the_condition_changes_the_output():
  decoder = MLPDecoder((16,), (4, 4, 1))
  z = jnp.ones((2, 3))
  params = decoder.init(jax.random.PRNGKey(0), z, jax.nn.one_hot(jnp.array([0, 0]), 2))
  same = decoder.apply(params, z, jax.nn.one_hot(jnp.array([0, 0]), 2))
  other = decoder.apply(params, z, jax.nn.one_hot(jnp.array([0, 1]), 2))
  np.testing.assert_array_equal(same[0], same[1])
  assert not np.allclose(other[0], other[1])


def test_conv_decoder_refuses_sides_it_cannot_halve():
  with pytest.raises(ValueError, match="not divisible by 8"):
    output_of(ConvDecoder((4, 8, 8), (), (28, 28, 1)), jnp.zeros((1, 2)))
