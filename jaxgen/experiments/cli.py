"""What every command-line entry point shares: errors are one line, never a traceback.

Exit codes: 2 for bad input (UsageError), 1 when training had to stop
(TrainingError), 130 after Ctrl-C.
"""

import sys
from typing import Callable, Optional, Sequence

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
