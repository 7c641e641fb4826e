"""``get_serializable``: an entity's registrable contract, at flytekit's path and with its signature.

flytekit's unit tests inspect what a task or workflow becomes with
``get_serializable(OrderedDict(), serialization_settings, entity)``; ported, they get taskloom's
contracts, made by :class:`taskloom.translator.Translator` (the same that ``loom package`` uses):

* a task gives a :class:`TaskSpec` whose ``template`` is a
  :class:`~taskloom.models.task.TaskTemplate` (``.template.container.args``, ``.template.interface``,
  ``.template.metadata``...);
* a workflow gives a :class:`WorkflowSpec`: its ``template`` and its ``sub_workflows``;
* a launch plan gives a :class:`~taskloom.models.launch_plan.LaunchPlan`: its ``id`` and ``spec``.

``entity_mapping`` (an ``OrderedDict``) receives every entity translated on the way, the one asked
for last, each with its contract, as in flytekit; an entity already in it is not translated again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import attrs

from taskloom.configuration import SerializationSettings
from taskloom.core.base_task import PythonTask
from taskloom.core.launch_plan import LaunchPlan
from taskloom.core.reference_entity import ReferenceEntity
from taskloom.core.workflow import WorkflowBase
from taskloom.exceptions.user import ValidationError
from taskloom.models import launch_plan as launch_plan_models
from taskloom.models.identifier import ResourceType
from taskloom.models.task import TaskTemplate
from taskloom.models.workflow import WorkflowTemplate
from taskloom.translator import Translator


@attrs.frozen
class TaskSpec:
    """A task as it is registered (flyteidl ``admin.TaskSpec``): its template."""

    template: TaskTemplate


@attrs.frozen
class WorkflowSpec:
    """A workflow as it is registered (flyteidl ``admin.WorkflowSpec``): its template and the
    templates of the subworkflows its nodes run, nested ones included."""

    template: WorkflowTemplate
    sub_workflows: tuple[WorkflowTemplate, ...] = ()


def get_serializable(
    entity_mapping: OrderedDict[Any, Any],
    settings: SerializationSettings,
    entity: Any,
    options: Any = None,
) -> TaskSpec | WorkflowSpec | launch_plan_models.LaunchPlan:
    """The contract ``entity`` is registered as, under ``settings`` (see the module docs).

    ``options`` (flytekit's ``Options``: labels, annotations, raw output location... for launch
    plans) is not supported: give them to the ``LaunchPlan`` instead; anything but None is a
    :class:`~taskloom.exceptions.user.ValidationError`, as are reference entities (registered
    already: they have no contract of their own) and objects that are no task, workflow or
    launch plan.
    """
    if options is not None:
        raise ValidationError(
            f"get_serializable: options are not supported (got {options!r}); give labels, annotations and "
            "raw_output_data_config to LaunchPlan.get_or_create instead"
        )
    return _serialize(entity_mapping, Translator(settings), entity)


def _serialize(entity_mapping: OrderedDict[Any, Any], translator: Translator, entity: Any) -> Any:
    known = entity_mapping.get(entity)
    if known is not None:
        return known
    if isinstance(entity, ReferenceEntity):
        raise ValidationError(
            f"get_serializable: reference {entity.kind} {entity.name!r} is registered already as "
            f"{entity.reference} and has no contract of its own"
        )
    contract: Any
    if isinstance(entity, LaunchPlan):
        _serialize(entity_mapping, translator, entity.workflow)
        contract = launch_plan_models.LaunchPlan(
            id=translator.identifier(ResourceType.LAUNCH_PLAN, entity.name), spec=translator.launch_plan_spec(entity)
        )
    elif isinstance(entity, WorkflowBase):
        for used in translator.uses(entity):
            _serialize(entity_mapping, translator, used)
        contract = WorkflowSpec(
            template=translator.workflow_template(entity), sub_workflows=translator.subworkflows(entity)
        )
    elif isinstance(entity, PythonTask):
        contract = TaskSpec(template=translator.task_template(entity))
    else:
        raise ValidationError(
            f"get_serializable: expected a task, workflow or launch plan, got {type(entity).__name__} {entity!r}"
        )
    entity_mapping[entity] = contract
    return contract
