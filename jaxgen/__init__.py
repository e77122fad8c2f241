"""jaxgen: GANs, autoencoders/VAEs and diffusion models of images in JAX/Flax."""

from jaxgen import runtime as _runtime  # XLA settings, before JAX starts a backend

__version__ = "0.1.0"
