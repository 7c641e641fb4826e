"""Failure nodes as flytekit programs write them (issue 21, point 3): ``@workflow(on_failure=...)``
runs a task or workflow once when the workflow fails, with its inputs and ``err: Optional[FlyteError]``.

The programs are written as flytekit's docs write them, with ``taskloom`` in their imports. Where
flytekit's local run is defective (it ignores retries, names the failure node itself as the failed
node: ``fn0``), taskloom does what a Flyte backend does (README, "Porting from flytekit").
"""

from __future__ import annotations

import typing

import pytest

from plugins.flyte.tests.test_entrypoint import run_container
from taskloom import TypeEngine, Workflow, WorkflowFailurePolicy, task, workflow
from taskloom.exceptions.user import (
    FlyteFailureNodeInputMismatchException,
    FlyteRecoverableException,
    ValidationError,
)
from taskloom.models.literals import Literal, LiteralMap, Scalar
from taskloom.models.literals import Union as UnionLiteral
from taskloom.models.types import Error, LiteralType, SimpleType, TypeStructure
from taskloom.types.error import FlyteError
from taskloom_flyte.codec import literal_map_to_bytes
from taskloom_local.executor import LocalExecutor
from taskloom_local.store import ExecutionStore
from tests.integration.subprocesses import serialized_templates

#: What the tasks of the programs below did, in order.
CALLS: list[tuple[str, ...]] = []
#: Names whose clusters cannot be created (the failing task fails for them).
BROKEN: set[str] = set()


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.db"))
    CALLS.clear()
    BROKEN.clear()
    BROKEN.add("flyteorg")


@task
def clean_up(name: str, err: typing.Optional[FlyteError] = None) -> None:
    CALLS.append(("clean_up", name, err.failed_node_id if err else "", err.message if err else ""))


@task
def create_cluster(name: str) -> str:
    CALLS.append(("create_cluster", name))
    return f"cluster-{name}"


@task(retries=2)
def run_job(cluster: str) -> int:
    CALLS.append(("run_job", cluster))
    if cluster.removeprefix("cluster-") in BROKEN:
        raise FlyteRecoverableException(f"job failed on {cluster}")  # retried
    return 7


@task
def delete_cluster(name: str) -> None:
    CALLS.append(("delete_cluster", name))


@workflow(on_failure=clean_up)
def pipeline(name: str = "flyteorg") -> int:
    cluster = create_cluster(name=name)
    result = run_job(cluster=cluster)
    result >> delete_cluster(name=name)  # runs after the job: skipped when it fails
    return result


def calls_of(name: str) -> list[tuple[str, ...]]:
    return [call for call in CALLS if call[0] == name]


def test_the_failure_task_runs_once_after_the_last_retry_with_the_inputs_and_the_error():
    with pytest.raises(FlyteRecoverableException, match="job failed on cluster-flyteorg") as caught:
        pipeline()
    assert calls_of("run_job") == [("run_job", "cluster-flyteorg")] * 3  # retries honoured locally
    ((_, name, failed_node_id, message),) = calls_of("clean_up")
    assert CALLS[-1][0] == "clean_up"  # after the last attempt
    assert (name, failed_node_id) == ("flyteorg", "n1")  # the node that failed, as on a backend
    assert "n1" in message and "run_job" in message and "job failed on cluster-flyteorg" in message
    assert not calls_of("delete_cluster")
    assert any("in node n1" in note for note in caught.value.__notes__)  # still the original error


def test_a_workflow_that_succeeds_does_not_run_its_failure_task():
    BROKEN.clear()
    assert pipeline(name="ok") == 7
    assert not calls_of("clean_up")


def test_a_failure_task_without_err_gets_the_workflow_inputs_only():
    @task
    def notify(name: str) -> None:
        CALLS.append(("notify", name))

    @workflow(on_failure=notify)
    def short(name: str) -> int:
        return run_job(cluster=create_cluster(name=name))

    with pytest.raises(FlyteRecoverableException):
        short(name="flyteorg")
    assert calls_of("notify") == [("notify", "flyteorg")]


def test_after_executable_nodes_complete_the_failure_task_runs_after_the_other_branch():
    @task
    def slow_branch(name: str) -> str:
        CALLS.append(("slow_branch", name))
        return name

    @workflow(on_failure=clean_up, failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def both(name: str) -> tuple[int, str]:
        return run_job(cluster=create_cluster(name=name)), slow_branch(name=name)

    with pytest.raises(FlyteRecoverableException):
        both(name="flyteorg")
    assert [call[0] for call in CALLS].count("clean_up") == 1
    assert CALLS[-1][0] == "clean_up"  # after every node that could run
    assert calls_of("slow_branch") == [("slow_branch", "flyteorg")]


def test_a_failing_subworkflow_runs_its_own_failure_task_and_then_the_parents():
    @task
    def outer_clean_up(name: str, err: typing.Optional[FlyteError] = None) -> None:
        CALLS.append(("outer_clean_up", name, err.failed_node_id if err else ""))

    @workflow(on_failure=outer_clean_up)
    def outer(name: str) -> int:
        return pipeline(name=name)

    with pytest.raises(FlyteRecoverableException):
        outer(name="flyteorg")
    assert [call[:3] for call in calls_of("clean_up")] == [("clean_up", "flyteorg", "n1")]
    assert calls_of("outer_clean_up") == [("outer_clean_up", "flyteorg", "n0")]  # its node n0 failed
    assert [call[0] for call in CALLS][-2:] == ["clean_up", "outer_clean_up"]


def test_a_workflow_can_be_the_failure_handler():
    @workflow
    def handle(name: str, err: typing.Optional[FlyteError] = None) -> None:
        clean_up(name=name, err=err)
        delete_cluster(name=name)

    @workflow(on_failure=handle)
    def guarded(name: str) -> int:
        return run_job(cluster=create_cluster(name=name))

    with pytest.raises(FlyteRecoverableException):
        guarded(name="flyteorg")
    assert [call[:3] for call in calls_of("clean_up")] == [("clean_up", "flyteorg", "n1")]
    assert calls_of("delete_cluster") == [("delete_cluster", "flyteorg")]


def test_a_failing_failure_task_is_a_note_on_the_original_error():
    @task
    def broken_clean_up(name: str) -> None:
        raise RuntimeError("cannot clean up")

    @workflow(on_failure=broken_clean_up)
    def guarded(name: str) -> int:
        return run_job(cluster=create_cluster(name=name))

    with pytest.raises(FlyteRecoverableException, match="job failed") as caught:
        guarded(name="flyteorg")
    assert any("failure node fn0" in note and "cannot clean up" in note for note in caught.value.__notes__)


def test_the_imperative_workflow_takes_a_failure_handler():
    imperative = Workflow(name="tests.imperative_failure")
    name = imperative.add_workflow_input("name", str)
    cluster = imperative.add_entity(create_cluster, name=name)
    job = imperative.add_entity(run_job, cluster=cluster.outputs["o0"])
    imperative.add_workflow_output("result", job.outputs["o0"])
    node = imperative.add_on_failure_handler(clean_up)
    assert node.id == "fn0"
    with pytest.raises(FlyteRecoverableException):
        imperative(name="flyteorg")
    assert [call[:3] for call in calls_of("clean_up")] == [("clean_up", "flyteorg", "n1")]


# --- the interface is checked when the workflow is declared --------------------------------------


def test_a_failure_task_missing_a_workflow_input_is_refused_when_declared():
    @task
    def no_name(err: typing.Optional[FlyteError] = None) -> None: ...

    # flytekit's class for it, and a ValidationError (an AssertionError) as every declaration error.
    assert issubclass(FlyteFailureNodeInputMismatchException, (ValidationError, AssertionError))
    with pytest.raises(
        FlyteFailureNodeInputMismatchException, match=r"workflow '.*lacking'.*on_failure '.*no_name'.*'name' \(str\)"
    ):

        @workflow(on_failure=no_name)
        def lacking(name: str) -> None:
            create_cluster(name=name)


def test_a_failure_task_input_of_another_type_is_refused_when_declared():
    @task
    def int_name(name: int) -> None: ...

    with pytest.raises(
        FlyteFailureNodeInputMismatchException, match=r"on_failure '.*int_name': input 'name' must have .* str, got int"
    ):

        @workflow(on_failure=int_name)
        def typed(name: str) -> None:
            create_cluster(name=name)


def test_an_extra_failure_task_input_must_be_optional():
    @task
    def strict(name: str, err: FlyteError) -> None: ...

    with pytest.raises(
        FlyteFailureNodeInputMismatchException, match=r"input 'err' \(FlyteError\) is not an input of the workflow"
    ):

        @workflow(on_failure=strict)
        def extra(name: str) -> None:
            create_cluster(name=name)


# --- recorded and resumed runs ------------------------------------------------------------------


def test_a_recorded_run_shows_the_failure_node_and_a_resume_that_fails_again_runs_it(tmp_path):
    store = ExecutionStore(str(tmp_path / "data"))
    with pytest.raises(FlyteRecoverableException):
        LocalExecutor(record=True).execute(pipeline, {"name": "flyteorg"})
    (record,) = store.executions()
    nodes = {node.path: node for node in store.nodes(record.id)}
    assert nodes["fn0"].status == "succeeded" and nodes["fn0"].entity.endswith("clean_up")
    assert nodes["n1"].status == "failed"

    CALLS.clear()
    with pytest.raises(FlyteRecoverableException):
        LocalExecutor().resume(record.id, pipeline)
    assert calls_of("create_cluster") == []  # finished: not redone
    assert len(calls_of("clean_up")) == 1  # failed again: the failure node runs again

    CALLS.clear()
    BROKEN.clear()
    assert LocalExecutor().resume(record.id, pipeline) == 7
    assert calls_of("clean_up") == []


# --- on a Flyte backend: the failure task's container gets err as a literal ------------------------

FAILURE_TASK = """
import os
from typing import Optional

from taskloom import task
from taskloom.types.error import FlyteError


@task
def clean_up(name: str, err: Optional[FlyteError] = None) -> None:
    with open(os.environ["REPORT"], "w") as report:
        report.write(f"{name}|{err.failed_node_id}|{err.message}" if err is not None else f"{name}|none")
"""


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare-error-literal", "union-literal"])
def test_loom_execute_hands_the_failure_task_the_error_literal(tmp_path, wrapped):
    root, templates = serialized_templates(tmp_path, FAILURE_TASK)
    err = Literal(scalar=Scalar(error=Error(failed_node_id="n1", message="boom in n1")))
    if wrapped:  # as flytekit writes an Optional[FlyteError] value
        stored = LiteralType(simple=SimpleType.ERROR, structure=TypeStructure(tag="FlyteError"))
        err = Literal(scalar=Scalar(union=UnionLiteral(value=err, type=stored)))
    name = TypeEngine.to_literal(None, "flyteorg", str)
    inputs = tmp_path / "inputs.pb"
    inputs.write_bytes(literal_map_to_bytes(LiteralMap(literals={"name": name, "err": err})))
    report = tmp_path / "report.txt"
    completed, _ = run_container(templates["flows.jobs.clean_up"], root, tmp_path, inputs, env={"REPORT": str(report)})
    assert completed.returncode == 0, completed.stderr
    assert report.read_text() == "flyteorg|n1|boom in n1"


def test_the_error_literal_round_trips_as_flytekit_encodes_it():
    error = FlyteError(message="boom", failed_node_id="n3")
    literal = TypeEngine.to_literal(None, error, FlyteError)
    assert (literal.scalar.error.message, literal.scalar.error.failed_node_id) == ("boom", "n3")
    assert TypeEngine.to_literal_type(FlyteError).simple == SimpleType.ERROR
    assert TypeEngine.to_python_value(None, literal, typing.Optional[FlyteError]) == error
    optional = TypeEngine.to_literal(None, error, typing.Optional[FlyteError])
    assert optional.scalar.union.type.structure.tag == "FlyteError"
    assert TypeEngine.to_python_value(None, optional, typing.Optional[FlyteError]) == error
