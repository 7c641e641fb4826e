"""map_task, @dynamic and @eager together (taskloom-map with taskloom-dynamic, on the local executor)."""

from __future__ import annotations

import asyncio

import pytest

from taskloom import dynamic, eager, map_task, task, workflow


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)


@task
def square(x: int) -> int:
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def squares_of(xs: list[int]) -> int:
    return total(xs=map_task(square)(x=xs))


def test_a_map_inside_a_subworkflow():
    @workflow
    def outer(n: int) -> int:
        return squares_of(xs=[1, 2, n])

    assert outer(n=3) == 1 + 4 + 9


def test_a_map_inside_a_dynamic_over_lists_made_at_run_time():
    @dynamic
    def chunks(n: int, size: int) -> list[int]:
        return [total(xs=map_task(square)(x=list(range(start, min(start + size, n))))) for start in range(0, n, size)]

    @workflow
    def wf(n: int) -> list[int]:
        return chunks(n=n, size=2)

    assert wf(n=5) == [0 + 1, 4 + 9, 16]


def test_an_eager_workflow_awaits_a_map_and_a_dynamic():
    @dynamic
    def doubled(n: int) -> list[int]:
        return [square(x=i) for i in range(n)]

    @eager
    async def mixed(n: int) -> int:
        mapped = await map_task(square).aio(x=list(range(n)))
        fanned = doubled(n=n)
        return sum(mapped) + sum(fanned)

    assert asyncio.run(mixed(n=4)) == 2 * (0 + 1 + 4 + 9)
