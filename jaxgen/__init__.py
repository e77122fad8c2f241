"""jaxgen: GANs, autoencoders/VAEs and diffusion models of images in JAX/Flax."""

__version__ = "0.1.0"
