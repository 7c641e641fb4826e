"""A workflow calling another workflow (a subworkflow node) and a launch plan (a launch-plan node)."""

from flytekit import LaunchPlan, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def inner(x: int) -> int:
    return inc(x=inc(x=x))


inner_lp = LaunchPlan.get_or_create(inner, name="subworkflows.inner_lp", default_inputs={"x": 10})


@workflow
def outer(x: int = 1) -> int:
    a = inner(x=x)
    b = inner_lp(x=a)
    return total(xs=[a, b])
