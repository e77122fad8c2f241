"""The one exception type for bad user input."""


class UsageError(ValueError):
  """Bad input from the user: a name, a value or a missing file.

  The command-line tools print its message as one line and exit with code 2, so
  the message must name the problem and the fix.
  """


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss); the message says what was
  kept and what to change. The command-line tools print it and exit 1."""
