"""Model families. Importing this package registers every `--model` name."""

from jaxgen.families.family import MODELS, DataSpec, Family, ModelEntry, cycling_labels
from jaxgen.families.diffusion import family as _diffusion  # registers ddpm, ddim
from jaxgen.families.autoencoder import family as _autoencoder  # registers ae, vae, cvae
from jaxgen.families.gan import family as _gan  # registers gan, lsgan, wgan_gp, cgan
