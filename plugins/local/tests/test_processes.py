"""Task bodies in worker processes: every core used, timeouts that kill, workers that die."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
import time
import typing

import pytest

from taskloom import WorkflowFailurePolicy, current_context, task, workflow
from taskloom.exceptions.user import UserTimeoutError
from taskloom_local.executor import LocalExecutor
from taskloom_local.processes import TaskNotImportable, WorkerDiedError, _Worker, receive, send

# Workers find tasks by reference, so the tasks of these tests live at module level.


@task
def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@task
def setting_seen() -> str:
    return f"{os.getpid()} {os.environ.get('TASKLOOM_TEST_SETTING', '-')}"


@workflow
def settings_seen() -> tuple[str, str]:
    return setting_seen(), setting_seen()


@task
def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


@task(timeout=1)
def sleep_past_timeout(marker: str) -> int:
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(60)
    return 0


@task(retries=1)
def die_once(marker: str) -> int:
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return current_context().attempt


@task
def die_always() -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


@task
def segfault() -> int:
    import ctypes

    ctypes.memset(0, 0, 1)  # writes to address 0: a real segmentation fault
    return 0


@task
def refuse(x: int) -> int:
    raise ValueError(f"no {x}")


def _resident_after_freeing_a_block() -> int:
    """Bytes still resident after 16 MiB was allocated, filled and freed (glibc hands such a block back to
    the system when freed unless told to keep it)."""

    def resident() -> int:
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) * 1024

    before = resident()
    block = bytearray(16 << 20)
    block[::4096] = b"x" * len(block[::4096])
    del block
    return resident() - before


@task
def kept_after_freeing() -> int:
    return _resident_after_freeing_a_block()


@task
def hang_up(marker: str) -> int:
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    os.closerange(3, 1024)  # the worker's end of its pipe to the scheduler among them
    time.sleep(60)
    return 0


@workflow
def two_pids(seconds: float) -> tuple[int, int]:
    return pid_after(seconds=seconds), pid_after(seconds=seconds)


@workflow
def survive(marker: str) -> int:
    return die_once(marker=marker)


@workflow
def one_dies_one_finishes(seconds: float) -> tuple[int, int]:
    return die_always(), pid_after(seconds=seconds)


keep_going = workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)(
    one_dies_one_finishes.workflow_function
)


@pytest.fixture
def executor():
    executor = LocalExecutor(processes=2)
    yield executor
    executor.close()


def test_independent_tasks_run_in_two_worker_processes(executor):
    first, second = executor.execute(two_pids, {"seconds": 0.3})
    assert os.getpid() not in (first, second) and first != second


def test_workers_started_by_an_earlier_run_see_this_runs_taskloom_settings(executor, monkeypatch):
    monkeypatch.setenv("TASKLOOM_TEST_SETTING", "first")
    workers = set(executor.execute(two_pids, {"seconds": 0.3}))  # both workers started, inheriting "first"
    assert [seen.split()[1] for seen in executor.execute(settings_seen, {})] == ["first", "first"]
    monkeypatch.setenv("TASKLOOM_TEST_SETTING", "second")  # the same workers run the next run
    second = executor.execute(settings_seen, {})
    assert {int(seen.split()[0]) for seen in second} <= workers
    assert [seen.split()[1] for seen in second] == ["second", "second"]
    monkeypatch.delenv("TASKLOOM_TEST_SETTING")
    assert [seen.split()[1] for seen in executor.execute(settings_seen, {})] == ["-", "-"]


def test_a_map_runs_its_elements_in_the_workers():
    from taskloom import map_task

    @workflow
    def squares(ns: list[int]) -> list[int]:
        return map_task(spin)(n=ns)

    executor = LocalExecutor(processes=2)
    assert executor.execute(squares, {"ns": [10, 100, 1000]}) == [spin(n=10), spin(n=100), spin(n=1000)]


def test_a_task_past_its_timeout_has_its_worker_killed(executor, tmp_path):
    marker = tmp_path / "pid"

    @workflow
    def wf(marker: str) -> int:
        return sleep_past_timeout(marker=marker)

    with pytest.raises(UserTimeoutError, match="sleep_past_timeout.*killed"):
        executor.execute(wf, {"marker": str(marker)})
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker is gone, not left running


def test_a_worker_killed_mid_task_is_retried_and_the_run_goes_on(executor, tmp_path):
    assert executor.execute(survive, {"marker": str(tmp_path / "died")}) == 1  # the second attempt


def test_a_dead_worker_fails_its_node_with_the_signal_named(executor):
    with pytest.raises(WorkerDiedError, match=r"die_always.*SIGKILL"):
        executor.execute(one_dies_one_finishes, {"seconds": 0.0})


def test_a_worker_that_hangs_up_but_runs_on_is_killed_not_given_the_next_task(tmp_path):
    marker = tmp_path / "pid"

    @workflow
    def wf(marker: str) -> int:
        return hang_up(marker=marker)

    executor = LocalExecutor(processes=1)
    try:
        with pytest.raises(WorkerDiedError, match="hang_up"):
            executor.execute(wf, {"marker": str(marker)})
        with pytest.raises(ProcessLookupError):
            os.kill(int(marker.read_text()), 0)  # killed, not left sleeping with nobody to talk to
        assert executor.execute(two_pids, {"seconds": 0.0})[0] != int(marker.read_text())  # a new worker
    finally:
        executor.close()


def test_a_dead_workers_signal_is_named_however_many_threads_ask_at_once():
    # A forkserver child's exit status is 8 bytes on a pipe; two threads reading it at once (a lane's
    # join, another lane starting a worker, which polls every child) left 255 in place of -SIGKILL
    # (CPython gh-130895): "exited with code 255" for a worker killed by SIGKILL, in CI. Without the
    # lock this fails in most rounds.
    wrong = []
    for _ in range(10):
        worker = _Worker.start()
        worker.process.kill()
        multiprocessing.connection.wait([worker.process.sentinel], 10)
        start = threading.Barrier(6)
        codes: list[int | None] = []

        def ask(process, start, codes):
            start.wait()
            process.is_alive()
            codes.append(process.exitcode)

        threads = [threading.Thread(target=ask, args=(worker.process, start, codes)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        worker.process.join()
        wrong.extend(code for code in [*codes, worker.process.exitcode] if code != -signal.SIGKILL)
        worker.connection.close()
    assert wrong == []


def test_after_a_worker_dies_the_other_nodes_complete_under_that_policy(executor, tmp_path):
    with pytest.raises(WorkerDiedError) as raised:
        executor.execute(keep_going, {"seconds": 0.2})
    assert "1 more" not in "".join(getattr(raised.value, "__notes__", []))  # only die_always failed


def test_a_segfault_fails_the_node_with_a_clear_error(executor):
    @workflow
    def wf() -> int:
        return segfault()

    with pytest.raises(WorkerDiedError, match="SIGSEGV"):
        executor.execute(wf, {})


def test_a_tasks_exception_keeps_its_type_across_the_process_boundary(executor):
    @workflow
    def wf(x: int) -> int:
        return refuse(x=x)

    with pytest.raises(ValueError, match="no 3") as raised:
        executor.execute(wf, {"x": 3})
    assert any("worker process" in note for note in raised.value.__notes__)


def test_a_task_a_worker_cannot_find_is_a_clear_error(executor):
    @task
    def local_only(x: int) -> int:
        return x

    @workflow
    def wf(x: int) -> int:
        return local_only(x=x)

    with pytest.raises(TaskNotImportable, match="local_only.*top level"):
        executor.execute(wf, {"x": 1})


def test_tasks_of_a_script_run_as_main_run_in_workers(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            from taskloom import map_task, task, workflow

            @task
            def pid_of(x: int) -> int:
                return os.getpid()

            @workflow
            def pids(xs: list[int]) -> list[int]:
                return map_task(pid_of)(x=xs)

            if __name__ == "__main__":
                found = pids(xs=[1, 2, 3])
                print("worker" if os.getpid() not in found else "here")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "TASKLOOM_PROCESSES": "2"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "worker"


def test_tasks_of_a_module_run_with_python_m_run_in_workers(tmp_path):
    # Run as `python -m pkg.tasks`, the task is named pkg.tasks.pid_of; workers import pkg.tasks
    # (its `if __name__ == "__main__":` block does not run there) and find it under that name.
    import subprocess
    import sys
    import textwrap

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        textwrap.dedent(
            """
            import os
            from taskloom import map_task, task, workflow

            @task
            def pid_of(x: int) -> int:
                return os.getpid()

            @workflow
            def pids(xs: list[int]) -> list[int]:
                return map_task(pid_of)(x=xs)

            if __name__ == "__main__":
                found = pids(xs=[1, 2, 3])
                print(pid_of.name, "worker" if os.getpid() not in found else "here")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pkg.tasks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TASKLOOM_PROCESSES": "2"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pkg.tasks.pid_of worker"


def test_a_map_in_workers_reports_each_failed_element():
    from taskloom import map_task

    @workflow
    def some_refused(xs: list[int]) -> list[typing.Optional[int]]:
        return map_task(refuse_odd, min_success_ratio=0.5)(x=xs)

    executor = LocalExecutor(processes=2)
    assert executor.execute(some_refused, {"xs": [0, 1, 2, 3]}) == [0, None, 2, None]


@task
def refuse_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def test_a_map_of_a_task_a_worker_cannot_find_fails_with_a_clear_error(executor):
    from taskloom import map_task

    @task
    def hidden(x: int) -> int:
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(hidden)(x=xs)

    with pytest.raises(Exception, match="hidden.*top level") as raised:
        executor.execute(wf, {"xs": [1, 2]})
    assert isinstance(raised.value.__cause__, TaskNotImportable)


class Payload:
    """A value whose data pickles out of band with protocol 5, as numpy arrays and Arrow buffers do."""

    def __init__(self, data: bytearray) -> None:
        self.data = data

    def __reduce_ex__(self, protocol: typing.SupportsIndex) -> tuple[typing.Any, ...]:
        if int(protocol) >= 5:
            return (Payload, (pickle.PickleBuffer(self.data),))
        return (Payload, (bytearray(self.data),))


def _sent_through_a_pipe(value: typing.Any, read: typing.Callable[[typing.Any], typing.Any]) -> typing.Any:
    # A real pipe; the sender on a thread, since a message larger than the pipe's buffer blocks it.
    receiving, sending = multiprocessing.Pipe(duplex=False)
    sender = threading.Thread(target=send, args=(sending, value))
    sender.start()
    try:
        return read(receiving)
    finally:
        sender.join(10)
        receiving.close()
        sending.close()


def test_a_large_buffer_crosses_the_pipe_out_of_band_not_inside_the_pickle():
    data = bytearray(os.urandom(1024)) * 4096  # 4 MiB

    def read(end: typing.Any) -> tuple[typing.Any, bytes, bytes]:
        sizes, pickled = end.recv(), end.recv_bytes()
        raw = b""
        while len(raw) < sum(sizes):  # the buffers follow as raw bytes, their sizes sent first
            raw += os.read(end.fileno(), sum(sizes) - len(raw))
        return sizes, pickled, raw

    sizes, pickled, raw = _sent_through_a_pipe({"table": Payload(data)}, read)
    assert sizes == [len(data)]
    assert len(pickled) < 1024  # the pickle names the buffer; the data is not copied into it
    assert raw == data


def test_a_value_received_from_the_pipe_is_equal_and_its_buffers_writable():
    data = bytearray(os.urandom(1024)) * 1024
    received = _sent_through_a_pipe(("ok", {"t": Payload(data), "n": 3}), receive)
    status, outputs = received
    assert status == "ok" and outputs["n"] == 3
    assert outputs["t"].data == data
    outputs["t"].data[0] ^= 1  # writable, as after an in-band pickle (a pandas column can be written to)
    assert _sent_through_a_pipe(None, receive) is None


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the resident size from Linux's /proc")
def test_a_worker_keeps_the_memory_it_freed_for_the_next_value(executor):
    # Each value a worker receives is new memory; glibc gives a large block pages of its own and returns
    # them when it is freed, so the next value's pages are faulted in and zeroed again (~2/3 of a 30 MiB
    # table's hand-over between two workers, benchmarks/tables.py). Workers keep what they freed.
    import ctypes

    try:
        ctypes.CDLL(None).mallopt  # noqa: B018 (only glibc's allocator is tuned)
    except AttributeError:
        pytest.skip("the C library has no mallopt")
    assert executor.execute(kept_after_freeing, {}) >= 15 << 20
    # Without the tuning, the same interpreter gives the block back (the test can fail).
    fresh = multiprocessing.get_context("spawn").Pool(1)
    try:
        assert fresh.apply(_resident_after_freeing_a_block) < 4 << 20
    finally:
        fresh.terminate()
