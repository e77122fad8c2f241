"""metrics.jsonl: strict JSON, and each step once after a resume."""

import json

import numpy as np

from jaxgen.training.logbook import Logbook


def _strict(text):
  def refuse(name):
    raise ValueError(f"non-standard JSON value {name}")
  return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_null(tmp_path):
  logbook = Logbook(tmp_path, total_steps=10)
  logbook.write({"step": 3, "loss": np.float32(np.inf), "d_grad_norm": float("nan"),
                 "g_loss": np.float32(0.5)})
  [line] = (tmp_path / "metrics.jsonl").read_text().splitlines()
  assert _strict(line) == {"step": 3, "loss": None, "d_grad_norm": None, "g_loss": 0.5}


def test_a_resume_drops_the_records_after_its_checkpoint(tmp_path):
  logbook = Logbook(tmp_path, total_steps=10)
  for step in (2, 4, 6):
    logbook.write({"step": step, "loss": 1.0 / step})
  logbook.write({"step": 4, "split": "test", "elbo": -3.0})
  Logbook(tmp_path, total_steps=10).resume(4)
  records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert [r["step"] for r in records] == [2, 4, 4]
