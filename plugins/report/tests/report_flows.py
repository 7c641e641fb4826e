"""Workflows the report's tests run for real (``loom run``), with hostile text in their values and errors."""

from __future__ import annotations

import logging
import time

from taskloom import map_task, task, workflow

#: Text that would run script if a page pasted it as HTML.
HOSTILE = '</script><script>window.injected=1</script><img src=x onerror="window.injected=2">'


@task
def start(n: int) -> int:
    return n


@task
def work(x: int, label: str) -> str:
    time.sleep(0.15)  # long enough that the pool's threads run several at once
    return f"{label} {x}"


@task
def square(x: int) -> int:
    return x * x


@task(cache=True, cache_version="1")
def remembered(x: int) -> int:
    return x + 1


@task
def boom(x: int, label: str) -> int:
    print(f"trying {x} with {label}")
    logging.getLogger("report_flows").warning("about to fail: %s", label)
    raise ValueError(f"no luck with {x}: {label}")


@task
def total(x: int, y: int) -> int:
    return x + y


@workflow
def twenty(n: int = 3, label: str = HOSTILE) -> int:
    """20 nodes: a start, a map, the same cached call twice, 14 slow tasks side by side, a failure and a join."""
    first = start(n=n)
    map_task(square)(x=[1, 2, 3, 4])
    # The second call waits for the first (>>), so it reads the first's result from the cache; the failure
    # comes after both.
    miss = remembered(x=first)
    hit = remembered(x=first)
    miss >> hit
    for _ in range(14):
        work(x=first, label=label)
    failed = boom(x=hit, label=label)
    return total(x=failed, y=first)


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@workflow
def big_map(n: int = 10_000) -> list[int]:
    """A map of ``n`` elements: one node of the report."""
    return map_task(square)(x=numbers(n=n))


@task
def boom_if(x: int, a: str, b: str) -> int:
    if x < 0:
        raise ValueError("negative")
    return len(a) + len(b) + x


@workflow
def small(n: int = 2) -> int:
    """A start, a map of six, two slow tasks side by side and a join: for the executors' reports."""
    first = start(n=n)
    map_task(square)(x=[1, 2, 3, 4, 5, 6])
    left = work(x=first, label="left")
    right = work(x=first, label="right")
    return total(x=boom_if(x=first, a=left, b=right), y=first)
