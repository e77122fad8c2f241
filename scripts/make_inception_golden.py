"""Makes tests/metrics/golden/: reference outputs of the TorchScript FID model.

Uses torch (an optional tool here; the jaxgen package never imports it):

  pip install torch==2.13.0
  python scripts/make_inception_golden.py \
      --weights ../shared/data/fid_inception/default_1.pt

Writes
- inception_golden.npz: small fixed uint8 images (4 RGB 32x32, 2 gray 28x28),
  their pytorch-fid preprocessing (ToTensor, bilinear resize to 299 with
  align_corners=False, 2x-1; every 13th pixel kept), their pool3 features
  from default_1.pt, and two small torch resizes (up and down);
- tiny_legacy.pth, tiny_zip.pth: one small state dict saved in both torch.save
  formats, for the numpy reader's tests.
"""

import argparse
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

GOLDEN_DIR = (pathlib.Path(__file__).resolve().parent.parent / "tests" /
              "metrics" / "golden")
SUBSAMPLE = 13


def rgb_images() -> np.ndarray:
  """[4, 32, 32, 3] uint8: two seeded noise images, a lit disk, stripes."""
  rng = np.random.default_rng(0)
  noise = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
  y, x = np.mgrid[0:32, 0:32].astype(np.float64)
  disk = (np.hypot(y - 14, x - 18) < 9).astype(np.float64)
  lit = np.stack([200 * disk + 2 * x, 120 * disk + 3 * y, 60 + 4 * x * disk],
                 -1)
  stripes = np.stack([128 + 127 * np.sin(x / 2), 128 + 127 * np.cos(y / 3),
                      128 + 100 * np.sin((x + y) / 5)], -1)
  smooth = np.clip(np.round(np.stack([lit, stripes])), 0, 255).astype(np.uint8)
  return np.concatenate([noise, smooth])


def gray_images() -> np.ndarray:
  """[2, 28, 28, 1] uint8 MNIST-like strokes: a ring and a slanted bar."""
  y, x = np.mgrid[0:28, 0:28].astype(np.float64)
  ring = np.exp(-((np.hypot(y - 14, x - 14) - 7) ** 2) / 3)
  bar = np.exp(-((x - 14 - 0.3 * (y - 14)) ** 2) / 4) * (np.abs(y - 14) < 10)
  strokes = np.stack([ring, bar])[..., None]
  return np.round(255 * strokes).astype(np.uint8)


def torch_resize(images: np.ndarray, size) -> torch.Tensor:
  """uint8 NHWC -> torch's bilinear resize of x/255, NCHW float32."""
  x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
  return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def inception_input(images: np.ndarray) -> torch.Tensor:
  """pytorch-fid's preprocessing: gray -> RGB, [0,1], resize 299, [-1,1]."""
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  return 2 * torch_resize(images, (299, 299)) - 1


def nhwc(x: torch.Tensor) -> np.ndarray:
  return x.permute(0, 2, 3, 1).numpy()


def write_tiny_state_dicts() -> None:
  state = {
      "layer.conv.weight":
          torch.arange(6, dtype=torch.float32).reshape(2, 3, 1, 1),
      "layer.bn.running_var": torch.linspace(0.5, 2.0, 4, dtype=torch.float64),
      "layer.bn.num_batches_tracked": torch.tensor(7),
      "transposed": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),
  }
  torch.save(state, GOLDEN_DIR / "tiny_legacy.pth",
             _use_new_zipfile_serialization=False)
  torch.save(state, GOLDEN_DIR / "tiny_zip.pth")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--weights", required=True, help="default_1.pt")
  args = parser.parse_args()
  model = torch.jit.load(args.weights, map_location="cpu").eval()
  golden = {}
  for name, images in (("rgb", rgb_images()), ("gray", gray_images())):
    x = inception_input(images)
    with torch.no_grad():
      golden[f"{name}_features"] = model(x).numpy()
    golden[f"{name}_images"] = images
    golden[f"{name}_inputs_sub"] = nhwc(x)[:, ::SUBSAMPLE, ::SUBSAMPLE]
  rng = np.random.default_rng(1)
  for name, shape, size in (("up", (1, 7, 5, 2), (13, 11)),
                            ("down", (1, 37, 23, 1), (16, 9))):
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    golden[f"resize_{name}_in"] = images
    golden[f"resize_{name}_out"] = nhwc(torch_resize(images, size))
  GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
  np.savez_compressed(GOLDEN_DIR / "inception_golden.npz", **golden)
  write_tiny_state_dicts()


if __name__ == "__main__":
  main()
