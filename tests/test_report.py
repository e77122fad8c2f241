"""Numbers people compare print one way everywhere."""

import json

from jaxgen import report


def test_each_kind_of_number_has_its_digits():
  assert report.format_value("fid", 3.14159) == "3.14"
  assert report.format_value("kid", 0.0012345) == "0.00123"
  assert report.format_value("images/s", 123.456) == "123.5"
  assert report.format_value("steps/s", 1.806) == "1.81"
  assert report.format_value("fid/seconds", 61.26) == "61.3"
  assert report.format_value("train_seconds", 61.26) == "61.3"
  assert report.format_value("median_ms", 31034.2) == "31034.2"
  assert report.format_value("ddim50 images/s", 6.0) == "6.0"
  assert report.format_value("train steps/s (median of log intervals)", 1.7995) == "1.80"
  assert report.format_value("kids", 0.5) == "0.5"  # a whole word, not any ending
  assert report.format_value("parameters", 269059) == "269059"
  assert report.format_value("kl", 0.0012345) == "0.001234"
  assert report.format_value("fid", float("nan")) == "nan"


def test_metrics_line_and_json_twin(tmp_path):
  assert report.format_metrics({"fid": 3.1, "images/s": 120.0}) == "fid 3.10 | images/s 120.0"
  report.write_json(tmp_path / "a" / "r.json", {"fid": 3.1})
  assert json.loads((tmp_path / "a" / "r.json").read_text()) == {"fid": 3.1}


def test_the_cpu_model_names_its_widest_vector_instructions(tmp_path):
  # Float rounding, and so where a GAN ends up, differs between AVX2 and AVX-512.
  cpuinfo = tmp_path / "cpuinfo"
  for flags, expected in [("fpu avx avx2 avx512f avx512bw", "AMD EPYC (AVX-512)"),
                          ("fpu avx avx2 fma", "AMD EPYC (AVX2)"), ("fpu sse2", "AMD EPYC")]:
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n\n"
                       f"processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n")
    assert report.cpu_model(str(cpuinfo)) == expected


def test_the_command_line_keeps_the_switch_that_changes_xla_kernels(monkeypatch):
  monkeypatch.setattr("sys.argv", ["/x/jaxgen/experiments/run.py", "--model", "gan"])
  monkeypatch.delenv("JAXGEN_NO_XLA_FLAGS", raising=False)
  assert report.command_line() == "python -m jaxgen.experiments.run --model gan"
  monkeypatch.setenv("JAXGEN_NO_XLA_FLAGS", "1")
  assert report.command_line() == (
      "JAXGEN_NO_XLA_FLAGS=1 python -m jaxgen.experiments.run --model gan")
