"""A ``@dynamic`` task that builds its workflow at run time, called from a workflow."""

from flytekit import dynamic, task, workflow


@task
def add(a: int, b: int) -> int:
    return a + b


@dynamic
def fan_out(n: int) -> list[int]:
    return [add(a=i, b=n) for i in range(n)]


@workflow
def dynamic_wf(n: int = 3) -> list[int]:
    return fan_out(n=n)
