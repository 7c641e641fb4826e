"""The ``oneof`` class decorator shared by the contracts.

A protobuf ``oneof`` is modelled as several Optional fields (default None) of which at most one,
or exactly one when the group is required, may be set. The groups are recorded on the class as
``__oneofs__`` ({group name: (field names, required)}) so that codecs can map them mechanically.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, TypeVar

_C = TypeVar("_C", bound=type)


def oneof(group: str, *names: str, required: bool = True) -> Callable[[_C], _C]:
    """Declare that the fields ``names`` form the protobuf oneof ``group`` of the decorated class.

    Apply it *below* ``@attrs.frozen`` so that attrs sees the ``__attrs_post_init__`` it installs.
    Construction raises ValueError naming the class and the fields when more than one field of the
    group is set, or when none is set and ``required`` is true.
    """

    def decorate(cls: _C) -> _C:
        groups = dict(cls.__dict__.get("__oneofs__", {}))
        groups[group] = (names, required)
        cls.__oneofs__ = groups  # type: ignore[attr-defined]
        # Literals are built on hot paths: check with one C-level attrgetter call per group.
        cls.__oneof_checks__ = tuple(  # type: ignore[attr-defined]
            (operator.attrgetter(*fields) if len(fields) > 1 else _single(fields[0]), group_required)
            for fields, group_required in groups.values()
        )
        cls.__attrs_post_init__ = _check_oneofs  # type: ignore[attr-defined]
        return cls

    return decorate


def _single(name: str) -> Callable[[Any], tuple[Any, ...]]:
    getter = operator.attrgetter(name)
    return lambda obj: (getter(obj),)


def _check_oneofs(self: Any) -> None:
    for getter, required in type(self).__oneof_checks__:
        values = getter(self)
        chosen = len(values) - values.count(None)
        if chosen > 1 or (required and not chosen):
            _raise_oneof_error(self)


def _raise_oneof_error(self: Any) -> None:
    for group, (names, required) in type(self).__oneofs__.items():
        chosen = [name for name in names if getattr(self, name) is not None]
        if len(chosen) > 1 or (required and not chosen):
            expected = ", ".join(repr(name) for name in names)
            got = ", ".join(repr(name) for name in chosen) or "none"
            rule = "exactly one of {} must" if required else "at most one of {} may"
            raise ValueError(f"{type(self).__name__}: {rule.format(expected)} be set (oneof {group!r}), got {got}")
