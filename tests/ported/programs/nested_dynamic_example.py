"""A dynamic workflow that maps a task and calls a sub-workflow for each group."""

import typing

from flytekit import dynamic, map_task, task, workflow


@task
def split(n: int, size: int) -> typing.List[typing.List[int]]:
    values = list(range(n))
    return [values[i : i + size] for i in range(0, n, size)]


@task
def square(x: int) -> int:
    return x * x


@task
def add(values: typing.List[int]) -> int:
    return sum(values)


@workflow
def group_total(values: typing.List[int]) -> int:
    return add(values=map_task(square)(x=values))


@dynamic
def totals(groups: typing.List[typing.List[int]]) -> typing.List[int]:
    return [group_total(values=group) for group in groups]


@workflow
def nested_wf(n: int = 10, size: int = 3) -> typing.List[int]:
    return totals(groups=split(n=n, size=size))


if __name__ == "__main__":
    print(nested_wf())
