"""jaxgen.runtime: the XLA flags jaxgen adds to XLA_FLAGS, and what it leaves alone."""

import os

import pytest

from jaxgen import runtime

FLAG = runtime._XLA_CPU_FLAGS[0][0]
NAME = FLAG.split("=")[0]


@pytest.fixture
def env(monkeypatch):
  """A measured jaxlib, no opt-out and no XLA_FLAGS; the test sets what it needs."""
  monkeypatch.setattr(runtime, "_jaxlib_version", lambda: "0.10.2")
  monkeypatch.delenv("JAXGEN_NO_XLA_FLAGS", raising=False)
  monkeypatch.delenv("XLA_FLAGS", raising=False)
  return monkeypatch


def test_adds_the_flag_after_the_users_own(env):
  env.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
  runtime.add_xla_flags()
  assert os.environ["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=2", FLAG]


def test_a_value_the_user_chose_is_kept(env):
  env.setenv("XLA_FLAGS", f"{NAME}=-individual_convolution")
  runtime.add_xla_flags()
  assert os.environ["XLA_FLAGS"] == f"{NAME}=-individual_convolution"


@pytest.mark.parametrize("opt_out, version", [("1", "0.10.2"), ("0", "0.11.0")])
def test_nothing_added_when_opted_out_or_on_an_unmeasured_jaxlib(env, opt_out, version):
  env.setenv("JAXGEN_NO_XLA_FLAGS", opt_out)
  env.setattr(runtime, "_jaxlib_version", lambda: version)
  runtime.add_xla_flags()
  assert "XLA_FLAGS" not in os.environ
