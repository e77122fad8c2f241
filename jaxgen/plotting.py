"""Pictures of a run: sample grids, 2-D scatters, trajectories, loss curves.

Images come in as float32 in [-1, 1] ([N, H, W, C]) or uint8 in [0, 255].
Figures are matplotlib `Figure` objects written straight to files, so no
pyplot backend is selected or touched (a notebook keeps its own).
"""

import json
import math
import pathlib
from typing import Mapping, Optional, Sequence, Tuple

import matplotlib.image
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from jaxgen.data.mixtures import get_mixture


def to_uint8(images: np.ndarray) -> np.ndarray:
  """float32 in [-1, 1] -> uint8 in [0, 255]; uint8 passes through."""
  if images.dtype == np.uint8:
    return images
  return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, ncols: Optional[int] = None, pad: int = 2) -> np.ndarray:
  """[N, H, W, C] -> one uint8 [rows*(H+pad)+pad, cols*(W+pad)+pad, C] mosaic."""
  images = to_uint8(images)
  n, h, w, c = images.shape
  ncols = ncols or math.ceil(math.sqrt(n))
  nrows = math.ceil(n / ncols)
  grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), 255, np.uint8)
  for i, image in enumerate(images):
    r, col = divmod(i, ncols)
    top, left = pad + r * (h + pad), pad + col * (w + pad)
    grid[top:top + h, left:left + w] = image
  return grid


def save_image_grid(images: np.ndarray, path: pathlib.Path,
                    ncols: Optional[int] = None) -> None:
  grid = image_grid(images, ncols)
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  matplotlib.image.imsave(path, grid[..., 0] if grid.shape[-1] == 1 else grid,
             cmap="gray", vmin=0, vmax=255)


def save_points(points: np.ndarray, path: pathlib.Path, dataset: str) -> None:
  """Scatter of [N, 2] points over the true density of `dataset` (a mixture)."""
  fig = Figure(figsize=(5, 5))
  ax = fig.subplots()
  _scatter(ax, points, dataset)
  _save(fig, path)


def _scatter(ax, points: np.ndarray, dataset: str) -> None:
  mixture = get_mixture(dataset)
  extent = float(np.abs(mixture.means).max()) * 1.5
  grid = np.linspace(-extent, extent, 200)
  xx, yy = np.meshgrid(grid, grid)
  density = np.exp(mixture.log_density(np.stack([xx.ravel(), yy.ravel()], -1)))
  ax.contourf(xx, yy, density.reshape(xx.shape), levels=20, cmap="Blues")
  ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:red", alpha=0.5)
  ax.set_xlim(-extent, extent)
  ax.set_ylim(-extent, extent)
  ax.set_aspect("equal")


def save_sample_panels(panels: Mapping[str, np.ndarray], path: pathlib.Path,
                       dataset: str) -> None:
  """One titled panel per entry: an image grid for [N, H, W, C] samples
  (float in [-1, 1] or uint8), a scatter over the true density for [N, 2]."""
  fig = Figure(figsize=(3.5 * len(panels), 3.7))
  axes = fig.subplots(1, len(panels), squeeze=False)
  for ax, (title, samples) in zip(axes[0], panels.items()):
    if samples.ndim == 4:
      grid = image_grid(samples)
      ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray",
                vmin=0, vmax=255)
    else:
      _scatter(ax, samples, dataset)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
  _save(fig, path)


def save_png_panels(images: Mapping[str, pathlib.Path], path: pathlib.Path,
                    columns: Optional[int] = None) -> None:
  """Existing PNGs side by side (or `columns` per row), each titled by its key."""
  columns = columns or len(images)
  rows = math.ceil(len(images) / columns)
  loaded = {title: matplotlib.image.imread(str(png)) for title, png in images.items()}
  height, width = next(iter(loaded.values())).shape[:2]
  scale = 8 / (width * columns)
  fig = Figure(figsize=(8, max(rows * height * scale, 1) + 0.4 * rows))
  axes = fig.subplots(rows, columns, squeeze=False)
  for ax in axes.ravel():
    ax.axis("off")
  for ax, (title, image) in zip(axes.ravel(), loaded.items()):
    ax.imshow(image, cmap="gray")
    ax.set_title(title)
  _save(fig, path)


def save_samples(samples: np.ndarray, path: pathlib.Path, dataset: str,
                 ncols: Optional[int] = None) -> None:
  """A grid for images [N, H, W, C], a scatter for points [N, 2]."""
  if samples.ndim == 4:
    save_image_grid(samples, path, ncols)
  else:
    save_points(samples, path, dataset)


def save_trajectory(trajectory: np.ndarray, path: pathlib.Path, dataset: str = "",
                    num_columns: int = 10) -> None:
  """trajectory: [S, B, ...] states x_t, noisiest first. Images: rows = samples,
  columns = timesteps; points: one scatter per timestep."""
  steps = trajectory.shape[0]
  picks = np.unique(np.round(np.linspace(0, steps - 1, min(num_columns, steps))).astype(int))
  if trajectory.ndim == 5:
    frames = np.clip(trajectory[picks], -1.0, 1.0)        # [cols, B, H, W, C]
    rows = np.swapaxes(frames, 0, 1)                        # [B, cols, H, W, C]
    save_image_grid(rows.reshape((-1,) + rows.shape[2:]), path, ncols=len(picks))
    return
  fig = Figure(figsize=(2.5 * len(picks), 2.5))
  axes = fig.subplots(1, len(picks))
  for ax, pick in zip(np.atleast_1d(axes), picks):
    _scatter(ax, trajectory[pick], dataset)
    ax.set_title(f"step {pick + 1}/{steps}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
  _save(fig, path)


def save_latent_scatter(codes: np.ndarray, labels: np.ndarray,
                        path: pathlib.Path) -> None:
  """codes: float32 [N, 2] latent means; labels: int [N], one colour each."""
  fig = Figure(figsize=(5, 5))
  ax = fig.subplots()
  points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
  ax.legend(*points.legend_elements(), title="class", fontsize=7, loc="best")
  ax.set_xlabel("z[0]")
  ax.set_ylabel("z[1]")
  ax.set_aspect("equal")
  _save(fig, path)


def save_loss_curves(metrics_path: pathlib.Path, path: pathlib.Path) -> None:
  """One panel per training metric in metrics.jsonl (and FID), against step."""
  records = [json.loads(line) for line in pathlib.Path(metrics_path).read_text().splitlines()]
  series = {}
  for record in records:
    if "split" in record:  # training records only
      continue
    if "loss" in record:
      keys = [k for k in record if k not in ("step", "steps/s")]
    else:
      keys = [k for k in ("fid", "kid") if k in record]
    for key in keys:
      value = record[key]
      if isinstance(value, (int, float)):
        series.setdefault(key, ([], []))
        series[key][0].append(record["step"])
        series[key][1].append(value)
  if not series:
    return
  fig = Figure(figsize=(4 * len(series), 3))
  axes = fig.subplots(1, len(series), squeeze=False)
  for ax, (key, (steps, values)) in zip(axes[0], sorted(series.items())):
    ax.plot(steps, values)
    ax.set_title(key)
    ax.set_xlabel("step")
    if key == "loss" and min(values) > 0:
      ax.set_yscale("log")
  _save(fig, path)


SAMPLER_COLORS = {"ddpm": "tab:red", "ddim": "tab:blue", "dpm_solver++": "tab:green",
                  "dpm_solver++3m": "tab:purple", "dpm_solver++_sde": "tab:olive",
                  "dpm_solver++3m_sde": "tab:brown"}


def save_fid_against_seconds(points: Sequence[Tuple[str, float, float]], path: pathlib.Path,
                             fid_samples: int, title: str = "") -> None:
  """One dot per sampler setting: (label, seconds per 1000 samples, FID),
  coloured by the sampler its label starts with ("ddim-50 eta=0": the legend
  names ddim) and labelled with the rest ("50 eta=0"), which keeps labels short
  where settings crowd."""
  fig = Figure(figsize=(6, 4))
  ax = fig.subplots()
  named = set()
  for label, seconds, fid in points:
    sampler, _, setting = label.partition("-")
    ax.scatter(seconds, fid, color=SAMPLER_COLORS.get(sampler, "tab:gray"),
               label=None if sampler in named else sampler)
    named.add(sampler)
    ax.annotate(setting, (seconds, fid), fontsize=7, xytext=(3, 3),
                textcoords="offset points")
  ax.legend(fontsize=7)
  ax.set_xscale("log")
  ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
  ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
  ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.set_xlabel("seconds per 1000 samples")
  ax.set_ylabel(f"FID ({fid_samples} samples)")
  ax.set_title(title, fontsize=9)
  _save(fig, path)


def _save(fig, path: pathlib.Path) -> None:
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
