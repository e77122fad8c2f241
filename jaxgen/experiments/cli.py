"""What every command-line entry point shares: errors are one line, never a traceback.

Exit codes: 2 for bad input (UsageError), 1 when training had to stop
(TrainingError), 130 after Ctrl-C.
"""

import argparse
import sys
from typing import Callable, Optional, Sequence

from jaxgen import config as config_lib
from jaxgen.errors import TrainingError, UsageError


def run_main(main: Callable[[Optional[Sequence[str]]], None],
             argv: Optional[Sequence[str]] = None) -> int:
  """Runs `main(argv)` and turns the project's errors into exit codes."""
  try:
    main(argv)
  except UsageError as error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  except TrainingError as error:
    print(f"error: {error}", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    return 130
  return 0


def study_parser(description: str, default_workdir: str) -> argparse.ArgumentParser:
  """The arguments every study script under experiments/ takes; a study adds its own."""
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--preset", default="cpu", choices=config_lib.PRESETS)
  parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
  parser.add_argument("--inception-weights", default=None,
                      help="FID Inception weights (default: $JAXGEN_FID_WEIGHTS or cache)")
  parser.add_argument("--workdir", default=default_workdir,
                      help="root of the study's training runs")
  parser.add_argument("--fid-samples", type=int, default=None,
                      help="samples per FID (default: the preset's budget)")
  parser.add_argument("--out", default=None,
                      help="where the tables and figures go (default: PRESET/ beside "
                           "the study script)")
  return parser
