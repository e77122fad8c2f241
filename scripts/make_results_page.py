"""Writes docs/results.md and the README's headline numbers from experiments/.

  python scripts/make_results_page.py          # rewrite both files
  python scripts/make_results_page.py --check  # exit 1 if either is out of date

Every number comes from a JSON file an experiment wrote beside its figures;
the command and hardware come from the same file where it records them, else
from the experiment folder's README (the FALLBACK_* constants below).
"""

import argparse
import importlib.util
import json
import pathlib
import sys
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from jaxgen import config as config_lib
from jaxgen import report
from jaxgen.families.diffusion import dpm_solver, schedules
from jaxgen.families.diffusion import samplers as diffusion_samplers

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS_PAGE = "docs/results.md"
README = "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
MISSING = "—"

FALLBACK_HEADLINE_FID_COMMAND = (
    "python experiments/diffusion_cpu/headline_fid.py --data-dir ../shared/data "
    "--inception-weights ../shared/data/fid_inception/default_1.pt --workdir runs/headline")
FALLBACK_INPUT_PIPELINE_COMMAND = (
    "python scripts/measure_input_pipeline.py --data-dir ../shared/data "
    "--out experiments/diffusion_cpu/input_pipeline.json")
FALLBACK_INPUT_PIPELINE_HARDWARE = "2-core x86_64 CPU, 1 cpu device, beside a test run"
FALLBACK_FID_FLOOR_COMMAND = (
    "python -m jaxgen.experiments.fid mnist:test mnist:train --kid --batch-size 64 "
    "--data-dir ../shared/data --inception-weights ../shared/data/fid_inception/default_1.pt "
    "--save-stats mnist_test.npz ~/.cache/jaxgen/fid_stats/mnist_train.npz "
    "--out experiments/fid_floor/mnist_test_vs_train.json")
FALLBACK_FID_FLOOR_HARDWARE = "2-core CPU, 1 cpu device"
FALLBACK_AUTOENCODER_COMMAND = (
    "python experiments/autoencoder_table/study.py --preset cpu --data-dir ../shared/data "
    "--loss bce")


# Metric values (FID, KID, rates, seconds, fractions, losses) print as
# jaxgen.report prints them everywhere else, keyed by their name in the JSON;
# only the kinds of number it has no format for have their own here.

def metric(record: Mapping, name: str) -> str:
  """`record[name]` as `report.format_value(name, ...)` prints it; MISSING if absent."""
  value = record.get(name)
  return MISSING if value is None else report.format_value(name, value)


def ratio(value: float) -> str:
  """Speed-ups: 1.0588 -> "1.06×"."""
  return f"{value:.2f}×"


def count(value: int) -> str:
  """Parameters, images: 686769 -> "686,769"."""
  return f"{value:,}"


def cell(value, fmt: Callable) -> str:
  return MISSING if value is None else fmt(value)


# Markdown pieces.

def load(path: str) -> dict:
  return json.loads((ROOT / path).read_text())


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  return lines + ["| " + " | ".join(row) + " |" for row in rows]


def anchor(title: str) -> str:
  """The id GitHub gives a heading: lower case, punctuation out, spaces to hyphens."""
  kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
  return kept.replace(" ", "-")


def section(title: str, folder: str, what: str, commands: Sequence[str],
            hardware: str, body: Sequence[str]) -> List[str]:
  """One experiment: what it measures, its commands and hardware, its numbers."""
  return [f"## {title}", "", what, "", "```bash", *commands, "```", "",
          f"Hardware: {hardware}. Folder: [`{folder}/`](../{folder}/).", "", *body, ""]


# Tables written by `python -m jaxgen.experiments.run --model A,B,...`: each
# column appears when some row has its key.
COMPARISON_COLUMNS = (
    ("steps", "steps"),
    ("parameters", "parameters"),
    ("train s", "train_seconds"),
    ("samples/s", "samples/s"),
    ("FID", "fid"),
    ("test recon", "test/recon"),
    ("test ELBO", "test/elbo"),
    ("modes covered", "modes_covered"),
    ("high-quality fraction", "high_quality_fraction"),
    ("KL", "kl"),
)


def comparison_cell(row: dict, key: str) -> str:
  """Parameter counts with thousands separators, every other column as a metric."""
  return cell(row.get(key), count) if key == "parameters" else metric(row, key)


def comparison_table(record: dict) -> List[str]:
  rows = list(record["rows"])
  if "real_test_split" in record:
    rows.append(dict(record["real_test_split"], model="real test split"))
  columns = [c for c in COMPARISON_COLUMNS if any(c[1] in row for row in rows)]
  return table(["model", *(header for header, _ in columns)],
               [[row["model"], *(comparison_cell(row, key) for _, key in columns)]
                for row in rows])


def comparison_section(title: str, path: str, what: str) -> List[str]:
  record = load(path)
  first = record["rows"][0]
  if "fid" in first:
    what += (f" FID of {count(first['fid/samples'])} samples against "
             f"`{first['fid/reference']}`.")
  return section(title, str(pathlib.Path(path).parent), what, [record["command"]],
                 record["hardware"], comparison_table(record))


# One function per experiment.

TITLE_HEADLINE = "DDIM on MNIST and gmm_ring8: the headline command"
TITLE_HEADLINE_FID = "FID-1k of the headline command"
TITLE_FID_FLOOR = "FID floor: MNIST test against train"
TITLE_SEEDS = "Every model on gmm_ring8 over seeds"
TITLE_ALL_MNIST = "All models on MNIST"
TITLE_FID10K = "All models on MNIST at FID-10k"
TITLE_GAN_LOSSES = "GAN losses on MNIST"


def headline_run() -> List[str]:
  record = load("experiments/diffusion_cpu/results.json")
  mnist, ring = record["mnist_ddim_cpu"], record["gmm_ring8_ddim_cpu"]
  body = table(
      ["dataset", "steps", "batch", "train steps/s", "DDIM-50 images/s", "final loss",
       "wall s"],
      [["mnist", str(mnist["steps"]), str(mnist["batch_size"]),
        metric(mnist, "train steps/s (median of log intervals)"),
        metric(mnist, "ddim50 images/s"),
        metric(mnist, "final loss (mean of last interval)"),
        metric(mnist, "wall_seconds_including_install") + " (install included)"],
       ["gmm_ring8", str(ring["steps"]), str(ring["batch_size"]), MISSING, MISSING,
        MISSING, metric(ring, "wall_seconds")]])
  body += ["", "gmm_ring8 samples (2,000, DDIM-50, EMA params) during training:", ""]
  body += table(["step", "modes covered", "high-quality fraction", "KL"],
                [[str(m["step"]), metric(m, "modes_covered"),
                  metric(m, "high_quality_fraction"), metric(m, "kl")]
                 for m in ring["sample_metrics_by_step"]])
  what = ("The README's train command at the `cpu` preset, in a fresh clone, and the same "
          "model on the 8-mode ring. The MNIST run trained the ε target without loss "
          "weighting; the `cpu` preset trains the v target with Min-SNR weighting, and the "
          "next section scores both.")
  return section(TITLE_HEADLINE, "experiments/diffusion_cpu", what,
                 [mnist["command"], mnist["ddim50 command"], ring["command"]],
                 record["machine"], body)


TITLE_HEADLINE_TIMING = "The headline command's wall time, then and now"


def headline_timing() -> List[str]:
  record = load("experiments/diffusion_cpu/headline_timing.json")
  body = table(["commit", "install s", "run s", "of which training s", "wall s, install included",
                "confident fraction (64 final samples)"],
               [[f"`{c['commit']}`", metric(c, "install_seconds"), metric(c, "run_wall_seconds"),
                 metric(c["summary"], "train_seconds"),
                 metric(c, "wall_seconds_including_install"),
                 metric(c["summary"], "confident_fraction")] for c in record["commits"]])
  what = (f"`{record['headline']}` in a fresh clone and virtual environment at each commit, "
          "one after the other on one machine with nothing else running, in the order of "
          "the rows (a commit that comes twice was timed alternately). The first commit "
          "is the one issue 18 measured (ε target, unconditional, DDIM-50 with η = 0, no "
          "classifier metric yet); the last is today's preset (v target without weighting, "
          "cosine schedule, batch 32 for 1,750 steps, class-conditional, DDIM-50 with η = 1 "
          "guided in the guidance interval, the digit classifier on its final grid).")
  return section(TITLE_HEADLINE_TIMING, "experiments/diffusion_cpu", what,
                 [record["command"]], record["hardware"], body)


def headline_fid() -> List[str]:
  eps = load("experiments/diffusion_cpu/headline_fid.json")
  v = load("experiments/diffusion_cpu/headline_fid_v.json")
  eta1 = load("experiments/diffusion_cpu/headline_fid_eta1.json")
  samplers = ("ddim-50 (the run's own FID)", "ddim-50", "dpm_solver++-10", "dpm_solver++-20")
  rows = [(target, record, name) for target, record in (
      ("ε", eps), ("v, Min-SNR", v), ("v, Min-SNR; DDIM η = 1", eta1))
          for name in samplers if name in record]
  rows.append((MISSING, eta1, "real data floor (mnist:train[:1000])"))
  body = table(["samples", "recipe", "FID-1k", "confident fraction", "classes covered"],
               [[name, target, metric(record[name], "fid"),
                 metric(record[name], "confident_fraction"),
                 metric(record[name], "classes_covered")] for target, record, name in rows])
  real = v["real data floor (mnist:train[:1000])"]
  what = (f"FID of {count(eps['samples'])} samples of the headline command against the "
          f"MNIST test split's statistics (`{eps['reference']}`), and the digit classifier's "
          f"scores; the real-data floor scores {count(real['images_a'])} train images the "
          "same way. "
          "The run's own FID rows score its 64 final samples with the classifier; the others "
          "come from the `sample` command, each sampler on the same trained model. The "
          "`cpu` preset is the last recipe (its DDIM samples with η = 1; the ODE solvers "
          "take no η); the hardware line names the CPU of the first two recipes, then the last's.")
  return section(TITLE_HEADLINE_FID, "experiments/diffusion_cpu", what,
                 [FALLBACK_HEADLINE_FID_COMMAND, v["command"], eta1["command"]],
                 f"{eps['hardware']}; last recipe: {eta1['hardware']}", body)


def solvers() -> List[str]:
  record = load("experiments/diffusion_cpu/solvers.json")
  headline = load("experiments/diffusion_cpu/headline_fid_v.json")
  named = {**{name: headline[name] for name in ("ddim-50", "dpm_solver++-10",
                                                "dpm_solver++-20")},
           **{name: row for name, row in record.items() if isinstance(row, dict)}}

  def calls(name: str) -> int:
    return int(name.split("-")[1])

  order = sorted(named, key=lambda name: (not name.startswith("ddim"), calls(name), name))
  body = table(["sampler-steps[-spacing]", "network calls", "FID-1k", "confident fraction",
                "classes covered"],
               [[name, str(calls(name)), metric(named[name], "fid"),
                 metric(named[name], "confident_fraction"),
                 metric(named[name], "classes_covered")] for name in order])
  what = (f"The v, Min-SNR model of the section above (`{record['workdir']}`), "
          f"{count(record['samples'])} samples per sampler, scored the same way. "
          "DPM-Solver++ timesteps are uniform in log-SNR unless the name ends in `-time`. "
          "The ddim-50, dpm_solver++-10 and dpm_solver++-20 rows are those of the section "
          "above (`headline_fid_v.json`); the others come from the commands below.")
  return section("Samplers on the headline model", "experiments/diffusion_cpu", what,
                 record["commands"], record["hardware"], body)


def input_pipeline() -> List[str]:
  record = load("experiments/diffusion_cpu/input_pipeline.json")
  rows = [[name, str(r["steps"]), metric(r, "device steps/s"), metric(r, "host steps/s")]
          for name, r in record.items() if isinstance(r, dict)]
  what = ("Train steps/s with the dataset on the device (batches gathered inside the "
          "compiled step, as the loop does) against batches gathered in numpy and copied "
          f"every step; medians of {record['rounds']} alternating rounds.")
  return section("Input pipeline", "experiments/diffusion_cpu", what,
                 [FALLBACK_INPUT_PIPELINE_COMMAND], FALLBACK_INPUT_PIPELINE_HARDWARE,
                 table(["model/dataset", "timed steps per round", "device-resident steps/s",
                        "host-fed steps/s"], rows))


def fid_floor() -> List[str]:
  record = load("experiments/fid_floor/mnist_test_vs_train.json")
  body = table(["inputs", "FID", "KID", "KID std", "feature images/s"],
               [[f"{record['inputs'][0]} ({count(record['images_a'])}) against "
                 f"{record['inputs'][1]} ({count(record['images_b'])})",
                 metric(record, "fid"), metric(record, "kid"), metric(record, "kid_std"),
                 metric(record, "images/s")]])
  what = ("Two samples of the same distribution: a model's FID against MNIST train near "
          "this value is as good as fresh real digits.")
  return section(TITLE_FID_FLOOR, "experiments/fid_floor", what,
                 [FALLBACK_FID_FLOOR_COMMAND], FALLBACK_FID_FLOOR_HARDWARE, body)


def gan_losses() -> List[str]:
  return comparison_section(
      TITLE_GAN_LOSSES, "experiments/gan_losses/cpu/comparison_mnist.json",
      "Vanilla (non-saturating), least-squares and Wasserstein GAN-GP losses with the same "
      "MLP generator and steps.")


def gan_runs() -> List[str]:
  record = load("experiments/gan_cpu/results.json")
  runs = [("cgan", record["mnist"]["cgan"]), ("wgan_gp", record["mnist"]["wgan_gp"]),
          ("wgan_gp", record["mnist_wgan_gp_4000"])]
  body = table(["model", "steps", "wall s", "d_loss", "g_loss", "Wasserstein estimate"],
               [[model, str(run["steps"]),
                 metric(run, "wall_s" if "wall_s" in run else "wall_seconds"),
                 metric(run["final"], "d_loss"), metric(run["final"], "g_loss"),
                 metric(run["final"], "wasserstein")]
                for model, run in runs])
  what = ("Single GAN runs on MNIST at the `cpu` preset with their final losses; the folder's "
          "README describes the sample grids.")
  return section("GANs on MNIST", "experiments/gan_cpu", what,
                 [run["command"] for _, run in runs], record["machine"], body)


def seed_range(record: dict) -> str:
  return f"{min(record['seeds'])}–{max(record['seeds'])}"


def seeds_table(record: dict) -> List[str]:
  header = ["model", *(f"seed {s}" for s in record["seeds"]), "lowest"]
  rows = []
  for model, scores in record["scores"].items():
    per_seed = [scores[str(s)] for s in record["seeds"]] + [record["lowest"][model]]
    rows.append([model, *(f"{metric(s, 'modes_covered')}, "
                          f"{metric(s, 'high_quality_fraction')}" for s in per_seed)])
  return table(header, rows)


# The default (lambda 1 with jaxgen's XLA flag) is seeds_cpu.json's wgan_gp row.
WGAN_GP_PENALTY = ("lambda10", "lambda10_no_xla_flags", "lambda1_no_xla_flags")


def seeds() -> List[str]:
  record = load("experiments/families_2d/seeds_cpu.json")
  body = seeds_table(record)
  body += ["", "GAN defaults on points switched off one at a time (zero-centred gradient "
           "penalty, generator EMA):", ""]
  commands, rows = [record["command"]], []
  for variant in ("before", "ema_only", "penalty_only"):
    ablation = load(f"experiments/families_2d/gan_penalty/{variant}/seeds_cpu.json")
    commands.append(ablation["command"])
    for model, scores in ablation["scores"].items():
      rows.append([variant, model,
                   ", ".join(metric(s, "modes_covered") for s in scores.values()),
                   metric(ablation["lowest"][model], "high_quality_fraction")])
  body += table(["variant", "model", "modes covered per seed", "lowest high-quality fraction"],
                rows)
  body += ["", "WGAN-GP's gradient penalty on points: the paper's λ = 10 against the default "
           "λ = 1, with jaxgen's XLA flag and without it (`JAXGEN_NO_XLA_FLAGS=1`: other "
           "kernels, so other float rounding, for the same arithmetic):", ""]
  rows = []
  for variant in WGAN_GP_PENALTY:
    ablation = load(f"experiments/families_2d/wgan_gp_penalty/{variant}/seeds_cpu.json")
    commands.append(ablation["command"])
    scores = ablation["scores"]["wgan_gp"]
    rows.append([variant, ", ".join(metric(s, "modes_covered") for s in scores.values()),
                 metric(ablation["lowest"]["wgan_gp"], "high_quality_fraction")])
  body += table(["variant", "modes covered per seed", "lowest high-quality fraction"], rows)
  what = (f"Every generative model on {record['dataset']} at the `{record['preset']}` preset, "
          f"seeds {seed_range(record)}: modes covered (of 8) and high-quality fraction per "
          "seed, and the lowest over seeds (the quality floors' measurement).")
  return section(TITLE_SEEDS, "experiments/families_2d", what, commands,
                 record["hardware"], body)


def families_2d() -> List[str]:
  lines = []
  for dataset in ("gmm_ring8", "gmm_grid25"):
    lines += comparison_section(
        f"Families on {dataset}, seed 0",
        f"experiments/families_2d/comparison_{dataset}.json",
        "Modes covered, high-quality fraction (samples within 3σ of a mode) and KL of the "
        "nearest-mode histogram; the last row scores real samples. Train times were taken "
        "beside other work on the same cores: compare them only within the table.")
  return lines


def all_models() -> List[str]:
  lines = []
  for title, path in ((TITLE_ALL_MNIST, "experiments/all_mnist/comparison_mnist.json"),
                      ("All models on Fashion-MNIST",
                       "experiments/all_fashion_mnist/comparison_fashion_mnist.json")):
    lines += comparison_section(
        title, path, "The nine models one after another, each at its own `cpu` budget as "
        "it stood when measured (before the v target, Min-SNR weighting and guidance of "
        "today's diffusion preset); FID of a few hundred "
        "samples, to compare within the table. The current MNIST numbers are FID-10k, "
        "[below](#" + anchor(TITLE_FID10K) + ").")
  return lines


def study_module(path: str):
  """An experiment's script as a module, for the names and helpers its tables use."""
  spec = importlib.util.spec_from_file_location(pathlib.Path(path).parent.name, ROOT / path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def fid10k() -> List[str]:
  record = load("experiments/all_mnist_fid10k/results.json")
  rows = [*record["entries"].items(), (f"real: {record['floor']['inputs'][0]}",
                                       record["floor"])]
  columns = study_module("experiments/all_mnist_fid10k/study.py").COLUMNS
  body = table(["entry", "steps", "train s", *columns],
               [[name, cell(row.get("steps"), count), metric(row, "train_seconds"),
                 *(metric(row, key) for key in columns)] for name, row in rows])
  what = ("FID of 10,000 samples against the MNIST test split (its statistics and 10,000 "
          "features: KID, precision/recall/density/coverage at k = 5) and the digit "
          "classifier, every model at its `cpu` budget (`_20k`: 20,000 steps); the last row "
          "scores 10,000 real train images the same way. The study adds entries on each "
          "invocation; its [table](../experiments/all_mnist_fid10k/results.md) names those "
          "not measured yet. The `ddim` row trained the `cpu` preset of its time, the v "
          "target with Min-SNR weighting; today's preset trains without it "
          f"([loss weighting](#{anchor(TITLE_WEIGHTING)})). "
          "For scale (another protocol), Lucic et al. 2018 as quoted by "
          "Dai & Wipf 2019: NS-GAN 6.8, LSGAN 7.8, WGAN-GP 20.3.")
  return section(TITLE_FID10K, "experiments/all_mnist_fid10k", what, [record["command"]],
                 ", ".join(sorted({row["hardware"] for _, row in rows})), body)


def autoencoders() -> List[str]:
  record = load("experiments/autoencoder_table/results_cpu.json")
  body = table(["run", "latent", "β", "β schedule", "test recon", "test KL", "test ELBO",
                "seconds"],
               [[r["run"], str(r["latent"]), cell(r["beta"], str),
                 r["beta_schedule"] if r["model"] == "vae" else MISSING,
                 metric(r, "recon"), metric(r, "kl"), metric(r, "elbo"),
                 metric(r, "seconds")]
                for r in record["runs"]])
  what = (f"{record['steps']} steps of batch {record['batch_size']} per run, "
          f"`{record['reconstruction_loss']}` reconstruction loss summed per image, on the "
          f"test split; whole study {metric(record, 'total_seconds')} s.")
  return section("Autoencoders on MNIST", "experiments/autoencoder_table", what,
                 [FALLBACK_AUTOENCODER_COMMAND], record["hardware"], body)


def recipes() -> List[str]:
  record = load("experiments/diffusion_recipe/tiny_unet/results.json")
  by_recipe = {}
  for row in record["rows"]:
    by_recipe.setdefault(row["recipe"], []).append(row)
  body = table(["recipe", "confident fraction per seed", "classes covered per seed",
                "class KL per seed"],
               [[recipe, *(", ".join(metric(r, key) for r in rows)
                           for key in ("confident_fraction", "classes_covered", "class_kl"))]
                for recipe, rows in by_recipe.items()])
  steps = record["rows"][0]["steps"]
  what = (f"`ddim` trained {steps} steps per recipe and seed on a small UNet "
          f"(`{', '.join(record['overrides'])}`); the digit classifier scores "
          f"{record['samples']} final DDIM samples of each run.")
  return section("Diffusion training recipes", "experiments/diffusion_recipe", what,
                 [record["command"]], record["hardware"], body)


def samplers() -> List[str]:
  record = load("experiments/diffusion_samplers/cpu/results.json")
  body = table(["table", "setting", "FID", "images/s"],
               [[r["table"], r["setting"], metric(r, "fid"), metric(r, "images/s")]
                for r in record["rows"]])
  what = (f"Samplers, schedules and guidance scales on `cpu`-preset UNets; FID of "
          f"{count(record['fid_samples'])} samples against `{record['reference']}`, images/s "
          "of the sampler alone.")
  return section("Diffusion samplers", "experiments/diffusion_samplers", what,
                 [record["command"]], record["hardware"], body)


# Benchmark folder -> its section's title, newest first: one machine each.
BENCH_FOLDERS = {
    "experiments/bench/cpu_epyc_avx512": "Benchmark on the 2-core AMD EPYC with AVX-512",
    "experiments/bench/cpu": "Benchmark on the first 2-core CPU (model not recorded)",
}


def bench() -> List[str]:
  lines = []
  for folder, title in BENCH_FOLDERS.items():
    record = load(f"{folder}/bench.json")
    body = table(["case", "framework", "variant", "dtype", "batch", "median ms", "GFLOP",
                  "GFLOP/s", "of matmul", "JAX speed-up"],
                 [[r["case"], r["framework"], r["variant"], r.get("dtype", "float32"),
                   cell(r.get("batch"), str), metric(r, "median_ms"), metric(r, "gflop"),
                   metric(r, "GFLOP/s"), metric(r, "matmul_fraction"),
                   cell(r.get("jax_speedup"), ratio)]
                  for r in record["rows"]])
    what = (f"Fixed reference configurations, medians of the repeats (JAX {record['jax']}, "
            f"torch {record['torch']}); speed-up is the torch time over the JAX time in the "
            "same run, `of matmul` the fraction of the same run's matmul rate in that dtype. "
            "See [performance](performance.md).")
    lines += section(title, folder, what, [record["command"]],
                     record["hardware"], body)
  return lines


TITLE_CPU_LEADS = "Leads for the CPU train-step gap"


def cpu_leads() -> List[str]:
  record = load("experiments/bench/cpu_leads/results.json")
  baseline_ms = study_module("experiments/bench/cpu_leads/leads.py").baseline_ms
  body = table(["case", "variant", "median ms", "GFLOP/s", "speed-up over the case's first row"],
               [[row["case"], row["variant"], metric(row, "median_ms"), metric(row, "GFLOP/s"),
                 ratio(baseline_ms(record["rows"], row["case"]) / row["median_ms"])]
                for row in record["rows"]])
  checks = record["weight_gradient_by_hand"]
  what = (f"Medians of {record['rounds']} alternating rounds per case (jax {record['jax']}); "
          "GFLOP/s counts a convolution's forward and both gradients. The weight gradient "
          "written by hand as a convolution with swapped dimension numbers differs from "
          f"JAX's own by {checks['max_abs_difference']:.1e} (JAX's rule is that convolution: "
          f"`{checks['jax_rule'].split(' = ')[-1]}`); Pallas on this CPU: "
          f"{record['pallas_on_cpu'].rstrip('.')}. See [performance](performance.md).")
  return section(TITLE_CPU_LEADS, "experiments/bench/cpu_leads", what, [record["command"]],
                 record["hardware"], body)


def per_seed_samplers(title: str, kind: str, what: str) -> List[str]:
  """A section of experiments/diffusion_cpu/{kind}_seed{0,1}.json: per seed, the
  rows of solvers.py after the run that trained it."""
  records = [load(f"experiments/diffusion_cpu/{kind}_seed{seed}.json") for seed in (0, 1)]
  body = table(["seed", "sampler", "FID-1k", "confident fraction", "classes covered"],
               [[str(seed), name, metric(row, "fid"), metric(row, "confident_fraction"),
                 metric(row, "classes_covered")]
                for seed, record in enumerate(records)
                for name, row in sorted(record.items()) if isinstance(row, dict)])
  commands = [command for record in records
              for command in (record["train command"], *record["commands"])]
  return section(title, "experiments/diffusion_cpu",
                 what.format(samples=count(records[0]["samples"])), commands,
                 records[0]["hardware"], body)


def stochastic_ddim() -> List[str]:
  return per_seed_samplers(
      "Stochastic DDIM on the headline model", "stochastic",
      "The headline model (v, Min-SNR) trained on two seeds; {samples} DDIM-50 samples of "
      "each with η = 0 and η = 1, scored as above. The `cpu` preset's `ddim` samples with "
      "η = 1 since.")


TITLE_GUIDANCE = "Classifier-free guidance on the headline model"


def guidance() -> List[str]:
  return per_seed_samplers(
      TITLE_GUIDANCE, "guidance",
      "The headline model trained class-conditionally (`--config.conditional=True`, labels "
      "dropped with probability 0.1) on two seeds; {samples} samples per row, one class per "
      "tenth, with guidance scale w (`w1`: the plain conditional model) and DDIM's η, scored "
      "as above. The `cpu` preset trains this model and samples it with DDIM-50, η = 1, "
      "w = 3 since.")


TITLE_LEARNING_CURVE = "The headline model against its training steps"


def learning_curve() -> List[str]:
  record = load("experiments/diffusion_cpu/learning_curve.json")
  stages = sorted(record["stages"].items(), key=lambda item: int(item[0]))
  real = record["real data floor"]
  samplers = load("experiments/diffusion_cpu/solvers_4000.json")
  body = table(["training steps", "train s (this stage)", "FID-1k", "confident fraction",
                "classes covered"],
               [[count(int(steps)), metric(row, "train_seconds_this_stage"),
                 metric(row, "fid"), metric(row, "confident_fraction"),
                 metric(row, "classes_covered")] for steps, row in stages]
               + [[f"real: {count(real['images_a'])} train images", MISSING,
                   metric(real, "fid"), metric(real, "confident_fraction"),
                   metric(real, "classes_covered")]])
  body += ["", "![FID-1k and confident fraction against training steps]"
               "(../experiments/diffusion_cpu/learning_curve.png)", "",
           f"Other samplers on the last stage's model ({count(int(stages[-1][0]))} steps), "
           f"{count(samplers['samples'])} samples each, scored the same way "
           "(`solvers_4000.json`):", ""]
  rows = [(name, row) for name, row in samplers.items() if isinstance(row, dict)]
  body += table(["sampler-steps-options", "FID-1k", "confident fraction", "classes covered"],
                [[name, metric(row, "fid"), metric(row, "confident_fraction"),
                  metric(row, "classes_covered")] for name, row in sorted(rows)])
  what = (f"The headline command (the preset of the time: v, Min-SNR) trained on to each "
          f"step count in one workdir (a longer "
          f"`--config.num_steps` resumes and extends the run); after each, "
          f"{count(record['samples'])} samples with the run's own sampler (guided DDIM-50, "
          "w = 3, η = 1) scored as above.")
  return section(TITLE_LEARNING_CURVE, "experiments/diffusion_cpu", what,
                 [*record["commands"], *samplers["commands"]], record["hardware"], body)


TITLE_WEIGHTING = "Loss weighting at the cpu preset"


def weighting() -> List[str]:
  """weighting.json's runs beside the Min-SNR runs of the guidance study (the
  preset before it, trained and scored by the same commands)."""
  record = load("experiments/diffusion_cpu/weighting.json")
  guided = [load(f"experiments/diffusion_cpu/guidance_seed{seed}.json") for seed in (0, 1)]
  rows = [(name, row, "weighting.json") for name, row in sorted(record["runs"].items())]
  rows += [(f"v, min_snr, seed {seed}", g["ddim-50-eta1-w3"], f"guidance_seed{seed}.json")
           for seed, g in enumerate(guided)
           if f"v, min_snr, seed {seed}" not in record["runs"]]
  body = table(["target, weighting, seed", "FID-1k", "confident fraction", "classes covered",
                "from"],
               [[name, metric(row, "fid"), metric(row, "confident_fraction"),
                 metric(row, "classes_covered"), f"`{source}`"] for name, row, source in rows])
  what = (f"The headline command (`cpu` preset, {count(1000)} steps) trained with and without "
          "Min-SNR-γ weighting (γ = 5) of the v loss, on two seeds; "
          f"{count(record['samples'])} samples of each with the preset's sampler of the time "
          "(DDIM-50, η = 1, guided with w = 3 at every step), scored as above. The Min-SNR rows that "
          "`weighting.json` lacks come from the guidance study, whose runs are the same "
          "command at the preset of the time (Min-SNR), sampled and scored the same way; the "
          "learning curve's first stage reproduced its seed 0 to the last digit. Min-SNR "
          "weights the x0 error by min(SNR, γ): almost nothing at the noisiest timesteps, "
          "where the class and the layout of a digit are decided and where guidance acts; "
          "without weighting the v loss weights it by SNR + 1 ≥ 1.")
  return section(TITLE_WEIGHTING, "experiments/diffusion_cpu", what,
                 [*record["commands"], *(g["train command"] for g in guided),
                  *(c for g in guided for c in g["commands"])], record["hardware"], body)


TITLE_GUIDANCE_INTERVAL = "Guidance interval on the headline model"
INTERVAL_SAMPLER = "ddim-50-eta1-w3-gi0.28,5.42"  # the cpu preset's sampler, as solvers.py names it
# The cpu preset's sampler once it left x0_hat unclipped (diffusion.clip_x0=False)
# and guided with w = 2, until the guidance interval ended at 2.
W2_SAMPLER = "ddim-50-eta1-w2-gi0.28,5.42-noclip"


PRESET = config_lib.get_config("ddim", "mnist", "cpu")  # the headline command's config


def preset_sampling() -> str:
  """The headline command's guidance and clipping as solvers.py names them,
  e.g. "w2-gi0.28,2-noclip"."""
  options = PRESET.diffusion
  low, high = options.guidance_interval
  return (f"w{options.guidance_scale:g}-gi{low:g},{high:g}"
          + ("" if options.clip_x0 else "-noclip"))


# Today's cpu preset's sampler, and the README's few-step sampler with the same guidance.
PRESET_SAMPLER = (f"{PRESET.diffusion.sampler}-{PRESET.diffusion.sample_steps}-"
                  f"eta{PRESET.diffusion.eta:g}-{preset_sampling()}")
FEW_STEP_SAMPLER = f"dpm_solver++_sde-10-{preset_sampling()}"


def guidance_interval() -> List[str]:
  """Per seed: guidance at every step (weighting.json) against guidance in an
  interval of noise levels, and w = 1, each a row of guidance_interval_seed*.json."""
  every_step = load("experiments/diffusion_cpu/weighting.json")
  records = [load(f"experiments/diffusion_cpu/guidance_interval_seed{seed}.json")
             for seed in (0, 1)]
  rows = []
  for seed, record in enumerate(records):
    rows.append((seed, "ddim-50-eta1-w3 (every step)",
                 every_step["runs"][f"v, none, seed {seed}"]))
    rows += [(seed, name, row) for name, row in sorted(record.items())
             if isinstance(row, dict)]
  body = table(["seed", "sampler", "FID-1k", "confident fraction", "classes covered"],
               [[str(seed), name, metric(row, "fid"), metric(row, "confident_fraction"),
                 metric(row, "classes_covered")] for seed, name, row in rows])
  what = (f"The two runs of the [loss weighting](#{anchor(TITLE_WEIGHTING)}) study (the preset "
          f"of the time), {count(records[0]['samples'])} samples each from the same noise and "
          "labels, scored as above: guided DDIM-50 (w = 3, η = 1) at every step, and only "
          "where the noise level σ_t = √((1 − ᾱ_t)/ᾱ_t) is in (0.28, 5.42] (`gi`; "
          "Kynkäänniemi et al. 2024), which on the linear schedule is 25 of the 50 steps, "
          "each one network call instead of two outside it; `w1` is the plain conditional "
          "model. The `cpu` preset samples with that interval since.")
  return section(TITLE_GUIDANCE_INTERVAL, "experiments/diffusion_cpu", what,
                 [c for record in records for c in record["commands"]], records[0]["hardware"],
                 body)


TITLE_PRESET_SAMPLERS = "Samplers on the batch-64 headline model"


def preset_samplers() -> List[str]:
  """Seed 0's run of the batch-64 preset under each sampler of
  preset_samplers_seed0.json and guidance_interval_seed0.json, lowest FID first."""
  record = load("experiments/diffusion_cpu/preset_samplers_seed0.json")
  interval = load("experiments/diffusion_cpu/guidance_interval_seed0.json")
  rows = {name: row for source in (interval, record) for name, row in source.items()
          if isinstance(row, dict) and not name.endswith("-raw")}
  body = table(["sampler-steps-options", "network calls", "FID-1k", "confident fraction",
                "classes covered"],
               [[name, str(network_calls(name)), metric(row, "fid"),
                 metric(row, "confident_fraction"), metric(row, "classes_covered")]
                for name, row in sorted(rows.items(), key=lambda item: item[1]["fid"])])
  what = ("Seed 0's run of the [loss weighting](#" + anchor(TITLE_WEIGHTING) + ") study, "
          "the `cpu` preset before batch 32 (batch 64, 1,000 steps), sampled from the same noise and labels by each "
          f"sampler, {count(record['samples'])} samples each, scored as above. Options as "
          "`solvers.py` names them: `w` the guidance scale, `gi` the guidance interval of "
          "noise levels (guided, two network calls a step, only inside it), `time` "
          f"DPM-Solver++'s timesteps uniform in time instead of log-SNR. `{INTERVAL_SAMPLER}` "
          "is the preset's own sampler; the network calls count two for each guided step. "
          f"`preset_samplers_seed0.json` merges the rows of the last "
          f"{len(record['commands'])} commands' files.")
  commands = [c for source in (interval, record) for c in source["commands"]]
  return section(TITLE_PRESET_SAMPLERS, "experiments/diffusion_cpu", what, commands,
                 record["hardware"], body)


TITLE_HEADLINE_SAMPLERS = "Samplers on the batch-32 headline model"


BEFORE_RESTART = "dpm_solver++ before the restart"  # rows samplers_1750_seed0.json keeps


def headline_samplers() -> List[str]:
  """samplers_1750_seed0.json: today's preset model under every sampler, in
  order of sampling time; samplers_1750_seed1.json: some of them on seed 1's run."""
  record = load("experiments/diffusion_cpu/samplers_1750_seed0.json")
  rows = scored_rows(record)
  before = record.get(BEFORE_RESTART, {})
  (timed_on,) = {row["sampling"]["num"] for row in rows.values()}  # the --time-only N
  per_1000 = {name: {"seconds": 1000 / row["sampling"]["images/s"]}
              for name, row in rows.items()}
  body = table(["sampler-steps-options", "network calls", "s per 1,000 samples", "FID-1k",
                "FID-1k without the restart", "confident fraction", "classes covered"],
               [[name, str(network_calls(name)), metric(per_1000[name], "seconds"),
                 metric(row, "fid"), metric(before.get(name, {}), "fid"),
                 metric(row, "confident_fraction"), metric(row, "classes_covered")]
                for name, row in sorted(rows.items(),
                                        key=lambda item: per_1000[item[0]]["seconds"])])
  body += ["", "![FID-1k against the seconds of each sampler](../experiments/diffusion_cpu/"
               "samplers_1750_seed0.png)"]
  seed1 = load("experiments/diffusion_cpu/samplers_1750_seed1.json")
  body += ["", "Seed 1's run of the same preset (`--config.seed=1`), scored the same way "
               "(`samplers_1750_seed1.json`):", ""]
  body += table(["sampler-steps-options", "FID-1k, seed 0", "FID-1k, seed 1",
                 "confident fraction, seed 1", "classes covered, seed 1"],
                [[name, metric(rows[name], "fid"), metric(row, "fid"),
                  metric(row, "confident_fraction"), metric(row, "classes_covered")]
                 for name, row in sorted(scored_rows(seed1).items(),
                                         key=lambda item: per_1000[item[0]]["seconds"])])
  what = (f"A run of the `cpu` preset of the time (the headline command with "
          "`--config.seed=0`: batch 32, 1,750 steps, linear schedule), sampled from the "
          "same noise and labels by each sampler "
          f"with the preset's guidance (w = 3 inside the interval (0.28, 5.42]), "
          f"{count(record['samples'])} samples each in one batch, scored as above. The "
          "seconds are the compiled sampler's (compilation excluded), as the `sample` "
          "command reports them, from the last command, which times each sampler again on "
          f"{count(timed_on)} samples with nothing else running; network calls count two for each guided step. "
          f"`{INTERVAL_SAMPLER}` was the preset's own sampler; `noclip` rows leave each "
          "step's x̂0 unclipped, as the preset does since, the others clip it to [−1, 1] "
          "([samplers](diffusion.md#samplers)); the preset's guidance scale since: "
          f"[guidance scale](#{anchor(TITLE_GUIDANCE_NOCLIP)}). The DPM-Solver++ rows restart "
          "the solver's multistep history at the guidance interval's bounds, where the "
          "denoiser jumps ([samplers](diffusion.md#samplers)); \"without the restart\" is the "
          "same solver before that change, on the same noise. The `_sde` rows are "
          "DPM-Solver++'s solvers of the reverse SDE, which add fresh noise each step.")
  commands = [preset_run_command(0), *record["commands"], preset_run_command(1),
              *seed1["commands"]]
  return section(TITLE_HEADLINE_SAMPLERS, "experiments/diffusion_cpu", what, commands,
                 record["hardware"], body)


TITLE_GUIDANCE_NOCLIP = "Guidance scale on the unclipped headline model"


def guidance_noclip() -> List[str]:
  """The two runs of headline_samplers with x0_hat unclipped, by guidance scale
  (guidance_noclip_seed*.json, and the w = 3 rows of samplers_1750_seed*.json)."""
  records = [load(f"experiments/diffusion_cpu/guidance_noclip_seed{seed}.json")
             for seed in (0, 1)]
  w3 = [scored_rows(load(f"experiments/diffusion_cpu/samplers_1750_seed{seed}.json"))
        for seed in (0, 1)]
  rows = [{**scored_rows(record), **{name: row for name, row in earlier.items()
                                     if name.endswith("-noclip")}}
          for record, earlier in zip(records, w3)]
  body = seeds_side_by_side(dict(enumerate(rows)))
  what = (f"The two runs of [samplers](#{anchor(TITLE_HEADLINE_SAMPLERS)}) (the "
          "batch-32 preset on the linear schedule, seeds 0 and 1) sampled with x̂0 "
          "unclipped at other guidance scales w, "
          f"{count(records[0]['samples'])} samples each from the same noise and labels, "
          "scored as above; the w = 3 rows are that section's. `w1` is the plain "
          f"conditional model (one network call a step). `{W2_SAMPLER}` was the "
          "preset's sampler since: a lower FID than w = 3 on both runs, and more confident "
          "digits than w = 1.5 and 1; its guidance interval since: "
          f"[interval](#{anchor(TITLE_INTERVAL_NOCLIP)}).")
  commands = [c for record in records for c in record["commands"]]
  return section(TITLE_GUIDANCE_NOCLIP, "experiments/diffusion_cpu", what, commands,
                 records[0]["hardware"], body)


TITLE_INTERVAL_NOCLIP = "Guidance interval on the unclipped headline model"
INTERVAL_SEEDS = (0, 1, 2)  # the runs of guidance_interval_noclip_seed*.json


def interval_noclip() -> List[str]:
  """The preset's runs, unclipped at w = 2, by guidance interval
  (guidance_interval_noclip_seed*.json; seeds 0 and 1 add W2_SAMPLER's rows of
  guidance_noclip_seed*.json), in the order of seed 0's FID."""
  records = {seed: load(f"experiments/diffusion_cpu/guidance_interval_noclip_seed{seed}.json")
             for seed in INTERVAL_SEEDS}
  rows = {seed: scored_rows(record) for seed, record in records.items()}
  for seed in (0, 1):
    earlier = load(f"experiments/diffusion_cpu/guidance_noclip_seed{seed}.json")
    rows[seed][W2_SAMPLER] = earlier[W2_SAMPLER]
  body = seeds_side_by_side(rows, with_calls=True)
  what = (f"The two runs of [samplers](#{anchor(TITLE_HEADLINE_SAMPLERS)}) (seeds 0 and 1) "
          "and a third run of the same preset (seed 2), sampled with x̂0 unclipped and "
          "w = 2, guided only where the noise level σ_t is in the interval `gi` (LO, HI], "
          f"{count(records[0]['samples'])} samples each from the same noise and labels, "
          "scored as above; network calls count two for each guided step. "
          f"`{W2_SAMPLER}` is the [guidance scale](#{anchor(TITLE_GUIDANCE_NOCLIP)}) "
          f"section's preset sampler; `{PRESET_SAMPLER}` is the preset's sampler since, "
          "chosen on seeds 0 and 1 (a lower FID than the one before on both, still more "
          "than 0.9 confident, fewer guided steps); seed 2 was trained afterwards to score the "
          "choice on a run it was not made on. The first command's last row was stopped "
          "unscored, once (1, 5.42] had scored worse than (0.28, 5.42] at w = 2.")
  commands = [c for seed, record in records.items()
              for c in ([preset_run_command(2)] if seed == 2 else []) + record["commands"]]
  return section(TITLE_INTERVAL_NOCLIP, "experiments/diffusion_cpu", what, commands,
                 records[0]["hardware"], body)


def seeds_side_by_side(rows: Mapping[int, Mapping[str, dict]], with_calls: bool = False,
                       schedule: str = "linear") -> List[str]:
  """A table of sampler rows by seed: FID-1k, then the confident fraction, a
  column per seed ("—" where a seed lacks the row), in the order of the first
  seed's FID (its rows are the table's); `with_calls` adds the network calls
  on a model of `schedule`."""
  seeds = list(rows)
  first = rows[seeds[0]]
  return table(["sampler-steps-options", *(["network calls"] if with_calls else []),
                *(f"FID-1k, seed {seed}" for seed in seeds),
                *(f"confident fraction, seed {seed}" for seed in seeds)],
               [[name, *([str(network_calls(name, schedule))] if with_calls else []),
                 *(metric(rows[seed].get(name, {}), "fid") for seed in seeds),
                 *(metric(rows[seed].get(name, {}), "confident_fraction") for seed in seeds)]
                for name in sorted(first, key=lambda name: first[name]["fid"])])


def scored_rows(record: Mapping) -> Dict[str, dict]:
  """A solvers.py record's rows, by sampler name."""
  return {name: row for name, row in record.items() if isinstance(row, dict) and "fid" in row}


def preset_run_command(seed: int) -> str:
  """The run that samplers_1750_seed{seed}.json samples, written here because
  its workdir does not record its command."""
  return ("python -m jaxgen.experiments.run --model ddim --workdir "
          f"/work/runs/preset_s{seed} --data-dir ../shared/data --config.seed={seed}")


def network_calls(name: str, schedule: str = "linear") -> int:
  """Network calls of a sampler named as solvers.py names it, on a model of
  `schedule` (T = 1000): one per step, two per guided step (inside the guidance
  interval when `gi` gives one); ddpm steps through all 1,000 timesteps."""
  sampler, *options = name.split("-")
  steps = 1000 if sampler == "ddpm" else int(options.pop(0))
  guided = not any(option == "w1" for option in options)
  interval = next((option[2:] for option in options if option.startswith("gi")), None)
  if not guided:
    return steps
  if interval is None:
    return 2 * steps
  return steps + guided_steps(sampler, steps, options, *map(float, interval.split(",")),
                              schedule=schedule)


def guided_steps(sampler: str, steps: int, options: Sequence[str], low: float,
                 high: float, schedule: str) -> int:
  """Steps of a sampler whose noise level sigma_t is in the guidance interval
  (low, high], on a model of `schedule` (T = 1000)."""
  model_schedule = schedules.SCHEDULES.get(schedule)(1000)
  if sampler == "ddpm":
    timesteps = np.arange(model_schedule.num_timesteps)
  elif sampler == "ddim":
    timesteps = diffusion_samplers.ddim_timesteps(model_schedule.num_timesteps, steps)
  else:
    timesteps = dpm_solver.dpm_timesteps(model_schedule, steps,
                                         "time" if "time" in options else "logsnr")
  sigma = np.asarray(model_schedule.noise_levels)[timesteps]
  return int(np.sum((sigma > low) & (sigma <= high)))


TITLE_VARIANTS = "Variants of the cpu preset at equal training time"
# The variants study's preset of batch 32 for 1,750 steps on the linear schedule.
BATCH_32_VARIANT = "batch 32, 1750 steps"
# Variants trained after the preset's sampler became PRESET_SAMPLER, which draws
# their samples; the others were drawn with INTERVAL_SAMPLER.
TODAYS_SAMPLER_VARIANTS = ("cosine schedule",)
PRESET_VARIANT, PRESET_SEEDS = "cosine schedule", (0, 1, 2)  # today's cpu preset's runs


def preset_variants() -> List[str]:
  """variants.json's runs by seed, with seed 0's raw parameters (no EMA) from
  preset_samplers_seed0.json, and the batch-32 preset under today's sampler
  (guidance_interval_noclip_seed*.json) beside the variants drawn with it."""
  record = load("experiments/diffusion_cpu/variants.json")
  samplers_record = load("experiments/diffusion_cpu/preset_samplers_seed0.json")
  runs = [{**row, "sampler": (PRESET_SAMPLER if row["variant"] in TODAYS_SAMPLER_VARIANTS
                              else INTERVAL_SAMPLER)} for row in record["runs"].values()]
  runs += [{**load(f"experiments/diffusion_cpu/guidance_interval_noclip_seed{seed}.json")
            [PRESET_SAMPLER], "variant": BATCH_32_VARIANT, "seed": seed,
            "steps": PRESET.num_steps, "sampler": PRESET_SAMPLER} for seed in INTERVAL_SEEDS]
  raw = samplers_record[f"{INTERVAL_SAMPLER}-raw"]
  runs.append({**raw, "variant": "preset, raw parameters (no EMA)", "seed": 0, "steps": 1000,
               "sampler": INTERVAL_SAMPLER})
  runs.sort(key=lambda row: (row["seed"], row["sampler"] != INTERVAL_SAMPLER,
                             not row["variant"].startswith("preset"), row["variant"]))
  body = table(["variant", "seed", "steps", "sampler", "FID-1k", "confident fraction",
                "classes covered"],
               [[row["variant"], str(row["seed"]), count(row["steps"]), f"`{row['sampler']}`",
                 metric(row, "fid"), metric(row, "confident_fraction"),
                 metric(row, "classes_covered")] for row in runs])
  what = ("The headline command trained once per variant and seed, "
          f"{count(record['samples'])} samples of each with the preset's sampler of the time "
          "from the same noise and labels, scored as above. \"preset\" is the `cpu` preset "
          "before this study (batch 64, 1,000 steps); a variant with cheaper steps trains "
          "for as many as take the preset's 1,000 (timed in `variants.py`), and "
          f"\"{BATCH_32_VARIANT}\" is the preset the study made of it, which \"cosine decay\" "
          "(the learning rate decays to 0 over the run after its warm-up) and \"cosine "
          "schedule\" (the cosine noise schedule instead of the linear one, today's preset) "
          "change. The cosine schedule's runs were drawn with today's sampler, "
          f"`{PRESET_SAMPLER}`, as were the \"{BATCH_32_VARIANT}\" rows beside them (the "
          "runs of the guidance "
          f"[interval](#{anchor(TITLE_INTERVAL_NOCLIP)}) section, from the same noise); the "
          f"others with `{INTERVAL_SAMPLER}`, x̂0 clipped. The preset's EMA (decay 0.995 "
          "behind TF's warm-up, min(0.995, (1 + step)/(10 + step)), which at 1,000 steps still "
          "averages over about the last ninth of the steps) against the same decay from the "
          "first step (`--config.ema_warmup=False`, about the last 200 steps) and, on seed 0, "
          "the run's raw parameters. The preset rows are the loss-weighting study's runs (the "
          "same command and seed). The cosine schedule's rows were written to a scratch file "
          "(`--out` below) and merged into `variants.json`.")
  return section(TITLE_VARIANTS, "experiments/diffusion_cpu", what,
                 [*record["commands"],
                  *(c for c in samplers_record["commands"] if ":raw" in c)],
                 record["hardware"], body)


TITLE_COSINE_SAMPLERS = "Samplers on the cosine-schedule headline model"
COSINE_SAMPLER_SEEDS = (0, 1)  # the runs of cosine_schedule_seed*.json


def cosine_samplers() -> List[str]:
  """Today's preset's runs of seeds 0 and 1 (variants.json) under other
  samplers (cosine_schedule_seed*.json) beside their own sampler's rows."""
  variants = load("experiments/diffusion_cpu/variants.json")
  records = {seed: load(f"experiments/diffusion_cpu/cosine_schedule_seed{seed}.json")
             for seed in COSINE_SAMPLER_SEEDS}
  rows = {seed: {PRESET_SAMPLER: variants["runs"][f"{PRESET_VARIANT}, seed {seed}"],
                 **scored_rows(record)} for seed, record in records.items()}
  body = seeds_side_by_side(rows, with_calls=True, schedule=PRESET.diffusion.schedule)
  what = (f"Today's `cpu` preset's runs of seeds {listed(map(str, COSINE_SAMPLER_SEEDS))} "
          f"(the [variants](#{anchor(TITLE_VARIANTS)}) study's \"{PRESET_VARIANT}\" runs), "
          f"{count(variants['samples'])} samples each from the same noise and labels, scored "
          f"as above, every sampler with the preset's guidance (w = 2 where σ_t is in "
          f"(0.28, 2], x̂0 unclipped); `{PRESET_SAMPLER}` is the preset's own, its rows "
          "those of the variants study; `time`: DPM-Solver++'s timesteps uniform in time "
          "instead of log-SNR. Network calls count two for each guided step, on the cosine "
          "schedule. The second command's last row (DDPM-1000) was stopped unscored.")
  return section(TITLE_COSINE_SAMPLERS, "experiments/diffusion_cpu", what,
                 [c for record in records.values() for c in record["commands"]],
                 records[0]["hardware"], body)


TITLE_PIXEL_NOISE = "FID-1k of real digits under invisible pixel noise"


def pixel_noise() -> List[str]:
  record = load("experiments/diffusion_cpu/pixel_noise.json")
  # Std 0: the same images, scored by learning_curve.py, counted by haze.py.
  real = load("experiments/diffusion_cpu/learning_curve.json")["real data floor"]
  real_pixels = load("experiments/diffusion_cpu/haze.json")[f"real: {record['images']}"]
  rows = sorted(record["noise std (grey levels)"].items(), key=lambda item: float(item[0]))
  rows.insert(0, ("0", {**real, **real_pixels}))
  body = table(["noise std (grey levels of 255)", "pixels at 0", "pixels at 1-7", "FID-1k",
                "confident fraction"],
               [[std, f"{row['pixels at 0']:.1%}", f"{row['pixels at 1-7']:.1%}",
                 metric(row, "fid"), metric(row, "confident_fraction")] for std, row in rows])
  what = (f"{record['images']} with Gaussian noise of a few grey levels added, rounded and "
          "clipped back to uint8, scored as above against the test split (std 0 is the "
          "real-data floor). Noise no eye sees moves FID-1k far from the floor: a sampler's "
          "last denoising step must be precise to about a grey level on the background "
          "before FID-1k can approach it, and the background is where a briefly trained "
          "model's samples differ most from the data ([haze](../experiments/diffusion_cpu/"
          "README.md#the-headline-model-against-its-training-steps)).")
  return section(TITLE_PIXEL_NOISE, "experiments/diffusion_cpu", what, [record["command"]],
                 record["hardware"], body)


SECTIONS = (headline_run, headline_timing, headline_fid, solvers, stochastic_ddim, guidance,
            weighting, guidance_interval, preset_samplers, preset_variants, cosine_samplers,
            headline_samplers, guidance_noclip, interval_noclip, learning_curve,
            pixel_noise, fid_floor, all_models, fid10k, gan_losses, gan_runs, autoencoders,
            samplers, recipes, families_2d, seeds, input_pipeline, bench, cpu_leads)


def results_page() -> str:
  body = [line for write_section in SECTIONS for line in write_section()]
  titles = [line[3:] for line in body if line.startswith("## ")]
  lines = ["# Measured results", "",
           "Written by `python scripts/make_results_page.py` from the JSON files under "
           "`experiments/`; do not edit by hand. What the studies show: "
           "[studies](studies.md).", "",
           *(f"- [{title}](#{anchor(title)})" for title in titles), "", *body]
  return "\n".join(lines).rstrip("\n") + "\n"


def ranked(rows: Sequence[dict], key: str) -> str:
  """"ddpm 71.49, vae 87.02, ...": models from the lowest value of `key` up."""
  return ", ".join(f"{row['model']} {metric(row, key)}"
                   for row in sorted(rows, key=lambda row: row[key]))


def timing_runs(timing: Mapping, commit: str) -> List[dict]:
  """headline_timing.json's runs of `commit`, in the order they ran."""
  return [run for run in timing["commits"] if run["commit"] == commit]


def listed(items) -> str:
  """"a, b and c"."""
  items = list(items)
  return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def both(rows: Sequence[Mapping], key: str) -> str:
  """"433.8 and 440.1": `key` of each row."""
  return listed(metric(row, key) for row in rows)


def readme_block() -> str:
  """The README's headline numbers, each linking to its section of the results page."""
  timing = load("experiments/diffusion_cpu/headline_timing.json")
  then, now = (timing_runs(timing, timing["commits"][index]["commit"]) for index in (0, -1))
  curve = load("experiments/diffusion_cpu/learning_curve.json")
  v_target = load("experiments/diffusion_cpu/headline_fid_eta1.json")
  variants = load("experiments/diffusion_cpu/variants.json")
  clipped = [variants["runs"][f"{BATCH_32_VARIANT}, seed {seed}"] for seed in (0, 1)]
  linear = [load(f"experiments/diffusion_cpu/guidance_interval_noclip_seed{seed}.json")
            [PRESET_SAMPLER] for seed in INTERVAL_SEEDS]
  low, high = PRESET.diffusion.guidance_interval
  preset_rows = [variants["runs"][f"{PRESET_VARIANT}, seed {seed}"] for seed in PRESET_SEEDS]
  few_step = [load(f"experiments/diffusion_cpu/cosine_schedule_seed{seed}.json")
              [FEW_STEP_SAMPLER] for seed in (0, 1)]
  real_fid = v_target["real data floor (mnist:train[:1000])"]
  floor = load("experiments/fid_floor/mnist_test_vs_train.json")
  seeds_record = load("experiments/families_2d/seeds_cpu.json")
  lowest = [dict(model=model, **scores) for model, scores in seeds_record["lowest"].items()]
  lowest.sort(key=lambda row: -row["modes_covered"])
  gan_losses = load("experiments/gan_losses/cpu/comparison_mnist.json")["rows"]
  fid10k_record = load("experiments/all_mnist_fid10k/results.json")
  fid10k_rows = [dict(row, model=name) for name, row in fid10k_record["entries"].items()]
  fid10k_pending = (set(study_module("experiments/all_mnist_fid10k/study.py").ENTRIES)
                    - set(fid10k_record["entries"]))
  rows = [
      (f"The train command above, `cpu` preset, {timing['hardware'].split(' CPU')[0]} CPU, "
       "fresh clone",
       f"{both(now, 'wall_seconds_including_install')} s with the install, "
       f"{both([run['summary'] for run in now], 'train_seconds')} s of it training; issue "
       f"18's baseline `{then[0]['commit']}` on the same machine, alternately: "
       f"{both(then, 'wall_seconds_including_install')} s, "
       f"{both([run['summary'] for run in then], 'train_seconds')} s training",
       TITLE_HEADLINE_TIMING),
      (f"DDIM-50 FID of {count(variants['samples'])} samples against MNIST test, `cpu` "
       f"preset (batch {PRESET.batch_size}, {count(PRESET.num_steps)} steps; v target, "
       f"{PRESET.diffusion.schedule} schedule, no loss weighting; η = 1, guided with "
       f"w = {PRESET.diffusion.guidance_scale:g} where σ_t is in ({low:g}, {high:g}], x̂0 "
       f"unclipped), seeds {listed(str(seed) for seed in PRESET_SEEDS)}",
       f"{listed(metric(row, 'fid') for row in preset_rows)}, "
       f"{listed(metric(row, 'confident_fraction') for row in preset_rows)} confidently "
       f"classified; the linear schedule (the preset before): "
       f"{listed(metric(row, 'fid') for row in linear)}; seeds 0 and 1 with that and x̂0 "
       f"clipped, w = 3: {metric(clipped[0], 'fid')} and {metric(clipped[1], 'fid')}; "
       f"{count(real_fid['images_a'])} real train images: "
       f"{metric(real_fid, 'fid')}, {metric(real_fid, 'confident_fraction')}",
       TITLE_VARIANTS),
      (f"Seeds 0 and 1 sampled with 10 steps of DPM-Solver++ for the SDE (`--sampler "
       f"dpm_solver++_sde --steps 10`, the same guidance): "
       f"{network_calls(FEW_STEP_SAMPLER, PRESET.diffusion.schedule)} network calls against "
       f"DDIM-50's {network_calls(PRESET_SAMPLER, PRESET.diffusion.schedule)}",
       f"{metric(few_step[0], 'fid')} and {metric(few_step[1], 'fid')}, "
       f"{metric(few_step[0], 'confident_fraction')} and "
       f"{metric(few_step[1], 'confident_fraction')} confidently classified",
       TITLE_COSINE_SAMPLERS),
      ("The headline model of an earlier preset (batch 64, Min-SNR weighting) trained on "
       "(`--config.num_steps=N`): FID-1k and confident fraction of its own guided samples",
       "; ".join(f"{metric(row, 'fid')} and {metric(row, 'confident_fraction')} at "
                 f"{count(int(steps))} steps"
                 for steps, row in sorted(curve["stages"].items(), key=lambda s: int(s[0]))),
       TITLE_LEARNING_CURVE),
      (f"FID floor: MNIST test ({count(floor['images_a'])}) against train "
       f"({count(floor['images_b'])})",
       f"{metric(floor, 'fid')} (KID {metric(floor, 'kid')})",
       TITLE_FID_FLOOR),
      (f"Lowest modes covered of 8 on gmm_ring8, seeds {seed_range(seeds_record)}",
       ", ".join(f"{row['model']} {metric(row, 'modes_covered')}" for row in lowest),
       TITLE_SEEDS),
      ("FID of 10,000 samples against MNIST test, "
       + ("the models measured so far" if fid10k_pending else "every model but ddpm")
       + ", `cpu` budget (`_20k`: 20,000 steps)",
       f"{ranked(fid10k_rows, 'fid') or 'none yet'}; 10,000 real train images: "
       f"{metric(fid10k_record['floor'], 'fid')}", TITLE_FID10K),
      (f"GAN losses, FID of {count(gan_losses[0]['fid/samples'])} samples on MNIST",
       ranked(gan_losses, "fid"), TITLE_GAN_LOSSES),
  ]
  lines = table(["measurement", "result", "details"],
                [[what, result, f"[results]({RESULTS_PAGE}#{anchor(title)})"]
                 for what, result, title in rows])
  return "\n".join([BEGIN, *lines, END])


def with_block(readme: str, block: str) -> str:
  """`readme` with the text from BEGIN to END replaced by `block`."""
  start, end = readme.find(BEGIN), readme.find(END)
  if start < 0 or end < start:
    raise SystemExit(f"{README} has no {BEGIN} ... {END} block")
  return readme[:start] + block + readme[end + len(END):]


def rendered() -> dict:
  """What each generated file should hold: {path relative to ROOT: text}."""
  readme = (ROOT / README).read_text()
  return {RESULTS_PAGE: results_page(), README: with_block(readme, readme_block())}


def stale_files() -> List[str]:
  """The generated files whose text differs from what this script would write."""
  return [path for path, text in rendered().items()
          if not (ROOT / path).is_file() or (ROOT / path).read_text() != text]


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 if a generated file is out of date")
  args = parser.parse_args(argv)
  if args.check:
    stale = stale_files()
    if stale:
      print(f"out of date: {', '.join(stale)} (run python scripts/make_results_page.py)")
      return 1
    return 0
  for path, text in rendered().items():
    (ROOT / path).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / path).write_text(text)
  return 0


if __name__ == "__main__":
  sys.exit(main())
