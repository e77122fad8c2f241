"""Config checks: every shipped default passes; values no run can use are named."""

import textwrap

import pytest

from jaxgen import config as config_lib
from jaxgen import data
from jaxgen.errors import UsageError
from jaxgen.families import MODELS


@pytest.mark.parametrize("preset", config_lib.PRESETS)
@pytest.mark.parametrize("model", MODELS.names())
def test_every_default_config_passes_the_check(model, preset):
  for dataset in data.names():
    config_lib.check(config_lib.get_config(model, dataset, preset))


@pytest.mark.parametrize("model,override,message", [
    ("ddim", "num_steps=0", "'num_steps' must be at least 1, got 0"),
    ("ddim", "fid.every=-5", "'fid.every' must be at least 0, got -5"),
    ("ddim", "net.channel_mults=(1,0)", "'net.channel_mults' must be whole numbers of at "
     "least 1, got (1, 0)"),
    ("ddim", "net.dropout=1.0", "'net.dropout' must be in [0, 1), got 1.0"),
    ("gan", "optim_d.learning_rate=0.0", "'optim_d.learning_rate' must be positive"),
    ("vae", "optim.b2=1.5", "'optim.b2' must be in [0, 1), got 1.5"),
    ("ddpm", "diffusion.timesteps=0", "'diffusion.timesteps' must be at least 1, got 0"),
    ("ddim", "diffusion.sample_steps=2000", "'diffusion.sample_steps' must be in [1, "
     "diffusion.timesteps = 1000], got 2000"),
    ("ddim", "diffusion.eta=1.5", "'diffusion.eta' must be in [0, 1], got 1.5"),
    ("gan", "gan.latent_dim=0", "'gan.latent_dim' must be at least 1, got 0"),
    ("wgan_gp", "gan.gp_weight=-10.0", "'gan.gp_weight' must be at least 0"),
    ("vae", "autoencoder.beta=-1.0", "'autoencoder.beta' must be at least 0, got -1.0"),
    ("vae", "autoencoder.cycle_ramp=0.0", "'autoencoder.cycle_ramp' must be in (0, 1]"),
    ("vae", "autoencoder.kind=gan", "'autoencoder.kind' must be one of: ae, vae, got 'gan'"),
    ("ddim", "diffusion.target=vv", "'diffusion.target' must be one of: eps, v, x0, got 'vv'"),
    ("ddim", "diffusion.solver_spacing=uniform",
     "'diffusion.solver_spacing' must be one of: logsnr, time, got 'uniform'"),
    ("gan", "net.d_norm=group", "'net.d_norm' must be one of: batch, layer, none"),
    ("gan", "optim_g.decay=exp", "'optim_g.decay' must be one of: constant, cosine, linear"),
])
def test_unusable_values_name_the_field_and_the_fix(model, override, message):
  config = config_lib.apply_overrides(config_lib.get_config(model, "mnist", "cpu"),
                                      [override])
  with pytest.raises(UsageError) as error:
    config_lib.check(config)
  assert message in str(error.value)
  assert f"--config.{override.split('=')[0]}=VALUE" in str(error.value)


@pytest.mark.parametrize("text, value", [("True", True), ("true", True), ("FALSE", False)])
def test_a_boolean_override_takes_any_case(text, value):
  config = config_lib.apply_overrides(config_lib.get_config("ddim", "mnist", "cpu"),
                                      [f"conditional={text}"])
  assert config.conditional is value


def test_a_boolean_field_refuses_other_words():
  with pytest.raises(UsageError) as error:
    config_lib.apply_overrides(config_lib.get_config("gan", "mnist", "cpu"),
                               ["conditional=yes"])
  assert str(error.value) == ("bad value for config field 'conditional': 'yes' is no bool "
                              "(default False); --config.conditional=VALUE")


@pytest.mark.parametrize("preset", config_lib.PRESETS)
@pytest.mark.parametrize("model", MODELS.names())
def test_every_config_is_shipped_in_full_and_starts_from_its_file(model, preset):
  """jaxgen/configs/ holds each config as --print-config prints it (rewritten by
  scripts/make_configs.py), and from_file reads it back, tuples and all, by
  path or by name, for images and points."""
  for dataset in config_lib.SHIPPED_DATASETS:
    config = config_lib.get_config(model, dataset, preset)
    name = config_lib.shipped_name(model, dataset, preset)
    path = config_lib.SHIPPED_DIR / f"{name}.json"
    assert path.read_text() == config_lib.to_json(config), "run scripts/make_configs.py"
    assert config_lib.from_file(name) == config
    assert config_lib.from_file(str(path)) == config


def test_jaxgen_configs_holds_no_stale_file():
  assert config_lib.shipped_configs() == sorted(
      config_lib.shipped_name(model, dataset, preset) for model in MODELS.names()
      for dataset in config_lib.SHIPPED_DATASETS for preset in config_lib.PRESETS)


def test_a_python_config_file_takes_its_argument(tmp_path):
  """The Flax examples' convention: FILE.py defines get_config(), FILE.py:ARG passes ARG."""
  path = tmp_path / "mine.py"
  path.write_text(textwrap.dedent("""\
      from jaxgen import config as config_lib

      def get_config(dataset="mnist"):
        config = config_lib.get_config("vae", dataset, "cpu")
        config.num_steps = 7
        return config
      """))
  config = config_lib.from_file(f"{path}:gmm_ring8")
  expected = config_lib.get_config("vae", "gmm_ring8", "cpu")
  expected.num_steps = 7
  assert config == expected
  assert config_lib.from_file(str(path)).dataset == "mnist"


