"""The local executor runs compiled workflows: dataflow order, concurrency, retries, failure policies."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import typing

import pytest

from taskloom import WorkflowFailurePolicy, task, workflow
from taskloom.exceptions.user import FlyteRecoverableException, TypeTransformerFailedError
from taskloom_local.executor import LocalExecutor


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)  # the default: local


@dataclasses.dataclass
class Stats:
    total: int
    values: list[int]


class Split(typing.NamedTuple):
    head: int
    tail: list[int]


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def stats(xs: list[int]) -> Stats:
    return Stats(sum(xs), xs)


@task
def split(xs: list[int]) -> Split:
    return Split(xs[0], xs[1:])


@workflow
def inner(x: int) -> int:
    return add(a=x, b=100)


@workflow
def pipeline(x: int, y: int = 3) -> tuple[int, int]:
    s = add(a=x, b=y)
    t = total(xs=[s, 4, x])
    return inner(x=t), t


def test_a_workflow_runs_on_the_local_executor_by_default():
    assert pipeline(1) == (1 + 3 + 4 + 1 + 100, 9)
    assert pipeline(x=1, y=0) == (106, 6)


def test_fields_items_and_named_tuples_flow_between_nodes():
    @workflow
    def picks(xs: list[int]) -> Split:
        result = stats(xs=xs)
        parts = split(xs=xs)
        return add(a=result.total, b=result.values[1]), parts.tail

    outcome = picks(xs=[1, 2, 3])
    assert outcome == (8, [2, 3]) and outcome.head == 8 and type(outcome).__name__ == "Split"


def test_a_workflow_without_outputs_returns_none():
    seen = []

    @task
    def record(x: int) -> None:
        seen.append(x)

    @workflow
    def quiet(x: int) -> None:
        record(x=x)

    assert quiet(x=5) is None and seen == [5]


def test_independent_nodes_run_concurrently():
    both_running = threading.Barrier(2, timeout=10)

    @task
    def meet(x: int) -> int:
        both_running.wait()  # raises BrokenBarrierError unless the other node runs at the same time
        return x

    @workflow
    def fan(x: int, y: int) -> int:
        return add(a=meet(x=x), b=meet(x=y))

    assert fan(x=1, y=2) == 3


def test_rshift_orders_nodes_without_data_between_them():
    events = []

    @task
    def step(name: str) -> None:
        events.append(f"start {name}")
        time.sleep(0.05)
        events.append(f"end {name}")

    @workflow
    def ordered() -> None:
        first = step(name="first")
        second = step(name="second")
        first >> second

    ordered()
    assert events == ["start first", "end first", "start second", "end second"]


def test_recoverable_errors_are_retried_up_to_the_retries():
    attempts = []

    @task(retries=2)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise FlyteRecoverableException("try again")
        return x

    @workflow
    def run(x: int) -> int:
        return flaky(x=x)

    assert run(x=4) == 4 and len(attempts) == 3


def test_retries_can_be_overridden_per_node_and_run_out():
    attempts = []

    @task(retries=5)
    def always_flaky(x: int) -> int:
        attempts.append(x)
        raise FlyteRecoverableException("still failing")

    @workflow
    def run(x: int) -> int:
        return always_flaky(x=x).with_overrides(retries=1)

    with pytest.raises(FlyteRecoverableException, match="still failing"):
        run(x=1)
    assert len(attempts) == 2


def test_other_errors_are_not_retried_and_keep_their_type_with_node_and_workflow_named():
    attempts = []

    class ParseError(ValueError):
        pass

    @task(retries=3)
    def parse(text: str) -> int:
        attempts.append(text)
        raise ParseError(f"cannot parse {text!r}")

    @workflow
    def run(text: str) -> int:
        return parse(text=text)

    with pytest.raises(ParseError, match="cannot parse 'x'") as caught:
        run(text="x")
    assert len(attempts) == 1
    notes = caught.value.__notes__
    assert any("parse" in note for note in notes) and any("in node n0 of workflow" in note for note in notes)


def test_a_wrong_output_at_run_time_names_the_task():
    @task
    def liar(x: int) -> int:
        return str(x)

    @workflow
    def run(x: int) -> int:
        return liar(x=x)

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*liar': output 'o0' expects int, got str '1'"):
        run(x=1)


def failure_policy_workflow(policy, ran):
    failed = threading.Event()

    @task
    def fail(x: int) -> int:
        failed.set()
        raise RuntimeError("boom")

    @task
    def slow(x: int) -> int:
        failed.wait(10)
        time.sleep(1.0)  # let the executor see the failure before this node finishes
        return x

    @task
    def after(x: int) -> int:
        ran.append(x)
        return x

    @workflow(failure_policy=policy)
    def run(x: int) -> int:
        fail(x=x)
        return after(x=slow(x=x))

    return run


def test_fail_immediately_starts_no_node_after_a_failure():
    ran = []
    with pytest.raises(RuntimeError, match="boom"):
        failure_policy_workflow(WorkflowFailurePolicy.FAIL_IMMEDIATELY, ran)(x=1)
    assert ran == []


def test_fail_after_executable_nodes_complete_runs_what_does_not_depend_on_the_failure():
    ran = []
    with pytest.raises(RuntimeError, match="boom"):
        failure_policy_workflow(WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, ran)(x=1)
    assert ran == [1]


def test_nodes_depending_on_a_failed_node_never_run():
    ran = []

    @task
    def fail(x: int) -> int:
        raise RuntimeError("boom")

    @task
    def after(x: int) -> int:
        ran.append(x)
        return x

    @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def run(x: int) -> int:
        return after(x=fail(x=x))

    with pytest.raises(RuntimeError, match="boom"):
        run(x=1)
    assert ran == []


def test_a_bounded_executor_still_runs_everything():
    assert LocalExecutor(max_workers=1).execute(pipeline, {"x": 1, "y": 3}) == (109, 9)


# A task with a timeout runs in a worker process (killed at its deadline), so it must be found by
# reference: defined at module level. Attempts append to the file ``log``.


@task(timeout=1, retries=2)
def stuck_in_a_process(seconds: float, log: str) -> float:
    import os

    with open(log, "a") as stream:
        stream.write(f"start {os.getpid()} {time.time()}\n")
    time.sleep(seconds)
    with open(log, "a") as stream:  # the side effect a killed attempt never has
        stream.write(f"end {os.getpid()}\n")
    return seconds


def test_a_timed_out_attempt_is_stopped_before_its_retry_starts(tmp_path):
    from taskloom.exceptions.user import UserTimeoutError

    log = tmp_path / "attempts.log"
    with pytest.raises(
        UserTimeoutError,
        match=r"task '.*stuck_in_a_process' did not finish within its timeout of 0:00:01; its worker process was killed",
    ):
        LocalExecutor().execute(stuck_in_a_process, {"seconds": 4.0, "log": str(log)})
    lines = log.read_text().splitlines()
    starts = [line.split() for line in lines if line.startswith("start")]
    workers = {int(start[1]) for start in starts}
    assert len(starts) == 3 and len(workers) == 3  # each retry had a fresh worker: the one before it was killed
    # Every worker is gone when the run fails (the first would otherwise sleep on for a second or more), so
    # none can reach its side effect later; none reached it before.
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not [line for line in log.read_text().splitlines() if line.startswith("end")]


_SLOW_IMPORT = """
import multiprocessing
import time

from taskloom import task

if multiprocessing.parent_process() is not None:  # only in the worker process
    time.sleep({seconds})


@task(timeout=1)
def quick(x: int) -> int:
    return x + 1
"""


def _module_importing_slowly_in_workers(tmp_path, monkeypatch, seconds: float):
    import importlib
    import sys

    name = f"slow_import_{int(seconds * 10)}"
    (tmp_path / f"{name}.py").write_text(_SLOW_IMPORT.format(seconds=seconds))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def test_a_timeout_bounds_the_run_not_the_import_of_the_task_s_module_by_its_worker(tmp_path, monkeypatch):
    module = _module_importing_slowly_in_workers(tmp_path, monkeypatch, 2.5)
    assert LocalExecutor().execute(module.quick, {"x": 1}) == 2


def test_a_worker_that_cannot_load_its_task_in_time_is_killed_and_says_so(tmp_path, monkeypatch):
    from taskloom.exceptions.user import UserTimeoutError
    from taskloom_local import processes

    monkeypatch.setattr(processes, "LOAD_TIMEOUT", 1.5)
    module = _module_importing_slowly_in_workers(tmp_path, monkeypatch, 30)
    started = time.monotonic()
    with pytest.raises(
        UserTimeoutError, match=r"task '.*quick': its worker process could not load it within 1.5 seconds"
    ):
        LocalExecutor().execute(module.quick, {"x": 1})
    assert time.monotonic() - started < 25  # killed at the load deadline, not after the import's 30 s


def test_a_task_within_its_timeout_returns_normally_from_its_worker_process(tmp_path):
    assert LocalExecutor().execute(stuck_in_a_process, {"seconds": 0.01, "log": str(tmp_path / "attempts.log")}) == 0.01
    assert "end" in (tmp_path / "attempts.log").read_text()


def test_a_task_with_a_timeout_that_a_worker_cannot_find_is_a_clear_error():
    from taskloom_local.processes import TaskNotImportable

    @task(timeout=5)
    def local_only(x: int) -> int:
        return x

    with pytest.raises(
        TaskNotImportable, match="it has a timeout, so it runs in a worker process.*TASKLOOM_TIMEOUTS=threads"
    ):
        LocalExecutor().execute(local_only, {"x": 1})


def test_on_threads_a_timed_out_attempt_keeps_running_and_a_warning_says_so(monkeypatch):
    from taskloom.exceptions.user import UserTimeoutError

    monkeypatch.setenv("TASKLOOM_TIMEOUTS", "threads")
    attempts = []
    release = threading.Event()

    @task(timeout=1, retries=1)
    def stuck(x: int) -> int:
        attempts.append(x)
        release.wait(30)
        return x

    @workflow
    def run(x: int) -> int:
        return stuck(x=x)

    try:
        with pytest.warns(RuntimeWarning, match="cannot be stopped and keeps running"):
            with pytest.raises(
                UserTimeoutError,
                match=r"task '.*stuck' did not finish within its timeout of 0:00:01 \(its thread keeps running\)",
            ):
                run(x=1)
    finally:
        release.set()  # let the abandoned threads end
    assert len(attempts) == 2


def test_a_node_timeout_override_applies():
    import datetime as dt

    from taskloom.exceptions.user import UserTimeoutError

    release = threading.Event()

    @task
    def slow(x: int) -> int:
        release.wait(30)
        return x

    @workflow
    def run(x: int) -> int:
        return slow(x=x).with_overrides(timeout=dt.timedelta(seconds=0.2))

    try:
        with pytest.raises(UserTimeoutError):
            LocalExecutor(timeouts="threads").execute(run, {"x": 1})
    finally:
        release.set()


def test_a_task_within_its_timeout_returns_normally_on_a_thread():
    @task(timeout=30)
    def quick(x: int) -> int:
        return x * 2

    @workflow
    def run(x: int) -> int:
        return quick(x=x)

    assert LocalExecutor(timeouts="threads").execute(run, {"x": 4}) == 8


def test_a_task_can_opt_other_errors_in_to_retries():
    attempts = []

    @task(retries=2, retry_on=(ConnectionError,))
    def fetch(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError("flaky network")
        return x

    @workflow
    def run(x: int) -> int:
        return fetch(x=x)

    assert run(x=5) == 5 and len(attempts) == 3


def test_retry_on_takes_exception_classes_only():
    from taskloom.exceptions.user import ValidationError

    with pytest.raises(ValidationError, match="retry_on expects exception classes"):

        @task(retry_on=("ConnectionError",))
        def bad(x: int) -> int:
            return x


def test_fail_immediately_does_not_start_queued_nodes():
    started = []
    gate = threading.Event()

    @task
    def fail_first(x: int) -> int:
        raise RuntimeError("boom")

    @task
    def queued(x: int) -> int:
        started.append(x)
        gate.wait(0.5)
        return x

    @workflow
    def run(x: int) -> list[int]:
        fail_first(x=x)
        return [queued(x=1), queued(x=2), queued(x=3)]

    with pytest.raises(RuntimeError, match="boom"):
        LocalExecutor(max_workers=1).execute(run, {"x": 0})
    gate.set()
    assert len(started) <= 1  # the one worker may have taken one before the failure was seen
