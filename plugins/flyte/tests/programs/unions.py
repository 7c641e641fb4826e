"""Unions whose variants are containers, dataclasses, enums and files; nested dataclasses.

A Flyte backend matches union variants by their structure tag, and flytekit reads a union value by
it: both SDKs must write flytekit's tags (``Typed List``, ``Typed Dict``, ...) in the union literal
types and in the union values (the launch plan's defaults here).
"""

import enum
import typing
from dataclasses import dataclass, field

from flytekit import FlyteFile, task, workflow


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Inner:
    weight: float
    tags: typing.List[str] = field(default_factory=list)


@dataclass
class Outer:
    name: str
    inner: Inner
    history: typing.List[Inner]
    extra: typing.Optional[Inner] = None
    note: typing.Optional[str] = None


@task
def containers(xs: typing.Optional[typing.List[int]], choice: typing.Union[typing.Dict[str, int], str]) -> str:
    return f"{xs} {choice}"


@task
def records(
    outer: typing.Optional[Outer], colour: typing.Optional[Colour], report: typing.Optional[FlyteFile] = None
) -> typing.Optional[Inner]:
    return outer.inner if outer is not None else None


@task
def nested(outer: Outer) -> typing.List[Outer]:
    return [outer]


@workflow
def unions_wf(
    xs: typing.Optional[typing.List[int]] = [1, 2],  # noqa: B006
    choice: typing.Union[typing.Dict[str, int], str] = {"a": 1},  # noqa: B006
    colour: typing.Optional[Colour] = Colour.RED,
) -> typing.Optional[Inner]:
    containers(xs=xs, choice=choice)
    outer = Outer(name="o", inner=Inner(weight=1.0), history=[Inner(weight=2.0, tags=["a"])])
    nested(outer=outer)
    return records(outer=outer, colour=colour)
