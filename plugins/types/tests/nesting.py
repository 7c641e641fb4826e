"""Values that contain themselves or are nested deeper than Python recurses, for the tests of
taskloom-types and of the integration tests that run them through tasks and workflows.
"""

from __future__ import annotations

import dataclasses
import sys

#: Deeper than the interpreter can recurse, whatever the stack already holds.
TOO_DEEP = 3 * sys.getrecursionlimit()


@dataclasses.dataclass
class Box:
    label: str
    data: dict


def nested_lists(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def nested_dicts(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def list_holding_itself() -> list:
    value: list = [1]
    value.append(value)
    return value


def dict_holding_itself() -> dict:
    value: dict = {"n": 1}
    value["self"] = value
    return value


def causes(error: BaseException) -> list[type]:
    """The types of ``error`` and of its causes, outermost first."""
    found = [type(error)]
    while error.__cause__ is not None:
        error = error.__cause__
        found.append(type(error))
    return found
