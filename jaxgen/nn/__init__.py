"""Network building blocks shared by the model families."""

from jaxgen.nn.layers import (Downsample, ResBlock, SelfAttention2D, TimeEmbedding,
                              Upsample, sinusoidal_embedding)
from jaxgen.nn.mlp import MLP, MLPDenoiser
from jaxgen.nn.unet import UNet
