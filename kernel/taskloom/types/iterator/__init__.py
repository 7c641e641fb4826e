"""Iterator outputs: ``Iterator[T]`` values, as flytekit's ``flytekit.types.iterator`` names them.

A task annotated ``-> Iterator[T]`` may return any iterable (a generator, typically); its items are
written as a collection of ``T`` (the literal of ``list[T]``), and the tasks that take it receive a
:class:`FlyteIterator` over the items: sized, and iterable again from the start each time, as in
flytekit. flytekit's ``Iterator[JSON]`` (a JSON Lines file) is not offered: see
:mod:`taskloom.types.iterator.json_iterator`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class FlyteIterator(Generic[T]):
    """The items of an ``Iterator[T]`` output, read by the tasks that take it.

    ``len()`` gives the number of items; iterating starts from the first item every time (a task
    that reads it twice sees every item twice), as flytekit's ``FlyteIterator`` does.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[T]) -> None:
        self._items: list[T] = list(items)
        self._index = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        self._index = 0
        return self

    def __next__(self) -> T:
        if self._index >= len(self._items):
            raise StopIteration
        item = self._items[self._index]
        self._index += 1
        return item

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FlyteIterator) and self._items == other._items

    __hash__ = None  # type: ignore[assignment]  # mutable (its position), so unhashable like a list

    def __getstate__(self) -> Any:
        return self._items

    def __setstate__(self, state: Any) -> None:
        self._items = state
        self._index = 0

    def __repr__(self) -> str:
        return f"FlyteIterator({self._items!r})"
