"""``map_task`` over a task, with a bound input (``functools.partial``) and concurrency/min_success_ratio."""

import functools

from flytekit import map_task, task, workflow


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def to_text(x: int) -> str:
    return str(x)


@workflow
def mapped_wf(xs: list[int] = [1, 2, 3], factor: int = 2) -> list[str | None]:  # noqa: B006 (a workflow default)
    scaled = map_task(functools.partial(scale, factor=factor), concurrency=2)(x=xs)
    # Below 1.0, a failed element yields None: the outputs become Optional.
    return map_task(to_text, min_success_ratio=0.5)(x=scaled)
