"""One real Dask cluster for the plugin's tests: a scheduler and two worker processes over TCP on 127.0.0.1.

The cluster is shared by every test of the session (starting one costs seconds) and closed at its end,
also when a test fails. Like the pool ``--executor dask`` starts, it gives up on a task at its first lost
worker (``allowed_failures=0``), so a killed worker reaches the local executor's retries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from taskloom_dask import DaskExecutor


@pytest.fixture(scope="session", autouse=True)
def private_state(taskloom_private_state: Path) -> Path:
    """The task cache and the execution store in a directory of this session, not the user's."""
    return taskloom_private_state


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"allowed_failures": 0},
        )
    try:
        yield local
    finally:
        local.close()


@pytest.fixture(scope="session")
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster, set_as_default=False) as connected:
        yield connected


@pytest.fixture(scope="session")
def dask_executor(client: Client) -> Iterator[DaskExecutor]:
    """The executor ``dask`` of this process, on the session's cluster (``TASKLOOM_EXECUTOR=dask`` finds it),
    unrecorded (recorded runs and their resume are tested through ``loom run``)."""
    previous = os.environ.get("TASKLOOM_RECORD")
    os.environ["TASKLOOM_RECORD"] = "0"  # read when the executor is made
    try:
        executor = DaskExecutor(client)
    finally:
        if previous is None:
            del os.environ["TASKLOOM_RECORD"]
        else:
            os.environ["TASKLOOM_RECORD"] = previous
    with executor:
        yield executor


@pytest.fixture
def unrecorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
