"""The exceptions the command-line tools turn into one line and an exit code."""


def first_line(error: BaseException, limit: int = 300) -> str:
  """The first line of `error`'s message (at most `limit` characters), else its
  type's name: enough to name a cause inside a one-line error."""
  text = str(error).strip()
  return text.splitlines()[0][:limit] if text else type(error).__name__


class UsageError(ValueError):
  """Bad input from the user: a name, a value or a missing file.

  The command-line tools print its message as one line and exit with code 2, so
  the message must name the problem and the fix.
  """


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss); the message says what was
  kept and what to change. The command-line tools print it and exit 1."""


class Interrupted(KeyboardInterrupt):
  """Training stopped at a step boundary on a signal (SIGINT: Ctrl-C; SIGTERM: a
  preemption) after saving a checkpoint. The tools exit 128 + the signal number
  (130, 143), as a shell reports a process the signal ended."""

  def __init__(self, signum: int):
    super().__init__(signum)
    self.exit_code = 128 + signum
