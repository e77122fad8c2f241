"""Range checks of config fields: a value no run can use is one UsageError line
that names the field, the rule and the flag that fixes it."""

from typing import Any, Callable, Iterable, NoReturn

import ml_collections

from jaxgen.errors import UsageError


def fail(field: str, rule: str, value: Any, fix: str = "VALUE") -> NoReturn:
  """Raises the one-line error for config field `field` (dotted path); `fix`
  is the value the flag it suggests sets, when only one is allowed."""
  raise UsageError(f"config field {field!r} must be {rule}, got {value!r}; "
                   f"set --config.{field}={fix}")


def require(config: ml_collections.ConfigDict, field: str, ok: Callable[[Any], bool],
            rule: str, fix: str = "VALUE") -> None:
  """fail() unless ok(config.<field>); `field` is a dotted path such as "fid.every"."""
  value = config
  for name in field.split("."):
    value = value[name]
  if not ok(value):
    fail(field, rule, value, fix)


def at_least(low: float) -> Callable[[Any], bool]:
  """The test `value >= low`, for require()."""
  return lambda value: value >= low


def in_unit_interval(value: float) -> bool:
  """0 <= value < 1: a decay, a momentum or a dropout rate."""
  return 0 <= value < 1


def choice(config: ml_collections.ConfigDict, field: str, names: Iterable[str]) -> None:
  """fail() unless config.<field> is one of `names` (a Registry or a tuple), so a
  misspelt name is refused before a run writes anything."""
  names = sorted(names)
  require(config, field, lambda value: value in names, "one of: " + ", ".join(names))
