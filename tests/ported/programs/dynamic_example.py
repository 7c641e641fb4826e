"""@dynamic: the number of nodes is decided at run time."""

import typing

from flytekit import dynamic, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task
def add(values: typing.List[int]) -> int:
    return sum(values)


@dynamic
def sum_of_squares(n: int) -> int:
    squares = [square(x=i) for i in range(n)]
    return add(values=squares)


@workflow
def dynamic_wf(n: int = 4) -> int:
    return sum_of_squares(n=n)


if __name__ == "__main__":
    print(dynamic_wf(n=5))
