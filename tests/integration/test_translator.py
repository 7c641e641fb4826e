"""taskloom.translator: entities into templates, what a workflow uses, and the node protocol's edges."""

from __future__ import annotations

import datetime as dt

import pytest

from taskloom import (
    LaunchPlan,
    SerializationSettings,
    conditional,
    dynamic,
    map_task,
    reference_task,
    sleep,
    task,
    workflow,
)
from taskloom.core.interface import Interface
from taskloom.core.node import Node
from taskloom.exceptions.user import ValidationError
from taskloom.models.identifier import Identifier, ResourceType
from taskloom.translator import Translator, task_template

SETTINGS = SerializationSettings(project="p", domain="d", version="1")


@pytest.fixture(autouse=True)
def fresh_launch_plans(monkeypatch):
    monkeypatch.setattr(LaunchPlan, "CACHE", {})


@task
def double(x: int) -> int:
    return 2 * x


@task
def negate(x: int) -> int:
    return -x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@reference_task(project="shared", domain="prod", name="shared.scale", version="v2")
def scale(x: int) -> int: ...


@workflow
def twice(x: int) -> int:
    return double(x=double(x=x))


@workflow
def twice_twice(x: int) -> int:
    return twice(x=twice(x=x))


def test_a_workflow_uses_what_its_nodes_point_at_in_node_order_branches_included_gates_and_references_not():
    plan = LaunchPlan.get_or_create(twice, name="twice_plan")

    @workflow
    def uses_everything(x: int) -> int:
        a = twice(x=x)
        b = plan(x=a)
        c = conditional("sign").if_(b > 0).then(negate(x=b)).else_().then(double(x=b))
        sleep(dt.timedelta(seconds=1))
        return total(xs=[scale(x=c), double(x=a)])

    assert Translator(SETTINGS).uses(uses_everything) == [twice, plan, negate, double, total]


def test_a_map_node_points_at_the_map_and_needs_its_task_registered_first_but_a_dynamic_job_ships_only_the_map():
    mapped = map_task(double)

    @workflow
    def maps(xs: list[int]) -> list[int]:
        return mapped(x=xs)

    @dynamic
    def maps_at_run_time(n: int) -> list[int]:
        return mapped(x=list(range(n)))

    assert Translator(SETTINGS).uses(maps) == [double, mapped]
    spec = maps_at_run_time.to_dynamic_job_spec(SETTINGS, {"n": 2})
    assert [template.id.name for template in spec.tasks] == [mapped.name]


def test_subworkflows_come_each_once_a_workflow_before_those_it_holds_launch_plans_not_among_them():
    plan = LaunchPlan.get_or_create(twice, name="twice_plan")

    @workflow
    def outer(x: int) -> int:
        return plan(x=twice_twice(x=twice(x=x)))

    assert [template.id.name for template in Translator(SETTINGS).subworkflows(outer)] == [
        twice.name,
        twice_twice.name,
    ]
    assert [template.id.name for template in Translator(SETTINGS).subworkflows(twice_twice)] == [twice.name]


def test_a_reference_is_pointed_at_by_the_identifier_it_was_registered_with():
    translator = Translator(SETTINGS)
    assert translator.refer(scale) == Identifier(
        resource_type=ResourceType.TASK, project="shared", domain="prod", name="shared.scale", version="v2"
    )
    assert translator.refer(double) == translator.identifier(ResourceType.TASK, double.name)


def test_a_node_points_only_at_tasks_workflows_and_launch_plans():
    with pytest.raises(ValidationError, match=r"cannot point at str 'double': expected a task, a workflow or a launch"):
        Translator(SETTINGS).refer("double")


def test_an_entity_without_a_node_model_is_an_error_naming_the_node_and_the_entity():
    class Stranger:
        name = "stranger"
        python_interface = Interface()

    with pytest.raises(ValidationError, match=r"node n4: Stranger 'stranger' cannot be part of a workflow template"):
        Translator(SETTINGS).node(Node("n4", Stranger(), {}))


def test_one_translator_makes_each_template_once_by_name_the_first_winning():
    translator = Translator(SETTINGS)
    first = translator.task_template(double)
    assert translator.task_template(double) is first
    assert translator.workflow_template(twice) is translator.workflow_template(twice)
    # A fresh translator (what to_task_template uses) makes a fresh one.
    assert task_template(double, SETTINGS) == first and task_template(double, SETTINGS) is not first


def test_a_reference_task_has_no_template_of_its_own():
    with pytest.raises(ValidationError, match=r"reference task 'shared.scale' has no template of its own"):
        Translator(SETTINGS).task_template(scale)
