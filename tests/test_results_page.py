"""The README and docs/: generated numbers up to date, links resolve, README short."""

import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED_CODE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def load_script():
  spec = importlib.util.spec_from_file_location(
      "make_results_page", ROOT / "scripts" / "make_results_page.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def heading_ids(page: pathlib.Path) -> set:
  """The anchors GitHub makes of a page's headings."""
  text = FENCED_CODE.sub("", page.read_text())
  titles = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
  return {re.sub(r"[^\w\- ]", "", t.strip().lower()).replace(" ", "-") for t in titles}


def test_generated_files_are_up_to_date():
  assert load_script().stale_files() == [], "run python scripts/make_results_page.py"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_resolve(page):
  broken = []
  for target in LINK.findall(FENCED_CODE.sub("", page.read_text())):
    if re.match(r"[a-z]+:", target):
      continue
    path, _, fragment = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    if not resolved.exists():
      broken.append(target)
    elif fragment and resolved.suffix == ".md" and fragment not in heading_ids(resolved):
      broken.append(target)
  assert not broken, f"{page.name}: {broken}"


def test_readme_is_short_and_keeps_the_test_command():
  lines = (ROOT / "README.md").read_text().splitlines()
  assert len(lines) <= 210
  assert 'pip install -e ".[test]" && python -m pytest' in lines
