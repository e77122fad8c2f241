"""Name -> function registries, so configs can name variants by string."""

from typing import Callable, Dict, Generic, Iterator, List, TypeVar

from jaxgen.errors import UsageError

T = TypeVar("T")


class Registry(Generic[T]):
  """Maps names to objects; an unknown name lists the valid ones.

  >>> schedules = Registry("schedule")
  >>> @schedules.register("linear")
  ... def linear_schedule(...): ...
  >>> schedules.get("linear")
  """

  def __init__(self, kind: str):
    self.kind = kind
    self._entries: Dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    def add(entry: T) -> T:
      if name in self._entries:
        raise ValueError(f"{self.kind} {name!r} is registered twice")
      self._entries[name] = entry
      return entry
    return add

  def get(self, name: str) -> T:
    if name not in self._entries:
      raise UsageError(
          f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
    return self._entries[name]

  def names(self) -> List[str]:
    return sorted(self._entries)

  def __contains__(self, name: str) -> bool:
    return name in self._entries

  def __iter__(self) -> Iterator[str]:
    return iter(self.names())
