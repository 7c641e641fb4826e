"""Ctrl-C and SIGTERM stop a run: nothing new starts, worker processes are killed, the execution is
recorded as interrupted (so ``--resume`` continues it), ``loom run`` exits with status 130 within
about a second, and a second signal exits at once.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time

import pytest

from taskloom_local.store import ExecutionStore
from tests.integration.subprocesses import reaped, start_loom, wait_for
from tests.kernel.distributions import run_loom

#: The map's elements: enough that most have not started when the signal comes (it comes after 8 starts).
ELEMENTS = 40

MAPPED = f"""
import os
import time

from taskloom import map_task, task, workflow

ELEMENTS = {ELEMENTS}


@task
def slow(x: int) -> int:
    with open(os.environ["INTERRUPT_LOG"], "a") as stream:
        stream.write(f"start {{x}} {{os.getpid()}}\\n")
    time.sleep(0.2)
    with open(os.environ["INTERRUPT_LOG"], "a") as stream:
        stream.write(f"end {{x}}\\n")
    return x * 2


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def mapped() -> int:
    return total(values=map_task(slow, concurrency=4)(x=list(range(ELEMENTS))))


@task
def stubborn() -> int:
    # Swallows the first interruption and goes on: only a second signal ends the process.
    with open(os.environ["INTERRUPT_LOG"], "a") as stream:
        stream.write("stubborn\\n")
    for _ in range(2):
        try:
            time.sleep(30)
        except KeyboardInterrupt:
            with open(os.environ["INTERRUPT_LOG"], "a") as stream:
                stream.write("ignored\\n")
    return 1
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "flows.py").write_text(MAPPED)
    return tmp_path


def environment_for(project):
    return {
        "TASKLOOM_DATA_DIR": str(project / "data"),
        "TASKLOOM_EXECUTOR": "local",
        "INTERRUPT_LOG": str(project / "log.txt"),
    }


def lines(project) -> list[list[str]]:
    path = project / "log.txt"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def interrupt(project, arguments, number, *, after_starts=8):
    """Start ``loom run`` with ``arguments``, send ``number`` once ``after_starts`` elements started;
    return (completed process, seconds from the signal to its exit, log lines at the signal).
    """
    with reaped(start_loom(["run", "--progress", "never", *arguments], environment_for(project))) as process:
        wait_for(lambda: sum(line[0] == "start" for line in lines(project)) >= after_starts, "elements to start")
        at_signal = lines(project)
        sent = time.monotonic()
        process.send_signal(number)
        stdout, stderr = process.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), elapsed, at_signal


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("processes", [None, 2], ids=["threads", "processes"])
def test_a_signal_stops_a_map_records_it_interrupted_and_resume_finishes_it(project, number, processes):
    arguments = [str(project / "flows.py"), "mapped"] + (["--processes", str(processes)] if processes else [])
    done, elapsed, at_signal = interrupt(project, arguments, number)
    assert done.returncode == 130, done.stderr
    assert elapsed < 2.0, elapsed  # within about a second (a running 0.2 s element may finish)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert "--resume" in done.stderr
    time.sleep(0.5)
    started = [line for line in lines(project) if line[0] == "start"]
    started_at_signal = sum(line[0] == "start" for line in at_signal)
    # Nothing new starts: at most the elements already being taken by a lane when it arrived.
    assert len(started) <= started_at_signal + 4, (started_at_signal, len(started))
    for pid in {int(line[2]) for line in started} - {os.getpid()}:
        if processes:  # worker processes are stopped with the run
            wait_for(lambda pid=pid: not _alive(pid), f"worker {pid} to end", timeout=5)

    store = ExecutionStore(str(project / "data"))
    (record,) = store.executions()
    assert record.state == "interrupted" and record.status == "interrupted"
    ended_before = {int(line[1]) for line in lines(project) if line[0] == "end"}
    resumed = run_loom(["run", "--progress", "never", *arguments, "--resume", record.id], env=environment_for(project))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == f"{sum(2 * x for x in range(ELEMENTS))}\n"
    runs = collections.Counter(int(line[1]) for line in lines(project) if line[0] == "start")
    assert set(runs) == set(range(ELEMENTS))
    # Each element ran 200 ms, past the durability threshold: one that had ended was not run again.
    assert not [x for x in ended_before if runs[x] > 1]


def test_a_second_ctrl_c_exits_at_once(project):
    arguments = ["run", "--progress", "never", str(project / "flows.py"), "stubborn"]
    with reaped(start_loom(arguments, environment_for(project))) as process:
        wait_for(lambda: ["stubborn"] in lines(project), "the task to start")
        process.send_signal(signal.SIGINT)
        wait_for(lambda: ["ignored"] in lines(project), "the task to swallow the first interruption")
        time.sleep(0.3)
        assert process.poll() is None  # the task body went on
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        assert time.monotonic() - sent < 1.0
    assert process.returncode == 130
    assert "again: exiting now" in process.stderr.read()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
