"""KL weight schedules: values at chosen steps."""

import ml_collections
import numpy as np
import pytest

from jaxgen.errors import UsageError
from jaxgen.families.autoencoder.beta import BETA_SCHEDULES


def schedule(name, **options):
  defaults = dict(beta=0.8, warmup_steps=100, cycle_steps=100, cycle_ramp=0.5)
  return BETA_SCHEDULES.get(name)(ml_collections.ConfigDict({**defaults, **options}))


@pytest.mark.parametrize("name, expected", [
    ("constant", {0: 0.8, 50: 0.8, 10_000: 0.8}),
    ("linear_warmup", {0: 0.0, 25: 0.2, 50: 0.4, 100: 0.8, 10_000: 0.8}),
    ("cyclical", {0: 0.0, 25: 0.4, 50: 0.8, 99: 0.8, 100: 0.0, 125: 0.4, 360: 0.8}),
])
def test_beta_at_chosen_steps(name, expected):
  beta = schedule(name)
  for step, value in expected.items():
    assert float(beta(np.int32(step))) == pytest.approx(value, abs=1e-6), step


def test_unknown_schedule_names_the_choices():
  with pytest.raises(UsageError, match="constant, cyclical, linear_warmup"):
    BETA_SCHEDULES.get("sigmoid")
