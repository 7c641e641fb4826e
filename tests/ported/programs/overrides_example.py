"""Task settings overridden where a task is called: resources, retries, node names, cache."""

import typing

from flytekit import Resources, task, workflow


@task(requests=Resources(cpu="1", mem="200Mi"), retries=1)
def work(x: int) -> int:
    return x * 7


@task
def collect(values: typing.List[int]) -> int:
    return sum(values)


@workflow
def override_wf(x: int = 1) -> int:
    a = work(x=x).with_overrides(requests=Resources(cpu="2", mem="1Gi"), name="heavy")
    b = work(x=a).with_overrides(retries=3, node_name="second")
    return collect(values=[a, b])


if __name__ == "__main__":
    print(override_wf(x=2))
