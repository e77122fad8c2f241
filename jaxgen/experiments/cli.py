"""What every command-line entry point shares: errors are one line, never a traceback.

Exit codes: 2 for bad input (UsageError, or a path that cannot be read or
written), 1 when training had to stop (TrainingError), 130 after Ctrl-C and 143
after SIGTERM (a checkpoint saved first).
"""

import argparse
import logging
import sys
from typing import Callable, List, NoReturn, Optional, Sequence, Tuple

from jaxgen import config as config_lib
from jaxgen.errors import TrainingError, UsageError
from jaxgen.training import distributed


class ArgumentParser(argparse.ArgumentParser):
  """argparse whose errors are one UsageError line (exit code 2 through
  run_main), not a usage block."""

  def error(self, message: str) -> NoReturn:
    raise UsageError(f"{message}; see --help")


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
  except OSError as error:  # a path the command cannot read or write
    if error.filename is None:
      raise
    print(f"error: cannot use {error.filename}: {error.strerror}; check the path and its "
          f"permissions", file=sys.stderr)
    return 2
  except KeyboardInterrupt as error:
    print("interrupted", file=sys.stderr)
    return getattr(error, "exit_code", 130)
  return 0


def parse_with_overrides(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]]
                         ) -> Tuple[argparse.Namespace, List[str]]:
  """The parser's arguments, and the FIELD=VALUE of every --config.FIELD=VALUE
  flag; anything else unrecognised is a UsageError."""
  args, extra = parser.parse_known_args(argv)
  for token in extra:
    if not (token.startswith("--config.") and "=" in token):
      raise UsageError(f"unrecognised argument {token!r}; see --help (config "
                       f"fields are set with --config.FIELD=VALUE)")
  return args, [token[len("--config."):] for token in extra]


def study_parser(description: str, default_workdir: str) -> argparse.ArgumentParser:
  """The arguments every study script under experiments/ takes; a study adds its own."""
  parser = ArgumentParser(description=description)
  parser.add_argument("--preset", default="cpu", choices=config_lib.PRESETS)
  parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
  parser.add_argument("--inception-weights", default=None,
                      help="FID Inception weights (default: $JAXGEN_FID_WEIGHTS or cache)")
  parser.add_argument("--workdir", default=default_workdir,
                      help="root of the study's training runs")
  parser.add_argument("--train-steps", type=int, default=None,
                      help="training steps per model (default: the preset's budget)")
  parser.add_argument("--fid-samples", type=int, default=None,
                      help="samples per FID (default: the preset's budget)")
  parser.add_argument("--out", default=None,
                      help="where the tables and figures go (default: PRESET/ beside "
                           "the study script)")
  return parser


def add_process_flags(parser: argparse.ArgumentParser) -> None:
  """Flags that join this process to a multi-process run (see `start_processes`)."""
  group = parser.add_argument_group(
      "multi-process", "run one copy of the command per process (host); every "
      "process uses its own devices, process 0 writes the files")
  group.add_argument("--distributed", action="store_true",
                     help="detect the processes from the cluster (Cloud TPU pod, "
                          "SLURM, Open MPI)")
  group.add_argument("--coordinator", metavar="HOST:PORT",
                     help="address of process 0, e.g. localhost:12355")
  group.add_argument("--num-processes", type=int, metavar="N")
  group.add_argument("--process-id", type=int, metavar="I", help="0..N-1")


def start_processes(args: argparse.Namespace) -> None:
  """jax.distributed set-up from `add_process_flags`' flags, then progress of long
  work (e.g. a split's FID statistics) on stderr, from process 0 only; call
  before any JAX work."""
  distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                         auto=args.distributed)
  logging.basicConfig(format="jaxgen: %(message)s")
  logging.getLogger("jaxgen").setLevel(
      logging.INFO if distributed.is_main_process() else logging.WARNING)
