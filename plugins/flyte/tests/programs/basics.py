"""Tasks over primitives, collections, a dataclass, Optional and defaults; several outputs; ``>>``; overrides.

Written with ``typing.List``/``Dict``/``Optional``/``Tuple``, as flytekit programs often are; the
other programs use ``list``, ``dict`` and ``X | None``.
"""

import datetime
import typing
from dataclasses import dataclass

from flytekit import task, workflow


@dataclass
class Point:
    x: float
    y: float
    label: str = ""


@task
def primitives(a: int, b: float, c: str, d: bool, when: datetime.datetime, span: datetime.timedelta) -> str:
    return f"{a} {b} {c} {d} {when} {span}"


@task
def collections(
    xs: typing.List[int], table: typing.Dict[str, float], nested: typing.List[typing.Dict[str, int]]
) -> typing.Dict[str, typing.List[int]]:
    return {"xs": xs, "sizes": [len(table), len(nested)]}


@task
def move(p: Point, dx: float = 1.0) -> Point:
    return Point(x=p.x + dx, y=p.y, label=p.label)


@task
def maybe(n: typing.Optional[int] = None, greeting: str = "hello") -> typing.Optional[str]:
    return None if n is None else f"{greeting} {n}"


@task
def split(n: int) -> typing.Tuple[int, str]:
    return n * 2, str(n)


@task
def side_effect() -> None:
    print("side effect")


@workflow
def basics_wf(n: int = 3, p: Point = Point(x=1.0, y=2.0)) -> typing.Tuple[int, str, Point, typing.Optional[str]]:  # noqa: B008
    doubled, text = split(n=n)
    before = side_effect()
    moved = move(p=p)
    before >> moved
    greeting = maybe(n=doubled).with_overrides(retries=2, node_name="greet")
    primitives(
        a=n,
        b=2.5,
        c=text,
        d=True,
        when=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        span=datetime.timedelta(seconds=90),
    )
    collections(xs=[n, doubled, 7], table={"a": 1.5}, nested=[{"k": n}])
    return doubled, text, moved, greeting
