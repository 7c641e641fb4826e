"""Annotations as flytekit programs write them: a tuple literal of outputs, a one-field NamedTuple, an int where a
float is expected, and datetimes that come back in UTC."""

import datetime
import typing

from flytekit import task, workflow

Fit = typing.NamedTuple("Fit", [("slope", float)])


@task
def bounds(values: typing.List[float]) -> (float, float):
    return min(values), max(values)


@task
def fit(values: typing.List[float]) -> Fit:
    return Fit(slope=(values[-1] - values[0]) / (len(values) - 1))


@task
def count(values: typing.List[float]) -> int:
    return len(values)


@task
def scale(x: float, factor: float) -> float:
    return x * factor


@task
def stamp(when: datetime.datetime) -> datetime.datetime:
    return when


@workflow
def typing_wf(values: typing.List[float]) -> typing.Tuple[float, float, float, float]:
    low, high = bounds(values=values)
    result = fit(values=values)
    n = count(values=values)
    return low, high, scale(x=result.slope, factor=2.0), scale(x=n, factor=0.5)


if __name__ == "__main__":
    low, high, slope, half = typing_wf(values=[1.0, 3.0, 5.0, 7.0])
    print(low, high, slope, half)
    when = stamp(when=datetime.datetime(2024, 5, 6, 7, 8, 9))
    print(when.tzinfo is not None, when.isoformat())
