"""Custom cache hashes of values (flytekit's ``flytekit.core.hash``).

``Annotated[T, HashMethod(fn)]`` on a task output (or input) makes ``fn(value)`` the value's hash:
its literal carries it in ``Literal.hash``, and a cache key uses that hash instead of the value's
content, so two values with the same hash hit the same cache entry (flyteidl's rule for cache keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class HashMethod(Generic[T]):
    """Wraps ``function``, which returns the hash (a string) of a value of type ``T``."""

    def __init__(self, function: Callable[[T], str]) -> None:
        self._function = function

    def calculate(self, obj: T) -> str:
        """The hash of ``obj``: what the function returns for it."""
        return self._function(obj)
