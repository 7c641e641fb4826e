"""Entities into templates: the one place where tasks, workflows, launch plans and dynamic graphs
become flyteidl-shaped contracts (flytekit's ``flytekit/tools/translator.py``, ``get_serializable``).

Entities (``taskloom/core/``) say what a user declared; a :class:`Translator` turns them into the
contracts of :mod:`taskloom.models` under one
:class:`~taskloom.configuration.SerializationSettings`: a task's ``TaskTemplate``, a workflow's
``WorkflowTemplate`` (walking its compiled graph: nodes, bindings, outputs, failure policy and
failure node, upstream edges), the templates of its subworkflows, a launch plan's ``LaunchPlanSpec``, and the
``DynamicJobSpec`` of a graph a dynamic task builds at run time. It also answers what a workflow
uses, so that a packager registers those entities first and a dynamic job ships them.

The node protocol
-----------------
The translator names no kind of node. Each entity that can sit in a workflow node describes its
own node, with one method (:class:`NodeEntity`)::

    def node_model(self, node: Node, translator: Translator) -> models.workflow.Node: ...

``node`` is the compiled :class:`~taskloom.core.node.Node` (its id, bindings, upstream nodes and
``with_overrides`` settings); the method returns the node's contract. The translator gives what
every kind needs: :meth:`Translator.build_node` (the contract with the node's id, input bindings
and upstream ids filled in), :meth:`~Translator.node_metadata` (flytekit's node metadata with the
overrides applied), :meth:`~Translator.task_node_overrides`, :meth:`~Translator.refer` (the
identifier of the task, workflow or launch plan the node points at, noted as used),
:meth:`~Translator.depends_on` (an entity to register first that the node does not point at) and
:meth:`~Translator.node` (the contract of a node held inside this one, as a branch holds its cases).

In the kernel, tasks (``PythonTask``: a task node), workflows (a subworkflow node), launch plans,
reference entities, gates and branches (``BranchSpec``) implement it where they are defined;
taskloom-map's ``ArrayNodeMapTask`` describes its own array node. An entity kind of a third party
serializes the same way, with no change here. (To be called inside a ``@workflow`` an entity also
needs ``name`` and ``python_interface``, and adds its node with
:func:`~taskloom.core.compiler.create_node`.)

The contracts are imported at the top of this module: entities import it only when a template is
made, so declaring tasks and workflows does not pay for attrs and the contracts.
"""

from __future__ import annotations

import copy
import datetime as dt
import typing
from typing import TYPE_CHECKING, Any, Protocol

from taskloom.configuration import resolve_image
from taskloom.core.base_task import PythonTask
from taskloom.core.interface import NO_DEFAULT
from taskloom.core.launch_plan import LaunchPlan
from taskloom.core.node import promises_in
from taskloom.core.pod_template import PodTemplate, as_pod_template
from taskloom.core.promise import START_NODE, Promise
from taskloom.core.reference_entity import ReferenceEntity
from taskloom.core.resources import convert_resources_to_resource_model, resolve_resources
from taskloom.core.type_engine import TypeEngine, strip_annotated
from taskloom.core.workflow import WorkflowBase, is_optional_type
from taskloom.exceptions.user import ValidationError
from taskloom.models import launch_plan as launch_plan_models
from taskloom.models.dynamic_job import DynamicJobSpec
from taskloom.models.identifier import Identifier, ResourceType
from taskloom.models.interface import Parameter, ParameterMap
from taskloom.models.literals import (
    Binding,
    BindingData,
    BindingDataCollection,
    BindingDataMap,
    KeyValuePair,
    Literal,
    RetryStrategy,
    Scalar,
    Void,
)
from taskloom.models.task import (
    Container,
    ExtendedResources,
    GPUAccelerator,
    K8sObjectMetadata,
    K8sPod,
    TaskTemplate,
)
from taskloom.models.types import OutputReference, PromiseAttribute
from taskloom.models.workflow import Node as NodeModel
from taskloom.models.workflow import (
    NodeMetadata,
    OnFailurePolicy,
    TaskNodeOverrides,
    WorkflowMetadata,
    WorkflowMetadataDefaults,
    WorkflowTemplate,
)
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    from taskloom.configuration import SerializationSettings
    from taskloom.core.node import Node

#: The key of a task template's ``config`` that names the pod's primary container: FlytePropeller
#: reads it to find the container that runs the task (flytekit writes it too).
PRIMARY_CONTAINER_KEY = "primary_container_name"

# Kubernetes' names of the resources.
_KUBERNETES_RESOURCE_NAMES = {
    "CPU": "cpu",
    "MEMORY": "memory",
    "GPU": "nvidia.com/gpu",
    "EPHEMERAL_STORAGE": "ephemeral-storage",
    "STORAGE": "storage",
}

#: What ``with_overrides`` can replace on a task node's container (flyteidl ``TaskNodeOverrides``).
_TASK_NODE_OVERRIDES = frozenset({"resources", "requests", "limits", "container_image", "accelerator", "pod_template"})


class NodeEntity(Protocol):
    """What an entity implements to be a node of a workflow template (see the module docs)."""

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """The contract of ``node``, a call of this entity inside a workflow, made with ``translator``."""
        ...


class Translator:
    """Turns entities into templates under ``settings``, each entity once by name (the first wins).

    One translator serves one packaging or one dynamic job: it remembers the templates it made and
    what each workflow uses. The module functions :func:`task_template`, :func:`workflow_template`,
    :func:`launch_plan_spec` and :func:`dynamic_job_spec` make one for a single answer.
    """

    def __init__(self, settings: SerializationSettings) -> None:
        self.settings = settings
        self._tasks: dict[str, TaskTemplate] = {}
        self._workflows: dict[str, WorkflowTemplate] = {}
        # By workflow name: what its nodes use, in node order, and whether a node points at it.
        self._uses: dict[str, list[tuple[Any, bool]]] = {}
        # The uses of the workflows being translated (innermost last): where refer() notes them.
        self._noting: list[list[tuple[Any, bool]]] = []

    # --- entities ---------------------------------------------------------------------------

    def task_template(self, task: PythonTask) -> TaskTemplate:
        """The task's ``TaskTemplate``: its type, interface, metadata, ``custom`` and ``config``, and the
        container (or pod, with a pod template) with image, command line, resources and environment.

        The command line comes from :meth:`~taskloom.core.base_task.PythonTask.get_command`. A
        reference task has no template: :class:`~taskloom.exceptions.user.ValidationError`.
        """
        if isinstance(task, ReferenceEntity):
            raise ValidationError(
                f"reference {task.kind} {task.name!r} has no template of its own: it is registered already "
                f"as {task.reference}"
            )
        known = self._tasks.get(task.name)
        if known is not None:
            return known
        container: Container | None = self._container(task) if task.runs_in_container else None
        k8s_pod = None
        config = task.get_config(self.settings) or {}
        pod_template = task.pod_template
        if pod_template is not None and container is not None:
            k8s_pod = _k8s_pod(pod_template, container)
            config = {**config, PRIMARY_CONTAINER_KEY: pod_template.primary_container_name}
            container = None
        template = TaskTemplate(
            id=self.identifier(ResourceType.TASK, task.name),
            type=task.task_type,
            metadata=task.metadata.to_taskmetadata_model(),
            interface=task.interface,
            custom=task.get_custom(self.settings),
            container=container,
            k8s_pod=k8s_pod,
            task_type_version=task.task_type_version,
            security_context=task.security_context,
            extended_resources=_extended_resources(task),
            config=config,
        )
        self._tasks[task.name] = template
        return template

    def workflow_template(self, workflow: WorkflowBase) -> WorkflowTemplate:
        """The workflow's ``WorkflowTemplate``: its interface, failure policy, interruptibility, output
        bindings, a node per compiled node, each described by its entity (:class:`NodeEntity`), and
        its failure node (``on_failure``; what it runs is used, so registered, like a node's).

        Task nodes refer to their tasks, subworkflow and launch plan nodes to theirs, by identifier
        with the settings' project, domain and version; :meth:`subworkflows` gives the templates of
        the subworkflows.
        """
        known = self._workflows.get(workflow.name)
        if known is not None:
            return known
        self._noting.append([])
        try:
            nodes = tuple(self.node(node) for node in workflow.nodes)
            failure_node = self.node(workflow.failure_node) if workflow.failure_node is not None else None
        finally:
            uses = self._noting.pop()
        outputs = workflow.python_interface.outputs
        template = WorkflowTemplate(
            id=self.identifier(ResourceType.WORKFLOW, workflow.name),
            metadata=WorkflowMetadata(on_failure=OnFailurePolicy(workflow.failure_policy.value)),
            interface=workflow.interface,
            nodes=nodes,
            outputs=tuple(self.binding(name, value, outputs[name]) for name, value in workflow.output_bindings.items()),
            failure_node=failure_node,
            metadata_defaults=WorkflowMetadataDefaults(interruptible=workflow.interruptible),
        )
        self._workflows[workflow.name] = template
        self._uses[workflow.name] = uses
        return template

    def launch_plan_spec(self, plan: LaunchPlan) -> launch_plan_models.LaunchPlanSpec:
        """The launch plan's ``LaunchPlanSpec``: its workflow's identifier, the inputs one can give
        (with the plan's defaults), its fixed inputs, schedule, notifications and run options.
        """
        workflow = plan.workflow
        schedule = plan.schedule
        return launch_plan_models.LaunchPlanSpec(
            workflow_id=self.identifier(ResourceType.WORKFLOW, workflow.name),
            entity_metadata=launch_plan_models.LaunchPlanMetadata(
                schedule=schedule.to_model() if schedule is not None else None,
                notifications=tuple(notification.to_model() for notification in plan.notifications),
            ),
            default_inputs=_parameters(plan),
            fixed_inputs=TypeEngine.dict_to_literal_map(
                None, plan.fixed_inputs, workflow.python_interface.inputs, entity=f"launch plan {plan.name!r}"
            ),
            labels=plan.labels,
            annotations=plan.annotations,
            security_context=plan.security_context,
            raw_output_data_config=plan.raw_output_data_config or launch_plan_models.RawOutputDataConfig(),
            max_parallelism=plan.max_parallelism or 0,
            overwrite_cache=bool(plan.overwrite_cache),
        )

    def dynamic_job_spec(self, workflow: WorkflowBase) -> DynamicJobSpec:
        """The ``DynamicJobSpec`` that runs ``workflow`` (a graph a dynamic task built) in the task's place.

        It holds the graph's nodes and output bindings, ``min_successes`` equal to the number of
        nodes, the template of every task the graph's nodes point at (inside branches and
        subworkflows too, each once) and of every subworkflow, nested ones included. Launch plans
        are referred to by identifier only, as flytekit does.
        """
        template = self.workflow_template(workflow)
        tasks: dict[str, TaskTemplate] = {}
        subworkflows: dict[str, WorkflowTemplate] = {}
        self._collect(workflow, subworkflows, tasks)
        return DynamicJobSpec(
            nodes=template.nodes,
            min_successes=len(template.nodes),
            outputs=template.outputs,
            tasks=tuple(tasks.values()),
            subworkflows=tuple(subworkflows.values()),
        )

    def subworkflows(self, workflow: WorkflowBase) -> tuple[WorkflowTemplate, ...]:
        """The templates of the workflows ``workflow``'s nodes run as subworkflows, nested ones
        included, each once, a workflow before those it holds (a ``WorkflowSpec``'s ``sub_workflows``).
        """
        found: dict[str, WorkflowTemplate] = {}
        self._collect(workflow, found, None)
        return tuple(found.values())

    def uses(self, workflow: WorkflowBase) -> list[Any]:
        """The tasks, workflows and launch plans ``workflow``'s nodes use (inside branches too), in node
        order, each once: what must be registered before it. Reference entities are not among them.
        """
        self.workflow_template(workflow)
        used = (entity for entity, _ in self._uses[workflow.name] if not isinstance(entity, ReferenceEntity))
        return list({id(entity): entity for entity in used}.values())

    def _collect(
        self,
        workflow: WorkflowBase,
        subworkflows: dict[str, WorkflowTemplate],
        tasks: dict[str, TaskTemplate] | None,
    ) -> None:
        """Add the templates of the subworkflows (and, unless None, tasks) ``workflow``'s nodes point at."""
        self.workflow_template(workflow)
        for entity, pointed_at in self._uses[workflow.name]:
            if not pointed_at or isinstance(entity, LaunchPlan):
                continue  # a launch plan is known to the backend by its identifier
            if isinstance(entity, WorkflowBase):
                if entity.name not in subworkflows:
                    subworkflows[entity.name] = self.workflow_template(entity)
                    self._collect(entity, subworkflows, tasks)
            elif tasks is not None and entity.name not in tasks:
                tasks[entity.name] = self.task_template(entity)

    # --- nodes: what entity kinds use in node_model --------------------------------------------

    def node(self, node: Node) -> NodeModel:
        """The contract of ``node``, as its entity describes it (:class:`NodeEntity`)."""
        describe = getattr(node.entity, "node_model", None)
        if describe is None:
            raise ValidationError(
                f"node {node.id}: {type(node.entity).__name__} {getattr(node.entity, 'name', node.entity)!r} "
                "cannot be part of a workflow template: it has no node_model(node, translator) method "
                "(see taskloom.translator)"
            )
        return describe(node, self)

    def build_node(self, node: Node, metadata: NodeMetadata | None, **target: Any) -> NodeModel:
        """A node's contract with ``node``'s id, input bindings and upstream node ids, the given
        ``metadata`` and the kind's target: one of ``task_node=``, ``workflow_node=``,
        ``gate_node=``, ``array_node=``, ``branch_node=``.
        """
        return NodeModel(
            id=node.id,
            metadata=metadata,
            inputs=self.bindings(node),
            upstream_node_ids=self.upstream_node_ids(node),
            **target,
        )

    def bindings(self, node: Node) -> tuple[Binding, ...]:
        """The bindings of ``node``'s inputs, typed by its entity's interface."""
        inputs = node.entity.python_interface.inputs
        return tuple(self.binding(name, value, inputs[name]) for name, value in node.bindings.items())

    def binding(self, var: str, value: Any, python_type: Any) -> Binding:
        """The binding of ``var`` to ``value`` (a constant, a promise, or a list/dict holding promises)."""
        return Binding(var=var, binding=binding_data(value, python_type))

    def upstream_node_ids(self, node: Node) -> tuple[str, ...]:
        """The ids of the nodes ``node`` waits for: producers of its inputs, then ``>>`` predecessors."""
        return tuple(upstream.id for upstream in node.upstream_nodes)

    def node_metadata(
        self,
        node: Node,
        name: str,
        *,
        timeout: dt.timedelta | int | None = None,
        retries: int = 0,
        interruptible: bool | None = None,
    ) -> NodeMetadata:
        """A node's ``NodeMetadata`` as flytekit writes it: the entity's ``timeout``, ``retries`` and
        ``interruptible`` (a task's own; a workflow's interruptibility), ``with_overrides`` winning.

        The name is the last dotted component of ``name`` (``with_overrides(name=...)`` replaces
        it; ``node_name=`` names the node's id, not this).
        """
        overrides = node.overrides
        if isinstance(timeout, int):
            timeout = dt.timedelta(seconds=timeout)
        cache = overrides.get("cache")
        return NodeMetadata(
            name=overrides.get("name") or name.rsplit(".", 1)[-1],
            timeout=overrides.get("timeout", timeout),
            retries=RetryStrategy(retries=overrides.get("retries", retries)),
            interruptible=overrides.get("interruptible", interruptible),
            cacheable=None if cache is None else bool(cache),
            cache_version=overrides.get("cache_version") or getattr(cache, "version", None),
            cache_serializable=overrides.get("cache_serialize", getattr(cache, "serialize", None)),
        )

    def task_node_overrides(self, node: Node) -> TaskNodeOverrides | None:
        """The ``TaskNodeOverrides`` of the resources, image, accelerator and pod template that
        ``with_overrides`` replaced on ``node``, or None when it replaced none of them.
        """
        overrides = node.overrides
        if not _TASK_NODE_OVERRIDES & set(overrides):
            return None
        spec = resolve_resources(
            overrides.get("requests"), overrides.get("limits"), overrides.get("resources"), entity="node"
        )
        accelerator = overrides.get("accelerator")
        pod_template = as_pod_template("node", overrides.get("pod_template"))
        return TaskNodeOverrides(
            resources=convert_resources_to_resource_model(spec.requests, spec.limits) if spec is not None else None,
            extended_resources=ExtendedResources(gpu_accelerator=GPUAccelerator(device=str(accelerator)))
            if accelerator
            else None,
            container_image=overrides.get("container_image") or "",
            pod_template=_k8s_pod(pod_template, None) if pod_template is not None else None,
        )

    def identifier(self, resource_type: ResourceType, name: str) -> Identifier:
        """The identifier of ``name`` with the settings' project, domain and version."""
        settings = self.settings
        return Identifier(
            resource_type=resource_type,
            project=settings.project,
            domain=settings.domain,
            name=name,
            version=settings.version,
        )

    def refer(self, entity: Any) -> Identifier:
        """The identifier a node uses to point at ``entity``, a task, workflow or launch plan.

        The entity is noted as used by the workflow being translated: a packager registers it
        first, a dynamic job ships its template. A reference entity's identifier is the one it was
        registered with; a packager leaves it out, and a dynamic job refuses it (it has no template
        to ship, as flytekit refuses reference tasks inside dynamic tasks).
        """
        if isinstance(entity, ReferenceEntity):
            self._note(entity, pointed_at=True)
            return entity.reference
        if isinstance(entity, LaunchPlan):
            resource_type = ResourceType.LAUNCH_PLAN
        elif isinstance(entity, WorkflowBase):
            resource_type = ResourceType.WORKFLOW
        elif isinstance(entity, PythonTask):
            resource_type = ResourceType.TASK
        else:
            raise ValidationError(
                f"a node cannot point at {type(entity).__name__} {getattr(entity, 'name', entity)!r}: "
                "expected a task, a workflow or a launch plan"
            )
        self._note(entity, pointed_at=True)
        return self.identifier(resource_type, entity.name)

    def depends_on(self, entity: Any) -> None:
        """Note that the workflow being translated needs ``entity`` (a task, workflow or launch plan)
        registered before it, though no node points at it (a map's task: pyflyte registers it first).
        A dynamic job does not ship it.
        """
        if not isinstance(entity, (PythonTask, WorkflowBase, LaunchPlan)):
            raise ValidationError(
                f"cannot register {type(entity).__name__} {getattr(entity, 'name', entity)!r}: "
                "expected a task, a workflow or a launch plan"
            )
        self._note(entity, pointed_at=False)

    def _note(self, entity: Any, *, pointed_at: bool) -> None:
        if self._noting:
            self._noting[-1].append((entity, pointed_at))

    # --- tasks: the parts of a template -------------------------------------------------------

    def _container(self, task: PythonTask) -> Container:
        # The task's own answer: a task type that runs a program of its own (a raw container) adds to
        # task_container()'s, which is what PythonTask.get_container gives.
        return task.get_container(self.settings)


# --- one answer each ------------------------------------------------------------------------------


def task_container(task: PythonTask, settings: SerializationSettings) -> Container:
    """The container of ``task`` under ``settings``: image, command line (from ``get_command``), resources
    and environment (the settings' first, then the task's); what ``PythonTask.get_container`` gives.
    """
    entity = f"task {task.name!r}"
    image = task.container_image
    if image is not None and not isinstance(image, str):  # an image described by an object (an ImageSpec)
        named = get_plugin_manager().hook.taskloom_container_image(image=image, settings=settings)
        if not isinstance(named, str) or not named:
            raise ValidationError(
                f"{entity}: container_image is a {type(image).__name__}, which no installed plugin names "
                f"(an ImageSpec needs taskloom-container: pip install taskloom-container); got {named!r}"
            )
        image = named
    environment = {**(settings.env or {}), **task.environment}
    resources = None
    if task.resources is not None:
        resources = convert_resources_to_resource_model(task.resources.requests, task.resources.limits)
    return Container(
        image=resolve_image(image, settings, entity=entity),
        args=task.get_command(settings),
        resources=resources,
        env=tuple(KeyValuePair(key=key, value=value) for key, value in sorted(environment.items())),
    )


def task_template(task: PythonTask, settings: SerializationSettings) -> TaskTemplate:
    """The ``TaskTemplate`` of ``task`` under ``settings`` (see :meth:`Translator.task_template`)."""
    return Translator(settings).task_template(task)


def workflow_template(workflow: WorkflowBase, settings: SerializationSettings) -> WorkflowTemplate:
    """The ``WorkflowTemplate`` of ``workflow`` under ``settings`` (see :meth:`Translator.workflow_template`)."""
    return Translator(settings).workflow_template(workflow)


def launch_plan_spec(plan: LaunchPlan, settings: SerializationSettings) -> launch_plan_models.LaunchPlanSpec:
    """The ``LaunchPlanSpec`` of ``plan`` under ``settings`` (see :meth:`Translator.launch_plan_spec`)."""
    return Translator(settings).launch_plan_spec(plan)


def dynamic_job_spec(workflow: WorkflowBase, settings: SerializationSettings) -> DynamicJobSpec:
    """The ``DynamicJobSpec`` of ``workflow``, a graph built at run time, under ``settings``
    (see :meth:`Translator.dynamic_job_spec`).
    """
    return Translator(settings).dynamic_job_spec(workflow)


# --- bindings -------------------------------------------------------------------------------------


def binding_data(value: Any, python_type: Any) -> BindingData:
    """The ``BindingData`` of a binding value declared as ``python_type``: a promise becomes an output
    reference, a list or dict holding promises a collection or map, anything else a literal.
    """
    if isinstance(value, Promise):
        path = tuple(
            PromiseAttribute(int_value=step) if isinstance(step, int) else PromiseAttribute(string_value=step)
            for step in value.attr_path
        )
        # Workflow inputs are the outputs of the node with the empty id, as in flyteidl and flytekit.
        node_id = "" if value.node_id == START_NODE else value.node_id
        return BindingData(promise=OutputReference(node_id=node_id, var=value.var, attr_path=path))
    if promises_in(value):
        arguments = typing.get_args(strip_annotated(python_type))
        if isinstance(value, list):
            return BindingData(collection=BindingDataCollection([binding_data(item, arguments[0]) for item in value]))
        return BindingData(map=BindingDataMap({key: binding_data(item, arguments[1]) for key, item in value.items()}))
    return _literal_binding(TypeEngine.to_literal(None, value, python_type))


def _literal_binding(literal: Literal) -> BindingData:
    if literal.collection is not None:
        return BindingData(
            collection=BindingDataCollection([_literal_binding(item) for item in literal.collection.literals])
        )
    if literal.map is not None:
        return BindingData(
            map=BindingDataMap({key: _literal_binding(item) for key, item in literal.map.literals.items()})
        )
    return BindingData(scalar=literal.scalar)


# --- the parts of task templates and launch plan specs --------------------------------------------


def _extended_resources(task: PythonTask) -> ExtendedResources | None:
    """The accelerator the task asks for (a device name, a ``GPUAccelerator``, or anything with ``.device``)."""
    accelerator = task.accelerator
    if accelerator is None:
        return None
    if isinstance(accelerator, GPUAccelerator):
        return ExtendedResources(gpu_accelerator=accelerator)
    device = accelerator if isinstance(accelerator, str) else getattr(accelerator, "device", None)
    if isinstance(device, str):
        return ExtendedResources(gpu_accelerator=GPUAccelerator(device=device))
    raise ValidationError(
        f"task {task.name!r}: accelerator expects a device name or an object with .device, "
        f"got {type(accelerator).__name__}"
    )


def _k8s_pod(pod_template: PodTemplate, container: Container | None) -> K8sPod:
    """The ``K8sPod`` of ``pod_template``: its spec (with the task's ``container`` merged into the primary
    container when one is given), the primary container's name, and the pod's labels and annotations.
    """
    pod_spec = pod_template.pod_spec_dict()
    name = pod_template.primary_container_name
    if container is not None:
        pod_spec = _pod_spec_with_primary(pod_spec, container, name)
    metadata = None
    if pod_template.labels or pod_template.annotations:
        metadata = K8sObjectMetadata(
            labels=dict(pod_template.labels or {}), annotations=dict(pod_template.annotations or {})
        )
    return K8sPod(metadata=metadata, pod_spec=pod_spec, primary_container_name=name)


def _pod_spec_with_primary(pod_spec: dict[str, Any], container: Any, primary_name: str) -> dict[str, Any]:
    """A copy of ``pod_spec`` whose primary container (``primary_name``) carries the task's image, command
    line, environment and resources.

    Values the pod template sets on the primary container itself win; the task's fill what it leaves out.
    """
    spec = copy.deepcopy(pod_spec)
    containers = spec.setdefault("containers", [])
    primary = next((item for item in containers if item.get("name") == primary_name), None)
    if primary is None:
        primary = {"name": primary_name}
        containers.insert(0, primary)
    primary.setdefault("image", container.image)
    if container.args:  # the command line that runs the task (from the packaging plugin)
        primary.setdefault("args", list(container.args))
    if container.env:
        present = {item.get("name") for item in primary.get("env", [])}
        primary["env"] = primary.get("env", []) + [
            {"name": pair.key, "value": pair.value} for pair in container.env if pair.key not in present
        ]
    if container.resources is not None:
        resources = primary.setdefault("resources", {})
        for kind, entries in (("requests", container.resources.requests), ("limits", container.resources.limits)):
            if entries:
                target = resources.setdefault(kind, {})
                for entry in entries:
                    target.setdefault(
                        _KUBERNETES_RESOURCE_NAMES.get(entry.name.name, entry.name.name.lower()), entry.value
                    )
    return spec


def _parameters(plan: LaunchPlan) -> ParameterMap:
    """The inputs one can give ``plan``: required ones, and those with a default (the plan's or the workflow's)."""
    variables = plan.workflow.interface.inputs.variables
    parameters = {}
    for input_name, (python_type, default) in plan.python_interface.inputs_with_defaults.items():
        if default is NO_DEFAULT:
            parameters[input_name] = Parameter(var=variables[input_name], required=True)
        elif default is None and is_optional_type(python_type):
            # flytekit writes a None default of an Optional input as a bare Void, not as a union value.
            parameters[input_name] = Parameter(
                var=variables[input_name], default=Literal(scalar=Scalar(none_type=Void()))
            )
        else:
            parameters[input_name] = Parameter(
                var=variables[input_name], default=TypeEngine.to_literal(None, default, python_type)
            )
    return ParameterMap(parameters=parameters)
