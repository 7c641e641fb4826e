"""Decks of tasks run on a Dask cluster (issue 27, point 1): ``loom run --executor dask`` is taskloom-local's
scheduler with every body on a Dask worker, so the page is written by the worker, where the body ran, under the
data directory it sees (here the same machine's: a LocalCluster of worker processes over TCP on 127.0.0.1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from taskloom import Deck, DeckField, task, workflow
from taskloom_dask import DaskExecutor


@task(enable_deck=True, deck_fields=(DeckField.INPUT,))
def on_a_worker(x: int) -> int:
    Deck("process", f"<p>pid {os.getpid()}</p>")
    return os.getpid()


@workflow
def placed(x: int) -> int:
    return on_a_worker(x=x)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The data directory of this module's runs, set before the cluster starts: its workers inherit it."""
    directory = tmp_path_factory.mktemp("dask-data")
    previous = os.environ.get("TASKLOOM_DATA_DIR")
    os.environ["TASKLOOM_DATA_DIR"] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            del os.environ["TASKLOOM_DATA_DIR"]
        else:
            os.environ["TASKLOOM_DATA_DIR"] = previous


@pytest.fixture(scope="module")
def executor(data: Path) -> Iterator[DaskExecutor]:
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    try:
        with Client(cluster, set_as_default=False) as client, DaskExecutor(client) as dask_executor:
            yield dask_executor
    finally:
        cluster.close()


def test_a_task_on_a_dask_worker_writes_its_deck_in_the_execution_directory(executor, data):
    pid = executor.execute(placed, {"x": 3})
    assert pid != os.getpid()
    (page,) = data.glob("executions/*/decks/n0.html")
    assert f"<p>pid {pid}</p>" in page.read_text()
