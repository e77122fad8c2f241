"""The CPU-gap leads script (experiments/bench/cpu_leads/leads.py): its
variants compute what they stand in for, so its timings compare like with like."""

import importlib.util
import pathlib

import jax
import flax.linen as nn
import numpy as np
import pytest

SCRIPT = (pathlib.Path(__file__).resolve().parents[2] / "experiments" / "bench" / "cpu_leads"
          / "leads.py")


def load_leads():
  spec = importlib.util.spec_from_file_location("cpu_leads", SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_folded_group_norm_equals_flax_group_norm():
  leads = load_leads()
  rng = np.random.default_rng(0)
  x = (3 * rng.standard_normal((4, 7, 7, 64)) + 1).astype(np.float32)
  params = nn.GroupNorm(num_groups=8).init(jax.random.PRNGKey(0), x)
  params = jax.tree.map(lambda p: p + rng.standard_normal(p.shape).astype(np.float32), params)
  np.testing.assert_allclose(leads.AffineGroupNorm(num_groups=8).apply(params, x),
                             nn.GroupNorm(num_groups=8).apply(params, x), atol=1e-5)


def test_weight_gradient_by_hand_is_jax_s_own():
  checks = load_leads().weight_gradient_by_hand()
  assert checks["max_abs_difference"] == 0.0
  assert "lhs_spec=(3, 0, 1, 2)" in checks["jax_rule"]  # batch and features swapped


def test_layouts_and_the_torch_twin_compute_the_same_step():
  leads = load_leads()
  leads.BATCH = 2
  nhwc_loss, (nhwc_dx, nhwc_dkernel) = leads.conv_grad("NHWC", 8, 16, 7)()
  nchw_loss, (nchw_dx, nchw_dkernel) = leads.conv_grad("NCHW", 8, 16, 7)()
  np.testing.assert_allclose(nchw_loss, nhwc_loss, rtol=1e-5)
  np.testing.assert_allclose(np.asarray(nchw_dx).transpose(0, 2, 3, 1), nhwc_dx, rtol=1e-4,
                             atol=1e-3)
  np.testing.assert_allclose(np.asarray(nchw_dkernel).transpose(2, 3, 1, 0), nhwc_dkernel,
                             rtol=1e-4, atol=1e-2)
  pytest.importorskip("torch")
  twin_dx, twin_dkernel = leads.torch_conv_grad("channels_last", 8, 16, 7)()
  np.testing.assert_allclose(twin_dx.detach().numpy(), nchw_dx, rtol=1e-4, atol=1e-3)
  np.testing.assert_allclose(twin_dkernel.detach().numpy(), nchw_dkernel, rtol=1e-4, atol=1e-2)
