"""Preprocessing against torch's resize (golden arrays from scripts/)."""

import pathlib

import numpy as np
import pytest

from jaxgen.metrics import preprocess

GOLDEN = np.load(
    pathlib.Path(__file__).parent / "golden" / "inception_golden.npz")
SUBSAMPLE = 13  # Every 13th pixel of the 299x299 inputs is stored.


@pytest.mark.parametrize("in_size,out_size", [(28, 299), (37, 16), (5, 5)])
def test_resize_matrix_rows_are_convex_weights(in_size, out_size):
  matrix = preprocess.resize_matrix(in_size, out_size)
  assert matrix.shape == (out_size, in_size)
  assert matrix.min() >= 0
  np.testing.assert_allclose(matrix.sum(axis=1), 1, atol=1e-6)
  if in_size == out_size:
    np.testing.assert_array_equal(matrix, np.eye(in_size))


@pytest.mark.parametrize("name", ["up", "down"])
def test_resize_matches_torch_bilinear(name):
  images = GOLDEN[f"resize_{name}_in"].astype(np.float32) / 255
  expected = GOLDEN[f"resize_{name}_out"]
  resized = preprocess.resize_bilinear(images, *expected.shape[1:3])
  np.testing.assert_allclose(np.asarray(resized), expected, atol=3e-7, rtol=0)


@pytest.mark.parametrize("name", ["rgb", "gray"])
def test_inception_input_matches_pytorch_fid(name):
  x = np.asarray(preprocess.inception_input(GOLDEN[f"{name}_images"]))
  assert x.shape == (len(GOLDEN[f"{name}_images"]), 299, 299, 3)
  assert x.dtype == np.float32
  assert x.min() >= -1 and x.max() <= 1
  np.testing.assert_allclose(x[:, ::SUBSAMPLE, ::SUBSAMPLE],
                             GOLDEN[f"{name}_inputs_sub"], atol=1e-6, rtol=0)


def test_gray_is_repeated_to_rgb():
  gray = GOLDEN["gray_images"]
  np.testing.assert_array_equal(
      np.asarray(preprocess.to_rgb(gray[..., 0])),
      np.repeat(gray, 3, axis=-1))


def test_extremes_map_to_minus_one_and_one():
  images = np.array([0, 255], np.uint8).reshape(2, 1, 1, 1)
  x = np.asarray(preprocess.inception_input(images))
  np.testing.assert_array_equal(x[0], -1)
  np.testing.assert_array_equal(x[1], 1)
