"""Paths between two latent vectors, for interpolation figures (GANs, VAEs)."""

import jax.numpy as jnp


def lerp(z0: jnp.ndarray, z1: jnp.ndarray, num: int) -> jnp.ndarray:
  """Linear path: z0, z1: [D] -> [num, D], endpoints included."""
  w = jnp.linspace(0.0, 1.0, num)[:, None]
  return (1.0 - w) * z0 + w * z1


def slerp(z0: jnp.ndarray, z1: jnp.ndarray, num: int) -> jnp.ndarray:
  """Spherical path (Shoemake 1985; White 2016 for GAN latents): keeps the norm
  typical of Gaussian samples. z0, z1: [D] -> [num, D]; falls back to lerp for
  (nearly) parallel vectors."""
  w = jnp.linspace(0.0, 1.0, num)[:, None]
  cos = jnp.dot(z0, z1) / (jnp.linalg.norm(z0) * jnp.linalg.norm(z1))
  omega = jnp.arccos(jnp.clip(cos, -1.0, 1.0))
  sin = jnp.sin(omega)
  safe = jnp.where(sin < 1e-6, 1.0, sin)
  spherical = (jnp.sin((1.0 - w) * omega) * z0 + jnp.sin(w * omega) * z1) / safe
  return jnp.where(sin < 1e-6, lerp(z0, z1, num), spherical)
