"""A workflow calling another workflow, and a launch plan of it."""

import typing

from flytekit import LaunchPlan, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def mul(x: int, y: int) -> int:
    return x * y


@workflow
def inner(x: int) -> typing.Tuple[int, int]:
    a = inc(x=x)
    return a, mul(x=a, y=a)


@workflow
def outer(x: int) -> int:
    a, b = inner(x=x)
    _, d = inner(x=b)
    return mul(x=a, y=d)


inner_lp = LaunchPlan.get_or_create(inner, name="inner_lp", default_inputs={"x": 5})


@workflow
def through_plan() -> int:
    a, b = inner_lp()
    return mul(x=a, y=b)


if __name__ == "__main__":
    a, b = inner_lp(x=1)
    print(outer(x=2), through_plan(), a, b)
