"""Faults on the way to a cluster: a worker killed under a task, a scheduler nobody runs, one that never answers."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest
from distributed import get_worker
from taskloom import task, workflow

from taskloom_dask import DaskPool, SchedulerUnreachable, WorkerLostError


@task(retries=1)
def dies_once(marker: str) -> tuple[str, int]:
    """Kills its own worker process on its first attempt (the marker file says which attempt this is)."""
    if not os.path.exists(marker):
        with open(marker, "w") as stream:
            stream.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return get_worker().address, os.getpid()


@task
def dies_always(marker: str) -> int:
    with open(marker, "w") as stream:
        stream.write(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGKILL)
    return 0


def test_a_worker_killed_under_a_task_is_retried_elsewhere_and_the_run_finishes(dask_executor, client, tmp_path):
    marker = tmp_path / "first-attempt"

    @workflow
    def survives(marker: str) -> tuple[str, int]:
        return dies_once(marker=marker)

    address, pid = dask_executor.execute(survives, {"marker": str(marker)})
    killed = int(marker.read_text())
    assert pid != killed  # the retry ran in another worker process (the other worker, or its replacement)
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)
    assert address in set(client.scheduler_info()["workers"])


def test_with_no_retries_left_a_lost_worker_fails_the_run_with_a_recoverable_error(dask_executor, tmp_path):
    @workflow
    def dies(marker: str) -> int:
        return dies_always(marker=marker)

    with pytest.raises(WorkerLostError, match=r"dies_always.*its worker was lost while running it"):
        dask_executor.execute(dies, {"marker": str(tmp_path / "pid")})


@task
def sleeps(seconds: float) -> int:
    time.sleep(seconds)
    return 1


def test_killing_the_pool_cancels_the_attempts_it_waits_for(client):
    pool = DaskPool(client)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            pool.run(sleeps, {"seconds": 2.0}, execution_id="e", attempt=0)
        except BaseException as error:
            outcome.append(error)

    waiting = threading.Thread(target=attempt)
    waiting.start()
    for _ in range(200):  # until the attempt is submitted
        if pool._running:
            break
        time.sleep(0.01)
    pool.kill()
    waiting.join(10)
    assert not waiting.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerLostError)
    assert "its future was cancelled" in str(outcome[0])
    pool.close()


@task(retries=1)
def naps(seconds: float) -> int:
    time.sleep(seconds)
    return 1


def test_in_a_fan_out_a_worker_killed_under_a_started_node_is_retried_and_the_run_finishes(dask_executor, tmp_path):
    """Nodes ready together are started on the cluster without a scheduling thread each (DaskPool.start): a lost
    worker still reaches the node's retries."""
    marker = tmp_path / "first-attempt"

    @workflow
    def wide(marker: str) -> tuple[int, int]:
        _, pid = dies_once(marker=marker)
        return pid, naps(seconds=0.1)  # retried too if it shared the worker killed

    pid, slept = dask_executor.execute(wide, {"marker": str(marker)})
    assert slept == 1 and pid != int(marker.read_text())


def test_killing_the_pool_fails_what_it_started(client):
    pool = DaskPool(client)
    try:
        started = pool.start(sleeps, {"seconds": 2.0}, execution_id="e", attempt=0)
        for _ in range(200):  # until the attempt is submitted
            if pool._running:
                break
            time.sleep(0.01)
        pool.kill()
        error = started.exception(10)
        assert isinstance(error, WorkerLostError) and "its future was cancelled" in str(error)
        # What it starts otherwise: the body's result and the seconds the worker ran it.
        result, worked = pool.start(sleeps, {"seconds": 0.2}, execution_id="e", attempt=0).result(10)
        assert result == 1 and 0.2 <= worked < 2
    finally:
        pool.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_scheduler_nobody_runs_is_one_clear_error_at_once():
    port = free_port()
    began = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match=rf"no Dask scheduler answers at tcp://127.0.0.1:{port} \("):
        DaskPool(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - began < 5  # refused: not the client's ten-second retrying


def test_a_scheduler_that_accepts_but_never_answers_is_given_up_after_the_connect_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(SchedulerUnreachable, match=rf"at {address} \(no answer within 1 seconds"):
            DaskPool(address, connect_timeout=1)


def test_an_address_that_is_not_host_and_port_is_named():
    with pytest.raises(SchedulerUnreachable, match=r"at tcp://127.0.0.1:x \(it is not host:port\)"):
        DaskPool("tcp://127.0.0.1:x")
