"""conditional(...).if_().then().elif_().else_().then()/fail(): compiled into a branch node, run locally."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from taskloom import SerializationSettings, conditional, task, workflow
from taskloom.exceptions.user import TypeTransformerFailedError, UserException, UserTypeError, ValidationError
from taskloom.models.converter import from_json, to_json
from taskloom.models.workflow import ComparisonOperator, LogicalOperator, WorkflowTemplate


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)


@dataclasses.dataclass
class Measure:
    value: int
    label: str


@task
def square(n: int) -> int:
    return n * n


@task
def double(n: int) -> int:
    return 2 * n


@task
def is_even(n: int) -> bool:
    return n % 2 == 0


@task
def measure(n: int) -> Measure:
    return Measure(n, "big" if n > 100 else "small")


@task
def maybe(n: int) -> typing.Optional[int]:
    return None if n < 0 else n


@task
def name_of(n: int) -> str:
    return str(n)


@workflow
def sized(x: int) -> int:
    return (
        conditional("size")
        .if_((x >= 0) & (x < 10))
        .then(square(n=x))
        .elif_((x > 10) | (x < -100))
        .then(double(n=x))
        .else_()
        .fail("x must be in [0, 10) or above 10")
    )


def test_the_first_case_that_holds_runs():
    assert sized(x=3) == 9
    assert sized(x=11) == 22
    assert sized(x=-200) == -400


def test_else_fail_raises_the_message_with_the_conditionals_name():
    with pytest.raises(UserException, match=r"conditional 'size': x must be in \[0, 10\) or above 10"):
        sized(x=10)


def test_conditions_on_task_outputs_fields_and_none():
    @workflow
    def decide(x: int) -> int:
        even = is_even(n=x)
        return conditional("parity").if_(even.is_true()).then(square(n=x)).else_().then(double(n=x))

    @workflow
    def labelled(x: int) -> int:
        result = measure(n=x)
        return conditional("label").if_(result.label == "big").then(double(n=result.value)).else_().then(square(n=x))

    @workflow
    def optional(x: int) -> int:
        value = maybe(n=x)
        return conditional("none").if_(value.is_none()).then(square(n=x)).else_().then(double(n=x))

    assert (decide(x=4), decide(x=3)) == (16, 6)
    assert (labelled(x=200), labelled(x=5)) == (400, 25)
    assert (optional(x=-3), optional(x=3)) == (9, 6)


def test_a_branch_is_one_node_after_everything_its_conditions_and_cases_read():
    @workflow
    def decide(x: int) -> int:
        even = is_even(n=x)
        return conditional("parity").if_(even.is_true()).then(square(n=x)).else_().then(double(n=x))

    assert [node.id for node in decide.nodes] == ["n0", "n3"]
    assert [node.id for node in decide.nodes[1].upstream_nodes] == ["n0"]


def test_the_template_has_a_branch_node_with_conditions_cases_and_failure():
    template = sized.to_workflow_template(SerializationSettings(project="p", domain="d", version="1"))
    (branch,) = template.nodes
    if_else = branch.branch_node.if_else
    condition = if_else.case.condition.conjunction
    assert condition.operator is LogicalOperator.AND
    comparison = condition.left_expression.comparison
    assert comparison.operator is ComparisonOperator.GTE
    # A workflow input is an output of the node with the empty id, as flytekit and flyteidl write it.
    assert comparison.left_value.var == ".x" and comparison.right_value.primitive.integer == 0
    assert if_else.case.then_node.task_node.reference_id.name.endswith("square")
    assert if_else.other[0].then_node.task_node.reference_id.name.endswith("double")
    assert if_else.error.message == "x must be in [0, 10) or above 10"
    assert if_else.error.failed_node_id == "size"  # the conditional's name, as flytekit writes it
    assert [binding.var for binding in branch.inputs] == [".x"]
    assert branch.inputs[0].binding.promise.node_id == ""
    assert from_json(to_json(template), WorkflowTemplate) == template


def test_a_conditional_without_else_is_an_error():
    with pytest.raises(ValidationError, match=r"conditional 'open' is not finished"):

        @workflow
        def unfinished(x: int) -> int:
            conditional("open").if_(x > 1).then(square(n=x))
            return square(n=x)


def test_cases_must_agree_on_their_outputs():
    with pytest.raises(TypeTransformerFailedError, match=r"output 'o0' is int in the first case, str in another"):

        @workflow
        def mixed(x: int) -> int:
            return conditional("mixed").if_(x > 1).then(square(n=x)).else_().then(name_of(n=x))


def test_python_and_or_on_conditions_tell_to_use_ampersand_and_bar():
    with pytest.raises(UserTypeError, match="combine conditions with & and |"):

        @workflow
        def pythonic(x: int) -> int:
            return conditional("py").if_((x > 1) and (x < 5)).then(square(n=x)).else_().then(double(n=x))


def test_a_case_runs_exactly_one_call():
    with pytest.raises(ValidationError, match="a case runs exactly one task or workflow call, this one makes 2"):

        @workflow
        def busy(x: int) -> int:
            return conditional("busy").if_(x > 1).then(square(n=square(n=x))).else_().then(double(n=x))


def test_conditional_outside_a_workflow_is_an_error():
    with pytest.raises(ValidationError, match="can only be used inside a @workflow"):
        conditional("nowhere")
