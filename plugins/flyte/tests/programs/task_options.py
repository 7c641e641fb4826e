"""Task options that reach the TaskTemplate: cache, retries, timeout, interruptible, resources."""

import datetime

from flytekit import Resources, task, workflow


@task(cache=True, cache_version="1.0", retries=3, timeout=datetime.timedelta(minutes=10), interruptible=True)
def cached(x: int) -> int:
    return x + 1


@task(requests=Resources(cpu="1", mem="512Mi"), limits=Resources(cpu="2", mem="1Gi"))
def sized(x: int) -> int:
    return x * 2


@workflow
def options_wf(x: int = 1) -> int:
    return sized(x=cached(x=x)).with_overrides(retries=5)
