"""Precision, recall, density and coverage against a brute-force numpy version."""

import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.metrics import prdc


def _numpy_prdc(real, fake, nearest_k):
  """The definitions of clovaai/generative-evaluation-prdc, float64, [N, M] at once."""
  real, fake = real.astype(np.float64), fake.astype(np.float64)

  def distances(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))

  # Column 0 of each sorted row is the point itself.
  real_radii = np.sort(distances(real, real), axis=1)[:, nearest_k]
  fake_radii = np.sort(distances(fake, fake), axis=1)[:, nearest_k]
  real_fake = distances(real, fake)
  inside_real_balls = real_fake < real_radii[:, None]
  return {"precision": inside_real_balls.any(axis=0).mean(),
          "recall": (real_fake < fake_radii[None, :]).any(axis=1).mean(),
          "density": inside_real_balls.sum(axis=0).mean() / nearest_k,
          "coverage": (real_fake.min(axis=1) < real_radii).mean()}


def _sets(seed, num_real=60, num_fake=50, dim=8):
  """Reals N(0, 1) and fakes N(0.7, 1): overlapping, so no metric is 0 or 1."""
  rng = np.random.default_rng(seed)
  real = rng.normal(size=(num_real, dim)).astype(np.float32)
  fake = (0.7 + rng.normal(size=(num_fake, dim))).astype(np.float32)
  return real, fake


@pytest.mark.parametrize("seed,nearest_k", [(0, 5), (1, 5), (2, 3)])
def test_matches_brute_force_numpy(seed, nearest_k):
  real, fake = _sets(seed)
  expected = _numpy_prdc(real, fake, nearest_k)
  assert not any(value in (0.0, 1.0) for value in expected.values())
  got = prdc.prdc(real, fake, nearest_k=nearest_k, block_size=16)
  assert got == pytest.approx(expected, abs=1e-6)


def test_a_large_common_offset_changes_nothing():
  # Pool3 features share a large positive mean; float32 |a|^2 + |b|^2 - 2ab
  # around it would lose the small distances without centring.
  real, fake = _sets(0)
  real, fake = real + np.float32(1000), fake + np.float32(1000)
  got = prdc.prdc(real, fake)
  assert got == pytest.approx(_numpy_prdc(real, fake, prdc.NEAREST_K), abs=1e-6)


def test_identical_sets_score_one():
  real, _ = _sets(3, num_real=80)
  got = prdc.prdc(real, real.copy())
  assert got["precision"] == got["recall"] == got["coverage"] == 1.0
  assert got["density"] == pytest.approx(1.0, abs=0.02)


def test_far_apart_sets_score_zero():
  real, fake = _sets(4)
  got = prdc.prdc(real, fake + 100.0)
  assert got == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_blocks_do_not_change_the_result():
  real, fake = _sets(5, num_real=130, num_fake=97, dim=16)
  whole = prdc.prdc(real, fake, block_size=1024)
  assert prdc.prdc(real, fake, block_size=7) == whole


@pytest.mark.parametrize("real_shape,fake_shape,kwargs,message", [
    ((60, 8), (50, 4), {}, "one width"),
    ((60,), (50, 8), {}, "one width"),
    ((5, 8), (50, 8), {}, "more than 5 features"),
    ((60, 8), (3, 8), {"nearest_k": 3}, "more than 3 features"),
    ((60, 8), (50, 8), {"nearest_k": 0}, "at least 1"),
])
def test_bad_input_is_a_usage_error(real_shape, fake_shape, kwargs, message):
  with pytest.raises(UsageError, match=message):
    prdc.prdc(np.zeros(real_shape, np.float32), np.zeros(fake_shape, np.float32),
              **kwargs)
