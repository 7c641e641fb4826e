"""Resumes that must not give a wrong answer or run work twice: code edited between the kill and the
resume, two resumes of one execution at once, SIGKILL at random points (durability), a run killed in
its first moments.
"""

from __future__ import annotations

import collections
import json
import random
import signal
import time

import pytest

from taskloom_local.store import ExecutionStore
from tests.integration.subprocesses import logged, reaped, start_loom, wait_for
from tests.kernel.distributions import run_loom

# Three tasks in a chain; the last waits for a marker file, so a test can kill the run after the
# first two finished. The first two run longer than the durability threshold (50 ms), so their
# outputs are recorded before their dependents start.
THREE = """
import os
import time

from taskloom import task, workflow


def note(text):
    with open(os.environ["RESUME_LOG"], "a") as stream:
        stream.write(text + "\\n")


def scale(x: int) -> int:
    return x * FACTOR


@task
def first(x: int) -> int:
    note("first")
    time.sleep(0.06)
    return scale(x)


@task
def second(x: int) -> int:
    note("second")
    time.sleep(0.06)
    return x + OFFSET


@task
def third(x: int) -> int:
    while not os.path.exists(os.environ["RESUME_MARKER"]):
        time.sleep(0.02)
    note("third")
    return x * 1000


@workflow
def three(x: int = 1) -> int:
    return third(x=second(x=first(x=x)))
"""


def program(factor: int = 2, offset: int = 10) -> str:
    return THREE.replace("def scale", f"FACTOR = {factor}\nOFFSET = {offset}\n\n\ndef scale")


@pytest.fixture
def environment(tmp_path):
    return {
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
        "TASKLOOM_EXECUTOR": "local",
        "RESUME_LOG": str(tmp_path / "log.txt"),
        "RESUME_MARKER": str(tmp_path / "marker"),
    }


def kill_after_two(flows, environment, tmp_path) -> str:
    """Run ``three`` until ``first`` and ``second`` are recorded, SIGKILL it; return its execution id."""
    store = ExecutionStore(environment["TASKLOOM_DATA_DIR"])
    with reaped(start_loom(["run", "--progress", "never", str(flows), "three"], environment)) as process:
        (execution,) = wait_for(store.executions, "the execution's record")

        def two_recorded() -> bool:
            return sum(node.status == "succeeded" for node in store.nodes(execution.id)) == 2

        wait_for(two_recorded, "the first two nodes' records")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    return execution.id


def resume(flows, environment, execution_id):
    return run_loom(["run", "--progress", "never", str(flows), "three", "--resume", execution_id], env=environment)


@pytest.mark.parametrize(
    "edit, expected, rerun",
    [
        # first's body changed (through the helper it calls): first runs again, and so does second.
        (lambda: program(factor=3), (1 * 3 + 10) * 1000, ["first", "second"]),
        # only second changed (a constant of its module it reads): first is kept.
        (lambda: program(offset=20), (1 * 2 + 20) * 1000, ["second"]),
        # first's code edited directly.
        (
            lambda: program().replace("return scale(x)", "return scale(x) + 5"),
            (1 * 2 + 5 + 10) * 1000,
            ["first", "second"],
        ),
    ],
    ids=["helper-of-first", "constant-read-by-second", "body-of-first"],
)
def test_a_resume_after_an_edit_runs_the_changed_task_and_what_depends_on_it(
    flows_dir, environment, tmp_path, edit, expected, rerun
):
    flows = flows_dir / "three.py"
    flows.write_text(program())
    execution_id = kill_after_two(flows, environment, tmp_path)
    log = tmp_path / "log.txt"
    assert logged(log) == ["first", "second"]
    flows.write_text(edit())
    (tmp_path / "marker").touch()
    resumed = resume(flows, environment, execution_id)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == f"{expected}\n"  # what the edited program gives, run from scratch
    fresh = run_loom(
        ["run", "--progress", "never", str(flows), "three"], env={**environment, "RESUME_LOG": str(tmp_path / "fresh")}
    )
    assert fresh.stdout == resumed.stdout
    assert logged(log) == ["first", "second", *rerun, "third"]
    assert (
        f"resuming execution {execution_id}:" in resumed.stderr and "changed since the execution ran" in resumed.stderr
    )


def test_a_resume_without_an_edit_runs_nothing_again(flows_dir, environment, tmp_path):
    flows = flows_dir / "three.py"
    flows.write_text(program())
    execution_id = kill_after_two(flows, environment, tmp_path)
    flows.write_text(program() + "\n# a comment changes no code\n")
    (tmp_path / "marker").touch()
    resumed = resume(flows, environment, execution_id)
    assert resumed.returncode == 0 and resumed.stdout == f"{(2 + 10) * 1000}\n"
    assert logged(tmp_path / "log.txt") == ["first", "second", "third"] and "changed" not in resumed.stderr


def test_a_resume_after_a_workflow_constant_changed_runs_that_node_again(flows_dir, environment, tmp_path):
    flows = flows_dir / "three.py"
    flows.write_text(program().replace("return third(x=second(x=first(x=x)))", "return third(x=second(x=first(x=5)))"))
    execution_id = kill_after_two(flows, environment, tmp_path)
    flows.write_text(flows.read_text().replace("first(x=5)", "first(x=6)"))
    (tmp_path / "marker").touch()
    resumed = resume(flows, environment, execution_id)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == f"{(6 * 2 + 10) * 1000}\n"
    assert logged(tmp_path / "log.txt") == ["first", "second", "first", "second", "third"]


def test_a_second_resume_of_a_running_execution_is_refused_naming_the_first(flows_dir, environment, tmp_path):
    flows = flows_dir / "three.py"
    flows.write_text(program())
    execution_id = kill_after_two(flows, environment, tmp_path)
    with reaped(
        start_loom(["run", "--progress", "never", str(flows), "three", "--resume", execution_id], environment)
    ) as first:
        store = ExecutionStore(environment["TASKLOOM_DATA_DIR"])
        wait_for(lambda: store.execution(execution_id).resumes == 1, "the first resume to start")
        second = resume(flows, environment, execution_id)
        assert second.returncode == 1
        assert f"execution {execution_id} is being run now by process {first.pid}" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        # The holder is killed: its lock goes with it, and the next resume runs.
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    (tmp_path / "marker").touch()
    third = resume(flows, environment, execution_id)
    assert third.returncode == 0 and third.stdout == f"{12 * 1000}\n"
    assert collections.Counter(logged(tmp_path / "log.txt")) == {"first": 1, "second": 1, "third": 1}


def test_two_resumes_started_together_run_the_execution_once(flows_dir, environment, tmp_path):
    flows = flows_dir / "three.py"
    flows.write_text(program())
    execution_id = kill_after_two(flows, environment, tmp_path)
    (tmp_path / "marker").touch()
    both = [
        start_loom(["run", "--progress", "never", str(flows), "three", "--resume", execution_id], environment)
        for _ in range(2)
    ]
    results = [(process.wait(timeout=60), *process.communicate()) for process in both]
    # One runs what was left; the other is refused while it runs, or finds it already succeeded.
    ran = [result for result in results if result[0] == 0 and "already succeeded" not in result[2]]
    others = [result for result in results if result not in ran]
    assert len(ran) == 1 and ran[0][1] == f"{12 * 1000}\n", results
    (other,) = others
    assert (other[0] == 1 and "is being run now by process" in other[2]) or (
        other[0] == 0 and "already succeeded: nothing to run" in other[2] and other[1] == ran[0][1]
    ), results
    assert collections.Counter(logged(tmp_path / "log.txt"))["third"] == 1


@pytest.fixture
def flows_dir(tmp_path):
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


# --- durability: SIGKILL at random points -----------------------------------------------------

CHAIN = """
import os
import time

from taskloom import task, workflow


@task
def step(index: int, previous: int) -> int:
    with open(os.environ["RESUME_LOG"], "a") as stream:
        stream.write(f"start{index}\\n")
    time.sleep(SECONDS)
    with open(os.environ["RESUME_LOG"], "a") as stream:
        stream.write(f"end{index}\\n")
    return previous + index


@workflow
def chain() -> int:
    value = 0
    for index in range(COUNT):
        value = step(index=index, previous=value)
    return value
"""


def test_sigkill_at_random_points_never_reruns_a_node_slower_than_the_threshold(flows_dir, environment, tmp_path):
    # Each node sleeps 70 ms, over the 50 ms durability threshold: a node whose dependent had
    # started when the run was killed must never run again on resume.
    count = 12
    flows = flows_dir / "chain.py"
    flows.write_text(CHAIN.replace("SECONDS", "0.07").replace("COUNT", str(count)))
    store = ExecutionStore(environment["TASKLOOM_DATA_DIR"])
    randomness = random.Random(19)
    reruns = kills = 0
    for attempt in range(6):
        log = tmp_path / f"log{attempt}.txt"
        env = {**environment, "RESUME_LOG": str(log)}
        with reaped(start_loom(["run", "--progress", "never", str(flows), "chain"], env)) as process:
            time.sleep(randomness.uniform(0.25, 0.9))  # the interpreter starts in ~0.1-0.2 s
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        before = logged(log)
        executions = [record for record in store.executions() if record.state == "interrupted"]
        if not executions:
            # Killed before the execution's first row was written (it waits up to START_DELAY, 0.1 s):
            # at most the first node had started, and no finished node was lost, since a node over the
            # threshold is written (with the execution) before its dependent starts.
            assert {line for line in before if line.startswith("start")} <= {"start0"}, before
            continue
        kills += 1
        execution = executions[0]
        resumed = run_loom(["run", "--progress", "never", str(flows), "chain", "--resume", execution.id], env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout == f"{sum(range(count))}\n"
        after = logged(log)[len(before) :]
        started_before = {int(line[5:]) for line in before if line.startswith("start")}
        # A node whose dependent started before the kill was durable: it must not run again.
        durable = {index - 1 for index in started_before if index > 0}
        again = {int(line[5:]) for line in after if line.startswith("start")}
        assert not durable & again, (before, after)
        reruns += len(again & started_before)
        store.prune(__import__("datetime").timedelta(0))
    assert kills >= 3
    print(f"{kills} kills, {reruns} node(s) interrupted mid-body and run again")


def test_a_run_killed_in_its_first_moments_is_recorded_and_resumable(flows_dir, environment, tmp_path):
    flows = flows_dir / "chain.py"
    flows.write_text(CHAIN.replace("SECONDS", "0.01").replace("COUNT", "60"))
    store = ExecutionStore(environment["TASKLOOM_DATA_DIR"])
    log = tmp_path / "log.txt"
    with reaped(start_loom(["run", "--progress", "never", str(flows), "chain"], environment)) as process:
        # The start is written within 0.1 s (START_DELAY), not after a second as it used to be
        # (and a node over 50 ms would be written with it at once). Thirty 10 ms nodes in
        # (about 0.3 s with the interpreter busy), the run is killed.
        wait_for(lambda: "start30" in logged(log), "the thirty-first node", timeout=30)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    (record,) = store.executions()
    assert record.state == "interrupted"
    listed = json.loads(run_loom(["executions", "list", "--json"], env=environment).stdout)
    assert [row["state"] for row in listed] == ["interrupted"]
    resumed = run_loom(["run", "--progress", "never", str(flows), "chain", "--resume", record.id], env=environment)
    assert resumed.returncode == 0 and resumed.stdout == f"{sum(range(60))}\n"
