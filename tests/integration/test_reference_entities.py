"""reference_task / reference_workflow / reference_launch_plan: nodes that point at registered entities."""

from __future__ import annotations

import pytest

from taskloom import (
    SerializationSettings,
    reference_launch_plan,
    reference_task,
    reference_workflow,
    task,
    workflow,
)
from taskloom.core.reference_entity import ReferenceNotRunnableError, has_body
from taskloom.exceptions.user import ValidationError
from taskloom.models.identifier import Identifier, ResourceType

SETTINGS = SerializationSettings(project="mine", domain="development", version="local-1")


@reference_task(project="shared", domain="production", name="core.join", version="v3")
def join(parts: list[str]) -> str:
    """Joins the parts on the cluster."""


@reference_task(project="shared", domain="production", name="core.upper", version="v1")
def upper(text: str) -> str:
    return text.upper()


@reference_workflow(project="shared", domain="production", name="flows.clean", version="v2")
def clean(text: str) -> str: ...


@reference_launch_plan(project="shared", domain="production", name="flows.report", version="v5")
def report(text: str) -> int:
    pass


@task
def exclaim(text: str) -> str:
    return text + "!"


@workflow
def uses_every_kind(text: str) -> int:
    joined = join(parts=[text, text])
    return report(text=clean(text=upper(text=exclaim(text=joined))))


@workflow
def uses_implemented_reference(text: str) -> str:
    return exclaim(text=upper(text=text))


def test_nodes_point_at_the_registered_identifiers_not_at_the_settings():
    template = uses_every_kind.to_workflow_template(SETTINGS)
    by_id = {node.id: node for node in template.nodes}
    assert by_id["n0"].task_node.reference_id == Identifier(
        resource_type=ResourceType.TASK, project="shared", domain="production", name="core.join", version="v3"
    )
    assert by_id["n1"].task_node.reference_id.project == "mine"  # an ordinary task: the settings
    assert by_id["n2"].task_node.reference_id.name == "core.upper"
    assert by_id["n3"].workflow_node.sub_workflow_ref == Identifier(
        resource_type=ResourceType.WORKFLOW, project="shared", domain="production", name="flows.clean", version="v2"
    )
    assert by_id["n4"].workflow_node.launchplan_ref == Identifier(
        resource_type=ResourceType.LAUNCH_PLAN, project="shared", domain="production", name="flows.report", version="v5"
    )


def test_the_interface_comes_from_the_declared_signature():
    assert join.python_interface.inputs == {"parts": list[str]}
    assert report.python_interface.outputs == {"o0": int}


def test_a_reference_with_a_body_runs_it_locally():
    assert uses_implemented_reference(text="hi") == "HI!"
    assert upper(text="a") == "A"


@pytest.mark.parametrize("reference", [join, clean, report])
def test_a_reference_without_a_body_is_a_clear_error_when_called_locally(reference):
    inputs = {"parts": ["a"]} if reference is join else {"text": "a"}
    with pytest.raises(ReferenceNotRunnableError) as caught:
        reference(**inputs)
    message = str(caught.value)
    assert reference.name in message and "production" in message and "no local implementation" in message


def test_a_workflow_using_an_unimplemented_reference_fails_naming_it():
    with pytest.raises(ReferenceNotRunnableError, match="core.join"):
        uses_every_kind(text="x")


def test_a_reference_has_no_template_of_its_own():
    with pytest.raises(ValidationError, match="registered already"):
        join.to_task_template(SETTINGS)


def test_bodies_of_dots_pass_or_docstring_are_not_implementations():
    def dots(x: int) -> int: ...

    def passes(x: int) -> int:
        pass

    def documented(x: int) -> int:
        """Only words."""

    def real(x: int) -> int:
        return x

    assert not has_body(dots) and not has_body(passes) and not has_body(documented)
    assert has_body(real)
