"""Failure nodes (``on_failure``: a task taking the error, a workflow) and outputs with a custom cache hash."""

from typing import Annotated, Optional

from flytekit import HashMethod, task, workflow
from flytekit.types.error import FlyteError


@task
def create_cluster(name: str) -> str:
    return f"cluster-{name}"


@task(retries=1)
def run_job(cluster: str, size: int) -> int:
    return len(cluster) * size


@task
def clean_up(name: str, size: int, err: Optional[FlyteError] = None) -> None:
    print(f"cleaning up {name} ({size}) after {err}")


@workflow(on_failure=clean_up)
def guarded(name: str, size: int = 3) -> int:
    return run_job(cluster=create_cluster(name=name), size=size)


@workflow
def clean_up_all(name: str, size: int, err: Optional[FlyteError] = None) -> None:
    clean_up(name=name, size=size, err=err)


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow(on_failure=clean_up_all)
def guarded_twice(name: str = "demo", size: int = 2) -> int:
    return add(a=guarded(name=name, size=size), b=run_job(cluster=name, size=size))


def _length_hash(values: list[int]) -> str:
    return str(len(values))


@task
def numbers(n: int) -> Annotated[list[int], HashMethod(_length_hash)]:
    return list(range(n))


@task(cache=True, cache_version="1")
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def hashed(n: int = 3) -> int:
    return total(values=numbers(n=n))
