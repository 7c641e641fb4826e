"""flytekit's ``JSON`` alias, so that ported imports resolve; ``Iterator[JSON]`` itself is refused.

In flytekit 1.16 ``Iterator[JSON]`` is a JSON Lines file (a blob of format ``jsonl``) read back line by
line. taskloom does not write that file: an ``Iterator[JSON]`` annotation is refused when the task is
declared, naming the replacement, ``Iterator[dict[str, Any]]`` (a collection of JSON documents, read
back as a :class:`~taskloom.types.iterator.FlyteIterator`) or ``list[dict[str, Any]]``.
"""

from __future__ import annotations

from typing import Any, TypeAlias, Union

JSONCollection: TypeAlias = Union[dict[str, Any], list[Any]]  # noqa: UP007  # flytekit's spelling
JSONScalar: TypeAlias = Union[bool, float, int, str]  # noqa: UP007
JSON: TypeAlias = Union[JSONCollection, JSONScalar]  # noqa: UP007
