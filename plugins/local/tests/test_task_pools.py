"""A plugin's task pool (hook taskloom_task_pool): the local executor answers for its executor name and
runs every task body on it, with its own scheduling (dataflow, retries, map batches) kept here."""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest

from taskloom import map_task, task, workflow
from taskloom.exceptions.system import PluginError
from taskloom.extend import get_executor, hookimpl
from taskloom_local.executor import LocalExecutor
from taskloom_local.processes import ProcessPool

# Workers find tasks by reference, so the tasks of these tests live at module level.


@task
def pid_plus(x: int) -> tuple[int, int]:
    return x + 1, os.getpid()


@task
def double(x: int) -> int:
    return 2 * x


@task(retries=1)
def fails_once(marker: str) -> int:
    if not os.path.exists(marker):
        open(marker, "w").close()
        from taskloom.extend import RecoverableSystemException

        raise RecoverableSystemException("lost on the first attempt")
    return os.getpid()


@task
def interrupts_its_driver(driver: int, pid_file: str) -> int:
    with open(pid_file, "w") as stream:
        stream.write(str(os.getpid()))
    os.kill(driver, signal.SIGINT)  # as Ctrl-C at the terminal would, while this body runs in the pool
    time.sleep(60)
    return 0


@workflow
def chain(x: int) -> tuple[int, int, int]:
    y, first = pid_plus(x=x)
    z, second = pid_plus(x=y)
    return z, first, second


@workflow
def doubled(xs: list[int]) -> list[int]:
    return map_task(double)(x=xs)


class CountingPool:
    """A TaskPool of a plugin: taskloom-local's own worker processes, counting what is asked of them."""

    def __init__(self) -> None:
        self.inner = ProcessPool(2)
        self.runs = 0
        self.batches = 0
        self.kills = 0

    @property
    def size(self) -> int:
        return self.inner.size

    @property
    def closed(self) -> bool:
        return self.inner.closed

    def run(self, entity, inputs, *, timeout=None, explain=None, **context):
        self.runs += 1
        return self.inner.run(entity, inputs, timeout=timeout, explain=explain, **context)

    def run_many(self, entity, inputs, checkpoints, **context):
        self.batches += 1
        return self.inner.run_many(entity, inputs, checkpoints, **context)

    def kill(self) -> None:
        # Slow, as killing remote work is (a Dask future, a Pod): an interrupted execution must have waited for it
        # before its KeyboardInterrupt reaches the caller.
        time.sleep(0.2)
        self.kills += 1
        self.inner.kill()

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def counting_pool():
    pool = CountingPool()
    yield pool
    pool.close()


def provide(plugins, pool, executor: str) -> None:
    """Register now a plugin that has only a task pool: ``pool`` for the executor name ``executor``."""
    plugin = SimpleNamespace(taskloom_task_pool=hookimpl(lambda name: pool if name == executor else None))
    plugins.register(plugin, name=f"{executor}-pool")


@pytest.fixture
def elsewhere(taskloom_plugins, counting_pool, monkeypatch):
    """The executor name "elsewhere", provided by a plugin registered now that has only a task pool."""
    counting_pool.runs = counting_pool.batches = 0
    provide(taskloom_plugins, counting_pool, "elsewhere")
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    return counting_pool


def test_an_executor_name_with_a_plugin_pool_is_the_local_executor_on_that_pool(elsewhere):
    executor = get_executor("elsewhere")
    assert isinstance(executor, LocalExecutor)
    assert executor.process_pool() is elsewhere and executor.processes == elsewhere.size
    executor.close()  # the run's end lets go of its own workers, never of a pool it was given
    assert executor.process_pool() is elsewhere


def test_a_workflow_called_on_that_executor_runs_every_body_on_the_pool(elsewhere, monkeypatch):
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "elsewhere")
    z, first, second = chain(x=1)
    assert z == 3
    assert elsewhere.runs == 2
    assert os.getpid() not in (first, second)  # the bodies ran in the pool's workers


def test_a_map_over_that_executor_goes_to_the_pool_in_batches(elsewhere):
    executor = get_executor("elsewhere")
    assert executor.execute(doubled, {"xs": list(range(40))}) == [2 * x for x in range(40)]
    assert elsewhere.batches >= 1 and elsewhere.batches < 40


def test_a_recorded_map_on_a_queueing_pool_sizes_its_batches_by_the_workers_time(elsewhere, monkeypatch, tmp_path):
    """A batch that waited in a queue is not slow work: batches grow past one element by the time the worker took
    (run_each's ``seconds``). Sized by the round trip, a 0.1 s queue is past the durability threshold (50 ms) and every
    batch would stay one element: 100 batches for 100 elements."""
    monkeypatch.setenv("TASKLOOM_RECORD", "1")
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    queued_for = []
    run_many = elsewhere.run_many

    def queued(entity, inputs, checkpoints, **context):
        time.sleep(0.1)  # as on a cluster kept busier than its workers
        results = run_many(entity, inputs, checkpoints, **context)
        queued_for.append(results.seconds)
        return results

    monkeypatch.setattr(elsewhere, "run_many", queued)
    executor = get_executor("elsewhere")
    assert executor.execute(doubled, {"xs": list(range(100))}) == [2 * x for x in range(100)]
    assert all(0 <= seconds < 0.1 for seconds in queued_for)  # the worker's time, without the queue
    assert 1 < elsewhere.batches <= 20


def test_a_node_is_made_durable_by_the_time_its_worker_took_when_the_pool_says_it(elsewhere, monkeypatch, tmp_path):
    """A node that ran longer than the durability threshold is written before its dependents start; on a pool that
    queues, the wall time around ``pool.run`` is mostly the queue, so a pool says its worker's time (note_worked)
    and a quick node is not made to wait for a write."""
    from taskloom_local import note_worked
    from taskloom_local.recorder import Recorder

    monkeypatch.setenv("TASKLOOM_RECORD", "1")
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    flushes = []
    flush = Recorder.flush
    monkeypatch.setattr(Recorder, "flush", lambda self, timeout=None: flushes.append(1) or flush(self, timeout))
    run, noting = elsewhere.run, []

    def queued(entity, inputs, **context):
        time.sleep(0.1)  # past the threshold (50 ms), as a cluster's queue is
        result = run(entity, inputs, **context)
        if noting:
            note_worked(0.001)
        return result

    monkeypatch.setattr(elsewhere, "run", queued)
    assert get_executor("elsewhere").execute(chain, {"x": 1})[0] == 3
    unnoted, flushes[:] = len(flushes), []
    noting.append(True)
    assert get_executor("elsewhere").execute(chain, {"x": 1})[0] == 3
    assert unnoted - len(flushes) == 2  # the chain's two nodes, each written at its end when the wall time counted


def test_the_pools_recoverable_error_is_retried_by_the_executor(elsewhere, tmp_path):
    @workflow
    def once(marker: str) -> int:
        return fails_once(marker=marker)

    pid = get_executor("elsewhere").execute(once, {"marker": str(tmp_path / "marker")})
    assert pid != os.getpid() and elsewhere.runs == 2


def test_a_name_no_plugin_has_a_pool_for_is_still_no_executor(elsewhere):
    with pytest.raises(PluginError, match="no installed taskloom plugin provides the executor 'nowhere'"):
        get_executor("nowhere")


def test_ctrl_c_stops_what_runs_on_the_pool(elsewhere, tmp_path):
    pid_file = tmp_path / "pid"

    @workflow
    def interrupted(driver: int, pid_file: str) -> int:
        return interrupts_its_driver(driver=driver, pid_file=pid_file)

    kills = elsewhere.kills
    with pytest.raises(KeyboardInterrupt):
        get_executor("elsewhere").execute(interrupted, {"driver": os.getpid(), "pid_file": str(pid_file)})
    assert elsewhere.kills == kills + 1
    body = int(pid_file.read_text())
    for _ in range(100):  # the pool's kill ended the body's worker (it is reaped by its forkserver)
        try:
            os.kill(body, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the worker {body} running the interrupted body is still alive")


def test_a_pool_executor_makes_its_pool_the_one_its_name_means_until_closed(taskloom_plugins, monkeypatch):
    from taskloom.extend import PoolExecutor, get_task_pool

    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "own")
    assert get_task_pool("own") is None
    with PoolExecutor(CountingPool(), name="own") as executor:
        assert get_task_pool("own") is executor.pool
        assert executor.execute(doubled, {"xs": [1, 2]}) == [2, 4]
        z, first, _ = chain(x=1)  # a plain call finds the pool by the executor name
        assert z == 3 and first != os.getpid()
        assert executor.pool.runs == 2
        pool = executor.pool
    assert pool.closed and get_task_pool("own") is None
    with pytest.raises(PluginError, match="'own'"):
        get_executor("own")


def test_a_newer_pool_executor_of_a_name_wins_and_closing_the_older_keeps_it(taskloom_plugins, monkeypatch):
    from taskloom.extend import PoolExecutor, get_task_pool

    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    older = PoolExecutor(CountingPool(), name="shared")
    newer = PoolExecutor(CountingPool(), name="shared")
    try:
        assert get_task_pool("shared") is newer.pool
        older.close()
        assert get_task_pool("shared") is newer.pool
    finally:
        newer.close()
    assert get_task_pool("shared") is None


def test_the_gates_of_a_pool_executor_take_the_signals_sent_to_its_name(taskloom_plugins, monkeypatch):
    import datetime as dt

    from taskloom import wait_for_input
    from taskloom.core.gate import clear_signals
    from taskloom.extend import PoolExecutor, send_signal, signal_board

    @workflow
    def asks() -> list[int]:
        return doubled(xs=[wait_for_input("answer", timeout=dt.timedelta(seconds=20), expected_type=int)])

    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "gated")
    assert signal_board() is None  # nobody has made the executor "gated" yet
    with PoolExecutor(CountingPool(), name="gated") as executor:
        assert signal_board() is signal_board("local")
        send_signal(None, "answer", 21)
        try:
            assert executor.execute(asks, {}) == [42]
        finally:
            clear_signals()


# --- a pool that starts bodies itself (TaskPool.start): no scheduling thread waits for each ------------------------


@task
def succeeds_on(x: int, marker: str) -> int:
    """Fails (recoverably) until the marker file exists; on the attempt that finds it missing, makes it."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        from taskloom.extend import RecoverableSystemException

        raise RecoverableSystemException("lost on the first attempt")
    return x


@task(retries=1)
def retried_element(x: int, directory: str) -> int:
    return succeeds_on.task_function(x=x, marker=os.path.join(directory, str(x)))


@task
def fails_for(x: int) -> int:
    if x == 3:
        raise ValueError("three is refused")
    return x


@task(timeout=60)
def bounded(x: int) -> int:
    return x


@task
def summed(values: list[int]) -> int:
    return sum(values)


@workflow
def fanned(n: int, directory: str) -> int:
    return summed(values=[retried_element(x=x, directory=directory) for x in range(6)] + [bounded(x=n)])


@workflow
def fanned_failing() -> int:
    return summed(values=[fails_for(x=x) for x in range(5)])


class StartingPool(CountingPool):
    """A pool that also starts bodies without a thread of the executor waiting (``start``), as taskloom-dask's."""

    def __init__(self) -> None:
        super().__init__()
        from concurrent.futures import ThreadPoolExecutor

        self.starts = 0
        self._waiters = ThreadPoolExecutor(8)

    def start(self, entity, inputs, **context):
        self.starts += 1
        return self._waiters.submit(lambda: (self.inner.run(entity, inputs, **context), 0.001))

    def close(self) -> None:
        self._waiters.shutdown()
        super().close()


@pytest.fixture
def starting(taskloom_plugins, monkeypatch, tmp_path):
    """The executor name "starting", on a pool that starts bodies itself."""
    pool = StartingPool()
    provide(taskloom_plugins, pool, "starting")
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    yield pool
    pool.close()


def test_a_pool_that_starts_bodies_runs_plain_nodes_without_a_thread_each_and_retries_them(starting, tmp_path):
    executor = get_executor("starting")
    assert executor.execute(fanned, {"n": 10, "directory": str(tmp_path)}) == sum(range(6)) + 10
    # Six retried elements started twice each; the node with a timeout and the lone last node went by run().
    assert starting.starts == 12
    assert starting.runs == 2


def test_a_started_node_is_recorded_and_a_resume_reuses_it(starting, monkeypatch, tmp_path):
    from taskloom_local.store import ExecutionStore

    monkeypatch.setenv("TASKLOOM_RECORD", "1")
    executor = get_executor("starting")
    with pytest.raises(ValueError, match="three is refused"):
        executor.execute(fanned_failing, {})
    store = ExecutionStore(str(tmp_path / "data"))
    (failed,) = store.executions(1)
    nodes = {node.path: node for node in store.nodes(failed.id)}
    assert sorted(node.status for path, node in nodes.items() if path != "n5") == ["failed"] + ["succeeded"] * 4
    starts = starting.starts
    with pytest.raises(ValueError, match="three is refused"):
        executor.resume(failed.id)
    assert starting.starts - starts == 1  # only the failed node ran again


def test_a_started_node_that_fails_fails_the_run_with_its_own_error(starting):
    with pytest.raises(ValueError, match="three is refused"):
        get_executor("starting").execute(fanned_failing, {})
    assert starting.starts == 5 and starting.runs == 0
