"""Checking a type without building its literal type: the same verdict and the same error.

Declaring a task checks its types with ``TypeEngine.check_type`` (so that declaring and running
workflows locally never imports the literal contracts); templates build literal types later with
``TypeEngine.to_literal_type``. Both must agree on every annotation, word for word.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from typing import Annotated, Any, NamedTuple

import pytest

from taskloom.core.type_engine import TypeEngine
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class FloatEnum(enum.Enum):
    HALF = 0.5


class Clash(enum.Enum):
    ONE = 1
    ALSO_ONE = "1"


@dataclasses.dataclass
class Point:
    x: int
    y: list[float]
    mood: Mood = Mood.HAPPY


@dataclasses.dataclass
class WithSet:
    values: set[int]


@dataclasses.dataclass
class Nested:
    point: Point
    sets: list[WithSet]


@dataclasses.dataclass
class Tree:
    children: list[Tree]


class Pair(NamedTuple):
    left: int
    right: str | None


class BadPair(NamedTuple):
    left: int
    right: frozenset[int]


class Opaque:
    pass


@dataclasses.dataclass
class Unresolvable:
    inner: NotDefinedAnywhere  # noqa: F821 - deliberately unresolvable


SUPPORTED = [
    int,
    float,
    str,
    bool,
    bytes,
    type(None),
    dt.datetime,
    dt.date,
    dt.timedelta,
    list[int],
    list[list[float]],
    dict[str, int],
    dict[str, list[str]],
    dict,
    dict[str, Any],
    tuple[int, str],
    tuple[int, ...],
    tuple[Point, Pair],
    int | None,
    typing.Optional[str],
    int | str | None,
    list[int | None],
    Mood,
    Point,
    Pair,
    FlyteFile,
    FlyteDirectory,
    FlyteFile[typing.TypeVar("csv")],
    Annotated[int, "a note"],
    list[Annotated[str, "a note"]],
]

UNSUPPORTED = [
    Any,
    Opaque,
    set[int],
    list,
    list[set[int]],
    dict[int, str],
    dict[str, Opaque],
    tuple,
    tuple[int, set[int]],
    tuple[Opaque, ...],
    int | Opaque,
    list[int | Any],
    FloatEnum,
    Clash,
    WithSet,
    Nested,
    Tree,
    BadPair,
    Unresolvable,
    list[Tree],
    dict[str, WithSet],
    Annotated[Opaque, "a note"],
]


def _outcome(check: typing.Callable[[Any], Any], annotation: Any) -> Any:
    try:
        check(annotation)
    except Exception as error:
        return type(error), str(error)
    return None


@pytest.mark.parametrize("annotation", SUPPORTED + UNSUPPORTED, ids=repr)
def test_checking_a_type_agrees_with_building_its_literal_type(annotation):
    # Checked first: building the literal type fills caches that the check may use.
    assert _outcome(TypeEngine.check_type, annotation) == _outcome(TypeEngine.to_literal_type, annotation)
    # And once more, now that the engine has seen the type.
    assert _outcome(TypeEngine.check_type, annotation) == _outcome(TypeEngine.to_literal_type, annotation)


@pytest.mark.parametrize("annotation", SUPPORTED, ids=repr)
def test_supported_types_pass_the_check(annotation):
    assert _outcome(TypeEngine.check_type, annotation) is None


@pytest.mark.parametrize("annotation", UNSUPPORTED, ids=repr)
def test_unsupported_types_fail_the_check(annotation):
    assert _outcome(TypeEngine.check_type, annotation) is not None
