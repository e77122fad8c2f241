"""Pictures only autoencoders make: a scatter of 2-D latent codes by class."""

import pathlib

from jaxgen import plotting  # noqa: F401  (selects matplotlib's file-only backend)
import matplotlib.pyplot as plt
import numpy as np


def save_latent_scatter(codes: np.ndarray, labels: np.ndarray,
                        path: pathlib.Path) -> None:
  """codes: float32 [N, 2] latent means; labels: int [N], one colour each."""
  fig, ax = plt.subplots(figsize=(5, 5))
  points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4, alpha=0.7)
  ax.legend(*points.legend_elements(), title="class", fontsize=7, loc="best")
  ax.set_xlabel("z[0]")
  ax.set_ylabel("z[1]")
  ax.set_aspect("equal")
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
