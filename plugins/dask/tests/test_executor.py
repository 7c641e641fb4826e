"""The executor ``dask`` on a real cluster: the local executor's semantics, every task body in a Dask worker."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest
from distributed import get_task_stream, get_worker
from taskloom import dynamic, eager, map_task, task, wait_for_input, workflow
from taskloom.exceptions.user import FlyteRecoverableException, UserTimeoutError
from taskloom.extend import get_executor

from taskloom_dask import DaskExecutor, DaskPool
from taskloom_dask.pool import MIN_SIZE

# Workers find tasks by reference (module, file, name), so the tasks of these tests live at module level.


@task
def where(x: int) -> tuple[int, str, int]:
    """x + 1, the Dask worker's address, and the process that ran the body."""
    return x + 1, get_worker().address, os.getpid()


@task
def stamp(log: str, name: str, after: int) -> int:
    with open(log, "a") as stream:
        stream.write(f"{name} {time.time()}\n")
    return after + 1


@task
def join(log: str, name: str, left: int, right: int) -> int:
    with open(log, "a") as stream:
        stream.write(f"{name} {time.time()}\n")
    return left + right


@task
def double(x: int) -> int:
    return 2 * x


@task
def worker_pid(x: int) -> int:
    return os.getpid()


@task
def fails_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"{x} is odd")
    return x


@task(retries=2)
def flaky(marker: str) -> int:
    with open(marker, "a+") as stream:
        stream.seek(0)
        attempts = len(stream.read())
        stream.write("x")
    if attempts < 2:
        raise FlyteRecoverableException(f"attempt {attempts} fails")
    return attempts


@task(timeout=dt.timedelta(seconds=0.5))
def too_slow(seconds: float) -> int:
    time.sleep(seconds)
    return 1


@task(timeout=dt.timedelta(seconds=1))
def quick_with_a_timeout(x: int) -> int:
    time.sleep(0.1)
    return x


@task
def busy(seconds: float) -> int:
    time.sleep(seconds)
    return 0


@task
def raises_timeout() -> int:
    raise TimeoutError("the task's own timeout, not the pool's")


@task(cache=True, cache_version="1")
def counted(counter: str, x: int) -> int:
    with open(counter, "a") as stream:
        stream.write("ran\n")
    return x * 10


@workflow
def two_branches(log: str) -> tuple[int, int, int]:
    # a -> b and a -> c; d needs both: b and c start only after a, d only after both.
    a = stamp(log=log, name="a", after=0)
    b = stamp(log=log, name="b", after=a)
    c = stamp(log=log, name="c", after=a)
    return b, c, join(log=log, name="d", left=b, right=c)


@workflow
def placed(x: int) -> tuple[int, str, int]:
    return where(x=x)


@workflow
def doubled(xs: list[int]) -> list[int]:
    return map_task(double)(x=xs)


@workflow
def pids_of(xs: list[int]) -> list[int]:
    return map_task(worker_pid)(x=xs)


@workflow
def half_fail(xs: list[int]) -> list[int | None]:
    return map_task(fails_on_odd, min_success_ratio=0.5)(x=xs)


@workflow
def twice_counted(counter: str, x: int) -> int:
    return counted(counter=counter, x=x)


@dynamic
def pids_dynamically(n: int) -> list[int]:
    return [worker_pid(x=i) for i in range(n)]


@workflow
def dynamic_pids(n: int) -> list[int]:
    return pids_dynamically(n=n)


@eager
async def pids_eagerly(n: int) -> list[int]:
    return [worker_pid(x=i) for i in range(n)]


@workflow
def eager_pids(n: int) -> list[int]:
    return pids_eagerly(n=n)


def driver_and_cluster(client):
    return os.getpid(), set(client.scheduler_info()["workers"])


def test_bodies_run_in_the_dask_workers(dask_executor, client, unrecorded):
    x, address, pid = dask_executor.execute(placed, {"x": 1})
    driver, workers = driver_and_cluster(client)
    assert x == 2 and address in workers and pid != driver


def test_a_workflow_call_with_taskloom_executor_dask_runs_on_the_cluster(dask_executor, client, monkeypatch):
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "dask")
    assert get_executor("dask").process_pool() is dask_executor.pool
    x, address, pid = placed(x=41)
    assert x == 42 and address in set(client.scheduler_info()["workers"]) and pid != os.getpid()


def test_nodes_run_in_dataflow_order_with_their_outputs(dask_executor, tmp_path, unrecorded):
    log = tmp_path / "log"
    b, c, d = dask_executor.execute(two_branches, {"log": str(log)})
    assert (b, c, d) == (2, 2, 4)
    started = {name: float(at) for name, at in (line.split() for line in log.read_text().splitlines())}
    assert started["a"] < started["b"] and started["a"] < started["c"]
    assert started["d"] > max(started["b"], started["c"])


def test_a_map_runs_in_batches_on_the_workers(dask_executor, client, unrecorded):
    with get_task_stream(client) as stream:
        assert dask_executor.execute(doubled, {"xs": list(range(1000))}) == [2 * x for x in range(1000)]
    futures = [entry for entry in stream.data if "double" in entry["key"]]
    assert 1 <= len(futures) <= 1000 / 4  # batches of elements, not a future per element
    pids = set(dask_executor.execute(pids_of, {"xs": list(range(50))}))
    assert os.getpid() not in pids


def test_min_success_ratio_gives_none_for_failed_elements(dask_executor, unrecorded):
    assert dask_executor.execute(half_fail, {"xs": [0, 1, 2, 3]}) == [0, None, 2, None]


def test_below_min_success_ratio_the_map_fails_with_the_elements_error(dask_executor, unrecorded):
    with pytest.raises(Exception, match="is odd"):
        dask_executor.execute(half_fail, {"xs": [1, 3, 5, 2]})


def test_retries_run_a_failed_attempt_again(dask_executor, tmp_path, unrecorded):
    marker = tmp_path / "attempts"

    @workflow
    def retried(marker: str) -> int:
        return flaky(marker=marker)

    assert dask_executor.execute(retried, {"marker": str(marker)}) == 2
    assert marker.read_text() == "xxx"


def test_a_task_past_its_timeout_fails_with_a_timeout_error(dask_executor, unrecorded):
    @workflow
    def slow() -> int:
        return too_slow(seconds=1.5)

    with pytest.raises(UserTimeoutError, match=r"too_slow.*did not finish within its timeout of 0:00:00.5.*Dask"):
        dask_executor.execute(slow, {})


def test_a_tasks_own_timeout_error_is_not_taken_for_the_pools(dask_executor, unrecorded):
    @workflow
    def own() -> int:
        return raises_timeout()

    with pytest.raises(TimeoutError, match="the task's own timeout") as caught:
        dask_executor.execute(own, {})
    assert not isinstance(caught.value, UserTimeoutError)
    assert any("in Dask worker tcp://127.0.0.1:" in note for note in caught.value.__notes__)


def test_a_cached_task_runs_once_for_the_same_inputs(dask_executor, tmp_path, unrecorded):
    counter = tmp_path / "counter"
    assert dask_executor.execute(twice_counted, {"counter": str(counter), "x": 4}) == 40
    assert dask_executor.execute(twice_counted, {"counter": str(counter), "x": 4}) == 40
    assert counter.read_text() == "ran\n"


def test_a_task_a_worker_cannot_find_is_a_clear_error(dask_executor, unrecorded):
    @task
    def hidden(x: int) -> int:
        return x

    @workflow
    def wf(x: int) -> int:
        return hidden(x=x)

    with pytest.raises(Exception, match=r"hidden.*cannot run on a Dask cluster: it is not bound to a name"):
        dask_executor.execute(wf, {"x": 1})


def test_an_executor_under_another_name_is_found_by_that_name(client, unrecorded):
    with DaskExecutor(client, name="dask-elsewhere") as executor:
        assert get_executor("dask-elsewhere").process_pool() is executor.pool
        assert executor.execute(placed, {"x": 0})[0] == 1
    with pytest.raises(Exception, match="no installed taskloom plugin provides the executor 'dask-elsewhere'"):
        get_executor("dask-elsewhere")


def test_a_pool_on_a_client_it_was_given_leaves_the_client_open(client):
    pool = DaskPool(client)
    assert pool.size == max(MIN_SIZE, 2 * sum(client.nthreads().values()))
    pool.close()
    assert client.status == "running"


@pytest.mark.parametrize("workflow_with_children", [dynamic_pids, eager_pids], ids=["dynamic", "eager"])
def test_the_children_of_dynamic_and_eager_bodies_run_in_the_workers(
    workflow_with_children, dask_executor, client, unrecorded
):
    worker_pids = set(client.run(os.getpid).values())
    pids = dask_executor.execute(workflow_with_children, {"n": 6})
    assert len(pids) == 6 and set(pids) <= worker_pids and os.getpid() not in pids


def test_time_queued_behind_busy_workers_does_not_count_against_a_timeout(client):
    pool = DaskPool(client)
    context = {"execution_id": "queued", "attempt": 0}
    try:
        occupying = [threading.Thread(target=pool.run, args=(busy, {"seconds": 1.5}), kwargs=context) for _ in range(2)]
        for thread in occupying:
            thread.start()
        time.sleep(0.3)  # both workers (one thread each) are busy for over a second more
        assert pool.run(quick_with_a_timeout, {"x": 7}, timeout=dt.timedelta(seconds=1), **context) == 7
        for thread in occupying:
            thread.join()
    finally:
        pool.close()


def test_two_pools_on_one_client_both_count_timeouts_from_the_start(client):
    """Dask keeps one handler per event topic and client: a second pool on the client must not take the first's,
    or the first's timeouts count from the attempt's end and a slow body is never stopped."""
    first, second = DaskPool(client), DaskPool(client)
    context = {"execution_id": "two-pools", "attempt": 0}
    try:
        for pool in (first, second):  # each has run a task with a timeout: each has asked for the workers' word
            assert pool.run(quick_with_a_timeout, {"x": 1}, timeout=dt.timedelta(seconds=5), **context) == 1
        began = time.monotonic()
        with pytest.raises(UserTimeoutError, match="too_slow"):
            first.run(too_slow, {"seconds": 3.0}, timeout=dt.timedelta(seconds=0.5), **context)
        assert time.monotonic() - began < 2.5  # not at the body's end (3 s)
    finally:
        first.close()
        second.close()


@task
def plus_one(a: int) -> int:
    return a + 1


@workflow
def asks(a: int = 0) -> int:
    return plus_one(a=wait_for_input("answer", timeout=dt.timedelta(seconds=20), expected_type=int))


def test_a_gate_takes_the_signal_sent_to_the_executor_dask(dask_executor, monkeypatch):
    from taskloom.core.gate import clear_signals
    from taskloom.extend import send_signal, signal_board

    monkeypatch.setenv("TASKLOOM_EXECUTOR", "dask")  # send_signal asks for the board of this executor
    assert signal_board() is signal_board("local")  # the gates wait in this process, in taskloom-local's scheduler
    send_signal(None, "answer", 41)  # what `loom run --executor dask --signal answer=41` does before the run
    try:
        assert asks() == 42
    finally:
        clear_signals()


@task
def talks(x: int) -> int:
    print(f"talking in {os.getpid()}")
    if x < 0:
        raise ValueError("negative")
    return x


@workflow
def talking(x: int) -> int:
    return talks(x=x)


def test_a_run_that_keeps_logs_keeps_those_of_bodies_run_in_dask_workers(client, monkeypatch):
    from taskloom_local import ExecutionStore

    monkeypatch.setenv("TASKLOOM_RECORD", "1")  # read when the executor is made
    monkeypatch.setenv("TASKLOOM_CAPTURE_LOGS", "1")  # what loom run --report sets
    store = ExecutionStore()
    with DaskExecutor(client, name="dask-logs") as executor:
        assert executor.execute(talking, {"x": 1}) == 1
        with pytest.raises(ValueError, match="negative"):
            executor.execute(talking, {"x": -1})
    failed, succeeded = store.executions(2)
    for record in (succeeded, failed):
        (node,) = store.nodes(record.id)
        assert node.logs.startswith("talking in ") and int(node.logs.split()[-1]) != os.getpid()
