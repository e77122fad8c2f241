"""Images -> FID Inception input, exactly as pytorch-fid prepares them.

pytorch-fid reads an image as RGB (grayscale repeated to 3 channels), scales
uint8 to [0, 1], resizes to 299x299 with
`torch.nn.functional.interpolate(mode="bilinear", align_corners=False)` and maps
to [-1, 1]. The resize here is two small interpolation matrices built with the
same float32 arithmetic as torch's CPU kernel, applied with one einsum.
"""

import jax.numpy as jnp
import numpy as np

INCEPTION_SIZE = 299


def resize_matrix(in_size: int, out_size: int) -> np.ndarray:
  """Rows of bilinear weights: [out_size, in_size] float32, each row sums to 1.

  Matches torch's `align_corners=False` source index: (dst + 0.5) * in / out
  - 0.5, clamped at 0, computed in float32.
  """
  scale = np.float32(in_size) / np.float32(out_size)
  dst = np.arange(out_size, dtype=np.float32)
  src = np.maximum(scale * (dst + np.float32(0.5)) - np.float32(0.5),
                   np.float32(0))
  lower = np.floor(src).astype(np.int64)
  upper = np.minimum(lower + 1, in_size - 1)
  upper_weight = src - lower.astype(np.float32)
  matrix = np.zeros((out_size, in_size), np.float32)
  rows = np.arange(out_size)
  np.add.at(matrix, (rows, lower), np.float32(1) - upper_weight)
  np.add.at(matrix, (rows, upper), upper_weight)
  return matrix


def resize_bilinear(images: jnp.ndarray, height: int,
                    width: int) -> jnp.ndarray:
  """torch's bilinear resize (align_corners=False, no antialias).

  Args:
    images: [B, H, W, C] float.
    height, width: output size.

  Returns:
    [B, height, width, C] float32.
  """
  rows = resize_matrix(images.shape[1], height)
  cols = resize_matrix(images.shape[2], width)
  return jnp.einsum("oh,bhwc,pw->bopc", rows, images.astype(jnp.float32), cols,
                    precision="highest")


def to_rgb(images: jnp.ndarray) -> jnp.ndarray:
  """[B, H, W] or [B, H, W, 1|3] -> [B, H, W, 3]; grayscale is repeated."""
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(
        f"images must be [B, H, W] or [B, H, W, 1|3], got {images.shape}")
  if images.shape[-1] == 1:
    images = jnp.repeat(images, 3, axis=-1)
  return images


def inception_input(images: jnp.ndarray) -> jnp.ndarray:
  """uint8 images -> the FID Inception's input.

  Args:
    images: [B, H, W] or [B, H, W, 1|3] uint8 in [0, 255].

  Returns:
    [B, 299, 299, 3] float32 in [-1, 1].
  """
  images = to_rgb(images).astype(jnp.float32) / 255.0
  images = resize_bilinear(images, INCEPTION_SIZE, INCEPTION_SIZE)
  return 2.0 * images - 1.0
