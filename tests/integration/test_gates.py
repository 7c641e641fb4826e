"""sleep, wait_for_input and approve: gate nodes added by a workflow body, checked when declared,
written into workflow templates as flyteidl GateNodes the way flytekit writes them."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

import taskloom
from taskloom import SerializationSettings, approve, sleep, task, wait_for_input, workflow
from taskloom.core.promise import Promise, VoidPromise
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError
from taskloom.models.converter import from_json, to_json
from taskloom.models.types import SimpleType
from taskloom.models.workflow import WorkflowTemplate

SETTINGS = SerializationSettings(project="p", domain="d", version="1")


class Shape(typing.NamedTuple):
    area: int
    name: str


class Opaque:
    """A type no transformer supports."""


@task
def inc(a: int) -> int:
    return a + 1


@task
def shout(text: str) -> str:
    return text.upper()


@task
def measure(side: int) -> Shape:
    return Shape(side * side, "square")


@task
def nothing() -> None:
    return None


@workflow
def gated(a: int) -> int:
    x = wait_for_input("answer", timeout=dt.timedelta(minutes=5), expected_type=int)
    y = approve(inc(a=x), "review", timeout=dt.timedelta(hours=2))
    pause = sleep(dt.timedelta(seconds=10))
    z = inc(a=y)
    pause >> z
    return z


def nodes_by_id(template):
    return {node.id: node for node in template.nodes}


def test_the_gate_functions_are_names_of_taskloom_with_flytekits_signatures():
    import inspect

    from taskloom.core import gate

    assert (taskloom.sleep, taskloom.wait_for_input, taskloom.approve) == (
        gate.sleep,
        gate.wait_for_input,
        gate.approve,
    )
    assert list(inspect.signature(sleep).parameters) == ["duration"]
    assert list(inspect.signature(wait_for_input).parameters) == ["name", "timeout", "expected_type"]
    assert list(inspect.signature(approve).parameters) == ["upstream_item", "name", "timeout"]


def test_each_gate_adds_a_node_whose_entity_describes_the_gate():
    answer, review, pause, _ = gated.nodes[0], gated.nodes[2], gated.nodes[3], gated.nodes[4]
    assert all(node.entity.is_gate for node in (answer, review, pause))
    assert (answer.entity.kind, answer.entity.name, answer.entity.timeout, answer.entity.expected_type) == (
        "signal",
        "answer",
        dt.timedelta(minutes=5),
        int,
    )
    assert answer.entity.python_interface.outputs == {"o0": int} and answer.entity.python_interface.inputs == {}
    assert (review.entity.kind, review.entity.name, review.entity.timeout) == (
        "approve",
        "review",
        dt.timedelta(hours=2),
    )
    assert review.entity.python_interface.inputs == {"o0": int} and review.entity.python_interface.outputs == {
        "o0": int
    }
    assert (pause.entity.kind, pause.entity.name, pause.entity.duration) == (
        "sleep",
        "sleep-gate",
        dt.timedelta(seconds=10),
    )
    assert pause.entity.python_interface.inputs == {} and pause.entity.python_interface.outputs == {}


def test_wait_for_input_gives_a_promise_of_its_expected_type_and_sleep_a_handle_for_ordering():
    seen = {}

    @workflow
    def wf() -> str:
        seen["value"] = wait_for_input("word", timeout=dt.timedelta(minutes=1), expected_type=str)
        seen["pause"] = sleep(dt.timedelta(seconds=1))
        return shout(text=seen["value"])

    assert isinstance(seen["value"], Promise) and seen["value"].python_type is str
    assert isinstance(seen["pause"], VoidPromise)


def test_a_signal_value_bound_where_another_type_is_expected_fails_when_declared():
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*inc': input 'a' expects int.*str"):

        @workflow
        def wf() -> int:
            return inc(a=wait_for_input("word", timeout=dt.timedelta(minutes=1), expected_type=str))


def test_approve_passes_the_gated_output_through_with_its_name_and_type():
    @workflow
    def wf(side: int) -> int:
        area = approve(measure(side=side).area, "check", timeout=dt.timedelta(minutes=1))
        return inc(a=area)

    gate_node = wf.nodes[1]
    assert gate_node.entity.python_interface.outputs == {"area": int}
    assert gate_node.upstream_nodes == [wf.nodes[0]]
    node = nodes_by_id(wf.to_workflow_template(SETTINGS))["n1"]
    assert node.inputs[0].var == "area"
    assert node.inputs[0].binding.promise.node_id == "n0" and node.inputs[0].binding.promise.var == "area"


def test_rshift_orders_gates_and_tasks_both_ways():
    @workflow
    def wf() -> None:
        first = inc(a=1)
        pause = sleep(dt.timedelta(seconds=1))
        first >> pause >> nothing()
        wait_for_input("go", timeout=dt.timedelta(minutes=1), expected_type=bool) >> shout(text="x")

    template = wf.to_workflow_template(SETTINGS)
    nodes = nodes_by_id(template)
    assert nodes["n1"].upstream_node_ids == ("n0",)  # inc >> sleep
    assert nodes["n2"].upstream_node_ids == ("n1",)  # sleep >> nothing
    assert nodes["n4"].upstream_node_ids == ("n3",)  # wait_for_input >> shout


@pytest.mark.parametrize(
    "call",
    [
        lambda: sleep(dt.timedelta(seconds=1)),
        lambda: wait_for_input("answer", timeout=dt.timedelta(minutes=1), expected_type=int),
        lambda: approve(3, "review", timeout=dt.timedelta(minutes=1)),
    ],
    ids=["sleep", "wait_for_input", "approve"],
)
def test_a_gate_outside_a_workflow_is_an_error_saying_where_it_belongs(call):
    with pytest.raises(ValidationError, match=r"gate '.*': \w+\(\.\.\.\) can only be used inside a @workflow"):
        call()


@pytest.mark.parametrize(
    "body, message",
    [
        (
            lambda: sleep(10),
            r"gate 'sleep-gate': sleep's duration must be a non-negative datetime.timedelta, got int 10",
        ),
        (lambda: sleep(dt.timedelta(seconds=-1)), r"gate 'sleep-gate': .*non-negative.*timedelta"),
        (
            lambda: wait_for_input("answer", timeout=60, expected_type=int),
            r"gate 'answer': timeout must be a positive datetime.timedelta, got int 60",
        ),
        (
            lambda: wait_for_input("answer", timeout=dt.timedelta(0), expected_type=int),
            r"gate 'answer': timeout must be a positive",
        ),
        (
            lambda: wait_for_input("answer", timeout=dt.timedelta(minutes=1), expected_type=Opaque),
            r"gate 'answer': expected_type Opaque is not supported",
        ),
        (
            lambda: wait_for_input("answer", timeout=dt.timedelta(minutes=1), expected_type=None),
            r"gate 'answer': wait_for_input needs an expected_type",
        ),
        (
            lambda: wait_for_input("", timeout=dt.timedelta(minutes=1), expected_type=int),
            r"wait_for_input: a gate's name",
        ),
        (
            lambda: approve(inc(a=1), "review", timeout="soon"),
            r"gate 'review': timeout must be a positive datetime.timedelta, got str 'soon'",
        ),
        (
            lambda: approve(nothing(), "review", timeout=dt.timedelta(minutes=1)),
            r"gate 'review': approve needs the output",
        ),
        (
            lambda: approve(5, "review", timeout=dt.timedelta(minutes=1)),
            r"gate 'review': approve takes the output .* int 5",
        ),
    ],
    ids=[
        "sleep-int",
        "sleep-negative",
        "timeout-int",
        "timeout-zero",
        "unsupported-type",
        "no-type",
        "empty-name",
        "approve-timeout",
        "approve-void",
        "approve-constant",
    ],
)
def test_bad_gate_arguments_are_validation_errors_naming_the_gate(body, message):
    with pytest.raises(ValidationError, match=message):

        @workflow
        def wf() -> None:
            body()


def test_approve_refuses_a_workflow_input_and_several_outputs():
    with pytest.raises(
        ValidationError, match=r"gate 'review': approve takes the output of a call, not the workflow input 'x'"
    ):

        @workflow
        def of_input(x: int) -> int:
            return approve(x, "review", timeout=dt.timedelta(minutes=1))

    @task
    def pair() -> tuple[int, int]:
        return 1, 2

    with pytest.raises(ValidationError, match=r"gate 'review': approve gates one output; pick one of the 2 outputs"):

        @workflow
        def of_pair() -> int:
            return approve(pair(), "review", timeout=dt.timedelta(minutes=1))


def test_gate_nodes_in_templates_are_written_as_flytekit_writes_them():
    template = gated.to_workflow_template(SETTINGS)
    nodes = nodes_by_id(template)

    answer = nodes["n0"]
    assert (answer.metadata.name, answer.metadata.timeout) == ("answer", dt.timedelta(minutes=5))
    assert answer.inputs == () and answer.upstream_node_ids == ()
    signal = answer.gate_node.signal
    assert (signal.signal_id, signal.type.simple, signal.output_variable_name) == ("answer", SimpleType.INTEGER, "o0")
    assert answer.gate_node.approve is None and answer.gate_node.sleep is None

    review = nodes["n2"]
    assert (review.metadata.name, review.metadata.timeout) == ("review", dt.timedelta(hours=2))
    assert review.gate_node.approve.signal_id == "review"
    assert [
        (binding.var, binding.binding.promise.node_id, binding.binding.promise.var) for binding in review.inputs
    ] == [("o0", "n1", "o0")]
    assert review.upstream_node_ids == ("n1",)

    pause = nodes["n3"]
    assert (pause.metadata.name, pause.metadata.timeout) == ("sleep-gate", dt.timedelta(hours=1))  # flytekit's default
    assert pause.gate_node.sleep.duration == dt.timedelta(seconds=10)
    assert pause.inputs == () and pause.upstream_node_ids == ()

    assert nodes["n4"].upstream_node_ids == ("n2", "n3")
    assert nodes["n1"].inputs[0].binding.promise.node_id == "n0"
    assert from_json(to_json(template), WorkflowTemplate) == template


def test_a_timeout_override_on_a_gate_node_reaches_its_template():
    @workflow
    def wf() -> int:
        return wait_for_input("answer", timeout=dt.timedelta(minutes=5), expected_type=int).with_overrides(
            timeout=dt.timedelta(minutes=7)
        )

    (node,) = wf.to_workflow_template(SETTINGS).nodes
    assert node.metadata.timeout == dt.timedelta(minutes=7)


def test_a_gate_of_a_structured_type_carries_its_literal_type():
    @workflow
    def wf() -> list[int]:
        return wait_for_input("rows", timeout=dt.timedelta(minutes=5), expected_type=list[int])

    (node,) = wf.to_workflow_template(SETTINGS).nodes
    assert node.gate_node.signal.type.collection_type.simple == SimpleType.INTEGER


def test_a_gate_in_a_dynamic_graph_is_a_gate_node_of_its_job_spec_with_no_template_of_its_own():
    from taskloom import dynamic

    @dynamic
    def asks(n: int) -> int:
        return inc(a=wait_for_input("answer", timeout=dt.timedelta(minutes=1), expected_type=int))

    spec = asks.to_dynamic_job_spec(SETTINGS, {"n": 1})
    assert [node.gate_node is not None for node in spec.nodes] == [True, False]
    assert [template.id.name for template in spec.tasks] == [inc.name]
