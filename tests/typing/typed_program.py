"""A user's program, written as a flytekit user writes one: it must type-check clean under mypy and pyright."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from taskloom import LaunchPlan, Resources, conditional, map_task, task, workflow


@dataclass
class Point:
    x: float
    y: float


@task(retries=2, requests=Resources(cpu="1", mem="200Mi"))
def square(value: int) -> int:
    return value * value


@task
def total(values: list[int]) -> int:
    return sum(values)


@task(cache=True, cache_version="1", timeout=datetime.timedelta(seconds=30))
def describe(point: Point, label: str = "p") -> str:
    return f"{label}=({point.x}, {point.y})"


@task
def double(value: int) -> int:
    return 2 * value


@workflow
def squares(values: list[int]) -> int:
    squared = map_task(square)(value=values)
    return total(values=squared)


@workflow
def branch(value: int) -> int:
    return conditional("sign").if_(value >= 0).then(double(value=value)).else_().then(square(value=value))


@workflow
def pipeline(values: list[int], point: Point) -> tuple[int, str]:
    result = squares(values=values)
    text = describe(point=point, label="origin")
    return result, text


nightly = LaunchPlan.get_or_create(pipeline, name="nightly", default_inputs={"values": [1, 2, 3]})

if __name__ == "__main__":
    answer: int = squares(values=[1, 2, 3])
    print(answer, branch(value=-3), pipeline(values=[1, 2], point=Point(1.0, 2.0)))
