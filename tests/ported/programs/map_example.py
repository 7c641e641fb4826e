"""map_task over a list, with a constant bound by functools.partial."""

import functools
import typing

from flytekit import map_task, task, workflow


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def total(values: typing.List[int]) -> int:
    return sum(values)


@workflow
def map_wf(xs: typing.List[int], factor: int = 3) -> int:
    scaled = map_task(functools.partial(scale, factor=factor))(x=xs)
    return total(values=scaled)


if __name__ == "__main__":
    print(map_wf(xs=list(range(10))))
