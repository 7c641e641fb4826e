"""The runner: a running task's body starts child nodes (what map, dynamic and eager tasks build on)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest

from taskloom import PythonInstanceTask, TaskMetadata, current_context, task, workflow
from taskloom.core.executor import handling_calls, task_runner
from taskloom.exceptions.user import FlyteRecoverableException, UserTimeoutError


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)


@task
def square(x: int) -> int:
    return x * x


class FanOut(PythonInstanceTask):
    """Runs ``child`` once per number below ``n`` through the runner and sums the outputs."""

    def __init__(self, name: str, child, *, submit: bool = True, **kwargs) -> None:
        super().__init__(name, None, inputs={"n": int}, outputs={"o0": int}, **kwargs)
        self.child = child
        self.submit = submit

    def execute(self, n: int) -> int:
        with task_runner() as runner:
            if self.submit:
                futures = [runner.submit(self.child, {"x": i}, name=str(i)) for i in range(n)]
                return sum(future.result()["o0"] for future in futures)
            return sum(runner.run(self.child, {"x": i}, name=str(i))["o0"] for i in range(n))


def test_a_task_body_runs_children_through_the_runner_inside_a_workflow():
    fan_out = FanOut("fan_out", square)

    @workflow
    def wf(n: int) -> int:
        return fan_out(n=n)

    assert wf(n=4) == 0 + 1 + 4 + 9


def test_called_outside_any_execution_a_task_gets_a_fresh_runner():
    assert FanOut("fan_out_direct", square, submit=False)(n=3) == 5
    assert FanOut("fan_out_direct_submit", square)(n=3) == 5


def test_children_run_concurrently_when_submitted():
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()  # breaks (and fails the test) unless three children run at once
        return x

    assert FanOut("meet_all", meet)(n=3) == 3


def test_each_child_is_retried_on_its_own():
    attempts: dict[int, int] = {}

    @task(retries=1)
    def flaky(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        if x == 1 and current_context().attempt == 0:
            raise FlyteRecoverableException("first attempt of element 1 fails")
        return x

    assert FanOut("retrying", flaky, submit=False)(n=3) == 3
    assert attempts == {0: 1, 1: 2, 2: 1}


def test_a_failing_child_raises_its_own_exception_type():
    @task
    def fails(x: int) -> int:
        raise KeyError(f"no {x}")

    with pytest.raises(KeyError, match="no 0"):
        FanOut("failing", fails)(n=2)


def test_children_share_the_execution_of_their_parent():
    seen: list[str] = []

    @task
    def record(x: int) -> int:
        seen.append(current_context().execution_id.name)
        return x

    fan_out = FanOut("recording", record)

    @task
    def parent_id() -> str:
        return current_context().execution_id.name

    @workflow
    def wf(n: int) -> tuple[int, str]:
        return fan_out(n=n), parent_id()

    total, execution = wf(n=3)
    assert total == 3 and seen == [execution] * 3


def test_a_timed_out_body_does_not_wait_for_its_children(monkeypatch):
    monkeypatch.setenv("TASKLOOM_TIMEOUTS", "threads")  # the body runs on a thread, which cannot be stopped
    started, released, finished = threading.Event(), threading.Event(), threading.Event()

    @task
    def slow(x: int) -> int:
        started.set()
        released.wait(5)
        finished.set()
        return x

    fan_out = FanOut("timing_out", slow, metadata=TaskMetadata(timeout=dt.timedelta(milliseconds=200)))

    @workflow
    def wf(n: int) -> int:
        return fan_out(n=n)

    try:
        with pytest.raises(UserTimeoutError, match="timing_out"):
            wf(n=1)
        assert started.is_set() and not finished.is_set()  # the child still runs; nobody waited for it
    finally:
        released.set()


class Recorder:
    """A call handler that records calls and answers with a constant."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def call(self, entity, args, kwargs):
        self.calls.append((entity.name, args, kwargs))
        return "handled"

    async def call_async(self, entity, args, kwargs):
        self.calls.append(("aio " + entity.name, args, kwargs))
        return "handled async"


@workflow
def squared(x: int) -> int:
    return square(x=x)


def test_a_call_handler_receives_calls_of_tasks_and_workflows():
    handler = Recorder()
    with handling_calls(handler):
        assert square(3) == "handled"
        assert squared(x=2) == "handled"
        with handling_calls(None):  # switched off again inside
            assert square(3) == 9
    assert square(3) == 9
    assert handler.calls == [(square.name, (3,), {}), (squared.name, (), {"x": 2})]


def test_aio_awaits_the_handler_or_runs_the_call_in_a_thread():
    async def main():
        plain = await asyncio.gather(square.aio(x=2), squared.aio(x=3))
        handler = Recorder()
        with handling_calls(handler):
            handled = await square.aio(x=2)
        return plain, handled, handler.calls

    plain, handled, calls = asyncio.run(main())
    assert plain == [4, 9]
    assert handled == "handled async" and calls == [("aio " + square.name, (), {"x": 2})]


def test_a_workflow_called_from_async_code_runs_its_async_tasks_to_completion():
    @task
    async def plus_one(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @workflow
    def wf(x: int) -> int:
        return plus_one(x=plus_one(x=x))

    async def main():
        return wf(x=1)  # a sync call from a coroutine: the loop of this thread is running

    assert asyncio.run(main()) == 3


def test_map_gives_each_elements_outputs_or_exception_in_order():
    @task
    def checked_half(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x // 2

    with task_runner() as runner:
        outcomes = runner.map(checked_half, [{"x": i} for i in range(5)], concurrency=3)
    assert [outcome if isinstance(outcome, dict) else type(outcome) for outcome in outcomes] == [
        {"o0": 0},
        ValueError,
        {"o0": 1},
        ValueError,
        {"o0": 2},
    ]


def test_map_starts_nothing_more_once_on_done_says_stop():
    seen: list[int] = []

    @task
    def record_index(x: int) -> int:
        seen.append(x)
        if x == 1:
            raise KeyError("stop here")
        return x

    with task_runner() as runner:
        outcomes = runner.map(
            record_index,
            [{"x": i} for i in range(5)],
            concurrency=1,
            on_done=lambda index, outcome: isinstance(outcome, Exception),
        )
    assert seen == [0, 1] and outcomes[2:] == [None, None, None]


def test_map_elements_get_retries_and_share_the_execution():
    attempts: dict[int, int] = {}
    executions: set[str] = set()

    @task(retries=2)
    def flaky_element(x: int) -> int:
        attempts[x] = attempts.get(x, 0) + 1
        executions.add(current_context().execution_id.name)
        if current_context().attempt < x:
            raise FlyteRecoverableException("again")
        return x

    with task_runner() as runner:
        outcomes = runner.map(flaky_element, [{"x": i} for i in range(3)])
    assert outcomes == [{"o0": 0}, {"o0": 1}, {"o0": 2}]
    assert attempts == {0: 1, 1: 2, 2: 3} and len(executions) == 1


def test_map_runs_no_more_lanes_than_its_concurrency():
    running_now, most = [0], [0]
    lock = threading.Lock()

    @task
    def hold(x: int) -> int:
        with lock:
            running_now[0] += 1
            most[0] = max(most[0], running_now[0])
        threading.Event().wait(0.01)
        with lock:
            running_now[0] -= 1
        return x

    with task_runner() as runner:
        runner.map(hold, [{"x": i} for i in range(12)], concurrency=2)
    assert most[0] == 2
