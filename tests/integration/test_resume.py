"""Resumable local runs: a run killed half-way resumes without redoing finished nodes; dynamic graphs,
map elements and eager calls are skipped by path; ``loom executions list|show|prune``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import subprocess

import pytest

from taskloom import dynamic, eager, map_task, task, workflow
from taskloom_local.executor import LocalExecutor
from taskloom_local.store import ExecutionStore
from tests.integration.subprocesses import logged, reaped, start_loom, wait_for
from tests.kernel.distributions import run_loom

# 20 nodes: a chain of five (n0-n4), five independent nodes that read its end (n5-n9), a node that
# joins them (n10, the 11th, which waits for a marker file), then a chain of nine (n11-n19).
FLOWS = """
import os
import time

from taskloom import task, workflow


def note(index):
    with open(os.environ["RESUME_LOG"], "a") as stream:
        stream.write(f"node{index}\\n")


@task
def start(index: int) -> list[str]:
    note(index)
    return [f"s{index}"]


@task
def extend(index: int, items: list[str]) -> list[str]:
    note(index)
    return items + [f"e{index}"]


@task
def join(index: int, parts: list[list[str]]) -> list[str]:
    while not os.path.exists(os.environ["RESUME_MARKER"]):
        time.sleep(0.02)
    note(index)
    return [item for part in parts for item in part]


@workflow
def twenty() -> list[str]:
    items = start(index=0)
    for index in range(1, 5):
        items = extend(index=index, items=items)
    items = join(index=10, parts=[extend(index=index, items=items) for index in range(5, 10)])
    for index in range(11, 20):
        items = extend(index=index, items=items)
    return items


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def doubled(x: int = 1) -> int:
    return double(x=double(x=x))
"""


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    return path


@pytest.fixture
def environment(tmp_path):
    return {
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
        "TASKLOOM_EXECUTOR": "local",
        "RESUME_LOG": str(tmp_path / "log.txt"),
        "RESUME_MARKER": str(tmp_path / "marker"),
    }


def loom(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    done = run_loom(arguments, env=environment)
    assert done.returncode == 0, done.stderr
    return done


def test_a_run_killed_half_way_resumes_without_redoing_a_finished_node(flows, environment, tmp_path):
    log = tmp_path / "log.txt"
    store = ExecutionStore(environment["TASKLOOM_DATA_DIR"])
    with reaped(start_loom(["run", "--progress", "never", str(flows), "twenty"], environment)) as process:
        wait_for(lambda: len(logged(log)) >= 10, "the first ten nodes")
        (execution,) = wait_for(store.executions, "the execution's record")

        def ten_recorded() -> bool:
            return sum(node.status == "succeeded" for node in store.nodes(execution.id)) == 10

        wait_for(ten_recorded, "the first ten nodes' records")  # the recorder writes them within a second
        assert sorted(logged(log)) == sorted(f"node{index}" for index in range(10))
        kept = loom(["executions", "prune", "--older-than", "0s"], environment)
        assert "Deleted 0 executions." in kept.stdout  # a running execution is kept
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    listed = json.loads(loom(["executions", "list", "--json"], environment).stdout)
    assert [(row["id"], row["state"]) for row in listed] == [(execution.id, "interrupted")]
    shown = loom(["executions", "show", execution.id], environment).stdout
    assert f"execution {execution.id}: workflow flows.twenty, interrupted" in shown
    assert any(line.split()[:2] == ["n10", "interrupted"] for line in shown.splitlines())

    (tmp_path / "marker").touch()
    resumed = loom(["run", "--progress", "never", str(flows), "twenty", "--resume", execution.id], environment)
    counts = collections.Counter(logged(log))
    assert counts == {f"node{index}": 1 for index in range(20)}  # each node ran once, in both runs together
    fresh = loom(
        ["run", "--progress", "never", str(flows), "twenty"], {**environment, "RESUME_LOG": str(tmp_path / "fresh.txt")}
    )
    assert resumed.stdout == fresh.stdout
    assert json.loads(resumed.stdout.replace("'", '"'))[-1] == "e19"
    record = store.execution(execution.id)
    assert (record.status, record.resumes) == ("succeeded", 1)


def test_loom_executions_list_show_and_prune(flows, environment):
    first = loom(["run", "--progress", "never", str(flows), "doubled", "--x", "3"], environment)
    assert first.stdout == "12\n"
    listed = json.loads(loom(["executions", "list", "--json"], environment).stdout)
    assert [(row["entity"], row["kind"], row["status"]) for row in listed] == [
        ("flows.doubled", "workflow", "succeeded")
    ]
    execution_id = listed[0]["id"]
    table = loom(["executions", "list"], environment).stdout.splitlines()
    assert table[0].split() == ["ID", "STATUS", "STARTED", "DURATION", "ENTITY"]
    assert table[1].startswith(execution_id) and "succeeded" in table[1] and table[1].endswith("workflow flows.doubled")
    shown = loom(["executions", "show", execution_id], environment).stdout
    assert f"execution {execution_id}: workflow flows.doubled, succeeded" in shown
    assert f"from      {flows}" in shown
    rows = [line.split() for line in shown.splitlines() if line.startswith("n")]
    assert [(row[0], row[1], row[2]) for row in rows] == [("n0", "succeeded", "1"), ("n1", "succeeded", "1")]

    again = loom(["run", "--progress", "never", str(flows), "doubled", "--resume", execution_id], environment)
    assert again.stdout == "12\n" and "already succeeded: nothing to run" in again.stderr

    missing = run_loom(["executions", "show", "lnope"], env=environment)
    assert missing.returncode == 1 and "no execution 'lnope' is recorded" in missing.stderr
    assert "would delete" not in loom(["executions", "prune", "--older-than", "1h", "--dry-run"], environment).stdout
    dry = loom(["executions", "prune", "--older-than", "0s", "--dry-run"], environment).stdout
    assert f"would delete {execution_id}" in dry and "Would delete 1 execution." in dry
    assert len(json.loads(loom(["executions", "list", "--json"], environment).stdout)) == 1
    assert "Deleted 1 execution." in loom(["executions", "prune", "--older-than", "0s"], environment).stdout
    assert loom(["executions", "list"], environment).stdout.startswith("No executions are recorded")
    wrong = run_loom(["executions", "prune", "--older-than", "soon"], env=environment)
    assert wrong.returncode == 2 and "'soon' is not an age" in wrong.stderr


def test_loom_run_resume_refuses_other_inputs_another_entity_and_unknown_ids(flows, environment):
    loom(["run", "--progress", "never", str(flows), "doubled", "--x", "3"], environment)
    (execution_id,) = [row["id"] for row in json.loads(loom(["executions", "list", "--json"], environment).stdout)]
    other = run_loom(["run", str(flows), "doubled", "--resume", execution_id, "--x", "4"], env=environment)
    assert other.returncode == 1 and f"execution {execution_id} ran with x=3 (given 4)" in other.stderr
    same = loom(
        ["run", "--progress", "never", str(flows), "doubled", "--resume", execution_id, "--x", "3"], environment
    )
    assert same.stdout == "12\n"
    entity = run_loom(["run", str(flows), "twenty", "--resume", execution_id], env=environment)
    assert entity.returncode == 1 and "ran the workflow 'flows.doubled', not 'flows.twenty'" in entity.stderr
    unknown = run_loom(["run", str(flows), "doubled", "--resume", "lnope"], env=environment)
    assert unknown.returncode == 1 and "no execution 'lnope' is recorded" in unknown.stderr


# --- children found by path: map elements, dynamic graphs, eager calls -------------------------------

RAN: list[str] = []
BROKEN: set[int] = set()


@pytest.fixture
def store(monkeypatch, tmp_path):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    RAN.clear()
    BROKEN.clear()
    return ExecutionStore(str(tmp_path / "data"))


@task
def square(x: int) -> int:
    RAN.append(f"square{x}")
    if x in BROKEN:
        raise ValueError(f"no square of {x}")
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def mapped(xs: list[int]) -> int:
    return total(xs=map_task(square)(x=xs))


@task
def add_square(subtotal: int, x: int) -> int:
    return subtotal + square(x=x)  # called outside a workflow: its body runs here


@dynamic
def chained_squares(n: int) -> int:
    subtotal = 0
    for index in range(n):
        subtotal = add_square(subtotal=subtotal, x=index)
    return subtotal


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def dynamic_total(n: int) -> int:
    return double(x=chained_squares(n=n))


@eager
async def eager_total(n: int) -> int:
    found = 0
    for index in range(n):
        found += await square.aio(x=index)
    return found


def fail_then_resume(store, run, execution_entity):
    """Run until ``square(x=3)`` fails, then resume; return the outputs, the execution id, and the
    squares that had succeeded before the failure.
    """
    with pytest.raises(Exception, match="no square of 3"):
        run()
    succeeded = {name for name in RAN if name != "square3"}
    (record,) = store.executions()
    BROKEN.clear()
    RAN.clear()
    return LocalExecutor().resume(record.id, execution_entity), record.id, succeeded


def test_a_resume_skips_the_map_elements_that_had_finished(store):
    BROKEN.add(3)
    result, execution_id, succeeded = fail_then_resume(store, lambda: mapped(xs=[0, 1, 2, 3, 4]), mapped)
    assert result == 0 + 1 + 4 + 9 + 16
    assert succeeded == {"square0", "square1", "square2"}  # the map started nothing after its failure
    assert sorted(RAN) == ["square3", "square4"]  # lanes run them in either order
    nodes = {node.path: node for node in store.nodes(execution_id)}
    # Elements get no row once their map finished (the failure's row is gone): the map counts them.
    assert sorted(nodes) == ["n0", "n1"]
    assert (nodes["n0"].children_succeeded, nodes["n0"].children_failed) == (5, 0)


def test_a_resume_rebuilds_a_dynamic_graph_and_skips_its_finished_nodes(store):
    BROKEN.add(3)
    result, execution_id, succeeded = fail_then_resume(store, lambda: dynamic_total(n=5), dynamic_total)
    assert result == 60
    assert succeeded == {"square0", "square1", "square2"} and RAN == ["square3", "square4"]
    nodes = {node.path: node for node in store.nodes(execution_id)}
    # The graph a dynamic body builds is one child of its node (counted there). Its nodes got rows
    # while it ran; the one that failed (n0-dynamic-n3) lost its row when the resume ran it again,
    # and the nodes that ran inside a graph that finished in the same batch get none.
    assert {node.status for node in nodes.values()} == {"succeeded"}
    assert (
        {"n0", "n1", "n0-dynamic-n0", "n0-dynamic-n1", "n0-dynamic-n2"}
        <= set(nodes)
        <= {"n0", "n1", *(f"n0-dynamic-n{index}" for index in range(5))}
    )
    assert nodes["n0"].children_succeeded == 1


def test_a_resume_of_an_eager_workflow_skips_the_calls_that_had_finished(store):
    BROKEN.add(3)
    result, execution_id, succeeded = fail_then_resume(
        store, lambda: LocalExecutor().execute(eager_total, {"n": 5}), eager_total
    )
    assert result == 30
    assert succeeded == {"square0", "square1", "square2"} and RAN == ["square3", "square4"]
    (node,) = store.nodes(execution_id)  # the calls are its children: counted, not rows of their own
    assert (node.path, node.status, node.children_succeeded, node.children_failed) == ("eager-total", "succeeded", 5, 0)


def test_an_eager_workflow_run_and_resumed_where_an_event_loop_runs_skips_the_calls_that_had_finished(store):
    # As in a notebook, whose cells run inside the kernel's event loop: the eager body is awaited on a thread of
    # its own, and its calls were run by a runner outside the execution (none recorded, all run again).
    async def cell():
        BROKEN.add(3)
        return fail_then_resume(store, lambda: LocalExecutor().execute(eager_total, {"n": 5}), eager_total)

    result, execution_id, succeeded = asyncio.run(cell())
    assert result == 30
    assert succeeded == {"square0", "square1", "square2"} and RAN == ["square3", "square4"]
    (node,) = store.nodes(execution_id)
    assert (node.path, node.status, node.children_succeeded, node.children_failed) == ("eager-total", "succeeded", 5, 0)


@task(retries=2, retry_on=(ConnectionError,))
async def flaky_once(x: int) -> int:
    RAN.append(f"flaky{x}")
    if len(RAN) == 1:
        raise ConnectionError("dropped")
    return x + 1


@workflow
def calls_flaky(x: int) -> int:
    return flaky_once(x=x)


def test_an_async_task_in_a_workflow_run_where_an_event_loop_runs_is_retried(store):
    # Its attempt once ended when its coroutine was made: the failure came after, outside the retries.
    async def cell():
        return calls_flaky(x=1)

    assert asyncio.run(cell()) == 2
    assert RAN == ["flaky1", "flaky1"]


@task
async def async_square(x: int) -> int:
    return square.task_function(x=x)  # square's body, in an async task


@workflow
def async_mapped(xs: list[int]) -> int:
    return total(xs=map_task(async_square, concurrency=1)(x=xs))


def test_a_map_of_an_async_task_run_and_resumed_where_an_event_loop_runs_gives_its_values(store):
    # One lane, on the calling thread, whose loop is running: each element's call gave its coroutine, and the map
    # failed on an output of coroutines.
    async def cell():
        BROKEN.add(3)
        return fail_then_resume(store, lambda: async_mapped(xs=[0, 1, 2, 3, 4]), async_mapped)

    result, _, succeeded = asyncio.run(cell())
    assert result == 30
    assert succeeded == {"square0", "square1", "square2"} and RAN == ["square3", "square4"]


def test_python_resumes_a_loom_run_finding_the_entity_from_its_file(flows, environment, monkeypatch, tmp_path):
    # The entity is found from the file the execution came from.
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    failed = run_loom(["run", "--progress", "never", str(flows), "doubled", "--x", "oops"], env=environment)
    assert failed.returncode == 2  # a bad input: nothing ran, nothing recorded
    assert ExecutionStore().executions() == []
    loom(["run", "--progress", "never", str(flows), "doubled", "--x", "5"], environment)
    (record,) = ExecutionStore().executions()
    assert LocalExecutor().resume(record.id) == 20
