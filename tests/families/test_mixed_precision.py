"""config.compute_dtype=bfloat16: networks compute in bfloat16, everything else
stays float32 (parameters, optimizer state, losses, schedules, samplers).

Checked on the traced programs (jax.make_jaxpr: nothing is compiled), for every
network of every family, on images and on points."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import families
from jaxgen.errors import UsageError
from jaxgen.families.family import DataSpec
from jaxgen.metrics import features, inception

MATMULS = ("dot_general", "conv_general_dilated")
# Matmuls that run in float32 by design, by where they run: flax keeps
# attention weights float32 after its float32 softmax, so their product with
# the values (this einsum) is float32; a spectral norm's power iteration
# estimates the float32 kernel's largest singular value.
FLOAT32_BY_DESIGN = ("...hqk,...khd->...qhd", "_spectral_normalize")
SPECS = {"mnist": DataSpec((28, 28, 1), 10), "gmm_ring8": DataSpec((2,), 8)}


def equations(jaxpr):
  """Every equation of a (closed) jaxpr, sub-jaxprs (scan, cond, pjit, ...) included."""
  for eqn in jaxpr.eqns:
    yield eqn
    for value in eqn.params.values():
      for sub in value if isinstance(value, (tuple, list)) else (value,):
        inner = getattr(sub, "jaxpr", sub)
        if hasattr(inner, "eqns"):
          yield from equations(inner)


def matmul_dtypes(closed_jaxpr, where=lambda name_stack: True):
  """The input dtypes of every matmul and convolution in the program whose name
  stack (the flax modules it runs in) `where` accepts, but those float32 by
  design."""
  dtypes = set()
  for eqn in equations(closed_jaxpr.jaxpr):
    name_stack = str(eqn.source_info.name_stack)
    if (eqn.primitive.name in MATMULS and where(name_stack)
        and not any(part in name_stack for part in FLOAT32_BY_DESIGN)):
      dtypes |= {str(var.aval.dtype) for var in eqn.invars}
  return dtypes


# (model, dataset, preset, overrides): every network of every family.
CASES = [
    ("ddim", "mnist", "cpu", ()),                          # UNet
    ("ddim", "gmm_ring8", "cpu", ()),                      # MLP denoiser
    ("cgan", "mnist", "cpu", ()),                          # MLP pair, projection critic
    ("lsgan", "gmm_ring8", "cpu", ()),
    ("gan", "mnist", "full", ()),                          # DCGAN, BatchNorm critic
    ("wgan_gp", "mnist", "full", ()),                      # DCGAN, gradient penalty
    ("gan", "mnist", "cpu", ("gan.architecture=resnet",)),  # spectral-norm ResNets
    ("cvae", "mnist", "full", ()),                         # conv autoencoder
    ("vae", "gmm_ring8", "cpu", ()),                       # MLP autoencoder
    ("ae", "mnist", "cpu", ()),
]


def family_for(model, dataset, dtype, preset="cpu", overrides=()):
  config = config_lib.get_config(model, dataset, preset)
  config_lib.apply_overrides(config, [f"compute_dtype={dtype}", *overrides])
  config_lib.check(config)
  return config, families.MODELS.get(model).family(config, SPECS[dataset])


def train_step_program(family, spec):
  """(jaxpr, output shapes) of one train step on a batch of 10 (wgan_gp splits
  it over 5 critic updates)."""
  state = jax.eval_shape(family.init_state, jax.random.PRNGKey(0))
  batch = {"x": jnp.zeros((10,) + spec.shape, jnp.float32),
           "labels": jnp.zeros((10,), jnp.int32)}
  args = (state, batch, jax.random.PRNGKey(1))
  return jax.make_jaxpr(family.train_step)(*args), jax.eval_shape(family.train_step, *args)


@pytest.mark.parametrize("model, dataset, preset, overrides", CASES)
def test_bfloat16_networks_leave_params_and_losses_float32(model, dataset, preset, overrides):
  config, family = family_for(model, dataset, "bfloat16", preset, overrides)
  jaxpr, outputs = train_step_program(family, SPECS[dataset])
  # Every matmul and convolution reads bfloat16 operands, the forward and
  # the backward pass alike.
  assert matmul_dtypes(jaxpr) == {"bfloat16"}, model
  # The new state (params, EMA, optimizer and model state) and every metric.
  floats = {str(leaf.dtype) for leaf in jax.tree.leaves(outputs)
            if jnp.issubdtype(leaf.dtype, jnp.floating)}
  assert floats == {"float32"}, (model, floats)


def test_float32_is_the_default():
  config, family = family_for("ddim", "mnist", "float32")
  assert config_lib.get_config("ddim", "mnist", "full").compute_dtype == "float32"
  assert matmul_dtypes(train_step_program(family, SPECS["mnist"])[0]) == {"float32"}


@pytest.mark.parametrize("sampler", ["ddim", "ddpm", "dpm_solver++", "dpm_solver++_sde"])
def test_bfloat16_diffusion_samplers_update_in_float32(sampler):
  """The UNet runs in bfloat16 inside the sampler's scan; the carried x_t, the
  schedule and the samples are float32."""
  config, family = family_for("ddim", "mnist", "bfloat16")
  assert family.schedule.alphas_cumprod.dtype == jnp.float32
  params = jax.eval_shape(family.init_state, jax.random.PRNGKey(0)).params
  jaxpr = jax.make_jaxpr(lambda p, rng: family.sample(p, rng, 2, sampler=sampler, steps=4
                                                      if sampler != "ddpm" else None))(
      params, jax.random.PRNGKey(0))
  scans = [eqn for eqn in equations(jaxpr.jaxpr) if eqn.primitive.name == "scan"]
  assert scans
  for scan in scans:
    carried = scan.outvars[:scan.params["num_carry"]]
    assert {str(v.aval.dtype) for v in carried if jnp.issubdtype(v.aval.dtype, jnp.floating)
            } == {"float32"}
  assert matmul_dtypes(jaxpr, lambda name_stack: "UNet" in name_stack) == {"bfloat16"}
  # The solver's own combinations of network outputs (DPM-Solver++'s multistep).
  assert matmul_dtypes(jaxpr, lambda name_stack: "UNet" not in name_stack) <= {"float32"}
  assert [str(a.dtype) for a in jaxpr.out_avals] == ["float32"]


def test_attention_softmax_and_group_norm_statistics_stay_float32():
  """exp (the softmax) and the normalisation statistics' means are float32 in
  a bfloat16 UNet: only matmuls, convolutions and elementwise work use bfloat16."""
  config, family = family_for("ddim", "mnist", "bfloat16")
  params = jax.eval_shape(family.init_state, jax.random.PRNGKey(0)).params
  jaxpr = jax.make_jaxpr(lambda p, x: family.network.apply(
      {"params": p}, x, jnp.zeros((2,)), train=False))(params, jnp.zeros((2, 28, 28, 1)))
  exps = [eqn for eqn in equations(jaxpr.jaxpr) if eqn.primitive.name == "exp"]
  assert exps and {str(eqn.outvars[0].aval.dtype) for eqn in exps} == {"float32"}
  sums = [eqn for eqn in equations(jaxpr.jaxpr) if eqn.primitive.name == "reduce_sum"]
  assert sums and {str(eqn.outvars[0].aval.dtype) for eqn in sums} == {"float32"}


def test_a_bfloat16_unet_agrees_with_float32_to_bfloat16_precision():
  config, family = family_for("ddim", "mnist", "bfloat16")
  _, reference = family_for("ddim", "mnist", "float32")
  # Random weights: the zero-initialised output conv would hide every difference.
  rng = np.random.default_rng(0)
  params = jax.tree.map(lambda p: rng.normal(0, 0.1, p.shape).astype(np.float32),
                        jax.eval_shape(family.init_state, jax.random.PRNGKey(0)).params)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 28, 28, 1))
  t = jnp.array([10.0, 700.0])
  out16, out32 = (jax.jit(lambda p: net.network.apply({"params": p}, x, t, train=False))(
      params) for net in (family, reference))
  assert out16.dtype == out32.dtype == jnp.float32
  error = float(jnp.linalg.norm(out16 - out32) / jnp.linalg.norm(out32))
  assert 1e-4 < error < 0.05, error


def test_an_unknown_compute_dtype_is_refused():
  config = config_lib.get_config("ddim", "mnist", "cpu")
  config.compute_dtype = "float16"
  with pytest.raises(UsageError, match="compute_dtype.*bfloat16, float32"):
    config_lib.check(config)


def test_fid_features_are_float32_whatever_the_runs_compute_dtype():
  """Inception takes no compute dtype: FID is computed the same way for a
  bfloat16 run as for a float32 one."""
  images = jax.ShapeDtypeStruct((2, 28, 28, 3), jnp.uint8)
  params = jax.eval_shape(inception.InceptionV3().init, jax.random.PRNGKey(0),
                          jax.ShapeDtypeStruct((1, 299, 299, 3), jnp.float32))["params"]
  jaxpr = jax.make_jaxpr(features._pool3)(params, images)  # pylint: disable=protected-access
  assert matmul_dtypes(jaxpr) == {"float32"}
  assert [str(a.dtype) for a in jaxpr.out_avals] == ["float32"]
