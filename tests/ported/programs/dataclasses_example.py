"""Dataclasses as inputs and outputs, nested, in lists and optional fields."""

import itertools
import typing
from dataclasses import dataclass, field

from flytekit import task, workflow


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Shape:
    name: str
    points: typing.List[Point] = field(default_factory=list)
    colour: typing.Optional[str] = None


@task
def square(side: float) -> Shape:
    corners = [Point(0, 0), Point(side, 0), Point(side, side), Point(0, side)]
    return Shape(name="square", points=corners)


@task
def paint(shape: Shape, colour: str) -> Shape:
    return Shape(name=shape.name, points=shape.points, colour=colour)


@task
def perimeter(shape: Shape) -> float:
    pts = shape.points + shape.points[:1]
    return sum(((b.x - a.x) ** 2 + (b.y - a.y) ** 2) ** 0.5 for a, b in itertools.pairwise(pts))


@workflow
def shape_wf(side: float = 2.0) -> typing.Tuple[Shape, float]:
    shape = paint(shape=square(side=side), colour="red")
    return shape, perimeter(shape=shape)


if __name__ == "__main__":
    shape, length = shape_wf(side=3.0)
    print(shape.name, shape.colour, len(shape.points), shape.points[2], length)
