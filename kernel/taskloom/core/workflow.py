"""Workflows: ``@workflow`` functions compiled into graphs of nodes (flytekit's names).

The body of a ``@workflow`` runs once, when it is declared, with promises for its inputs: each task or
workflow it calls becomes a node, and what it returns becomes the workflow's outputs. Python control
flow on promises is not possible (they have no value yet); an error says so. Called outside another
workflow, a workflow runs on the executor named by ``TASKLOOM_EXECUTOR`` (``local`` by default);
called inside one, it becomes a subworkflow node.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.core.compiler import (
    check_binding,
    compiling,
    create_node,
    current_compilation,
    validate_acyclic,
)
from taskloom.core.interface import NO_DEFAULT, Interface, transform_function_to_interface
from taskloom.core.node import Node, promises_in
from taskloom.core.promise import START_NODE, Promise, VoidPromise
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError

if TYPE_CHECKING:
    from taskloom.configuration import SerializationSettings
    from taskloom.models.interface import TypedInterface
    from taskloom.models.literals import BindingData
    from taskloom.models.workflow import WorkflowTemplate


class WorkflowFailurePolicy(enum.Enum):
    """What a workflow does when a node fails (flyteidl's ``OnFailurePolicy``)."""

    #: Stop at the first failure (the default).
    FAIL_IMMEDIATELY = 0
    #: Let every node that can still run finish, then fail.
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = 1


class WorkflowBase:
    """A compiled workflow: interface, nodes, output bindings, failure policy.

    ``nodes`` are in the order they were added; ``output_bindings`` map each output to a constant, a
    promise, or a list/dict holding promises.
    """

    #: Lets the compiler tell workflows from tasks without importing this module.
    is_workflow = True

    def __init__(
        self,
        name: str,
        interface: Interface,
        failure_policy: WorkflowFailurePolicy | None = None,
        interruptible: bool = False,
        docs: str | None = None,
    ) -> None:
        self._name = name
        self._interface = interface
        self._failure_policy = failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY
        self._interruptible = interruptible
        self._docs = docs if docs is not None else interface.docstring
        self._nodes: list[Node] = []
        self._output_bindings: dict[str, Any] = {}

    @property
    def name(self) -> str:
        """The workflow's name (for a function: ``module.function``)."""
        return self._name

    @property
    def python_interface(self) -> Interface:
        """Inputs and outputs with their Python types and defaults."""
        return self._interface

    @property
    def interface(self) -> TypedInterface:
        """Inputs and outputs with their literal types."""
        return self._interface.to_typed_interface(entity=f"workflow {self._name!r}")

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in the order the body added them."""
        return list(self._nodes)

    @property
    def output_bindings(self) -> dict[str, Any]:
        """Each output's value: a constant, a promise, or a list/dict holding promises."""
        return dict(self._output_bindings)

    @property
    def failure_policy(self) -> WorkflowFailurePolicy:
        """What happens when a node fails."""
        return self._failure_policy

    @property
    def docs(self) -> str | None:
        """The workflow's documentation (the function's docstring by default)."""
        return self._docs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the workflow on the configured executor; inside a workflow being compiled, add a node.

        Inputs are matched and checked as for a task; errors name the workflow and the input.
        """
        if current_compilation() is not None:
            return create_node(self, args, kwargs)
        from taskloom.core.executor import call_on_executor

        return call_on_executor(self, f"workflow {self._name!r}", args, kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Call the workflow from async code: ``await wf.aio(x=1)`` gives what ``wf(x=1)`` gives
        (handed to the executor inside an eager workflow, else run in a worker thread).
        """
        from taskloom.core.executor import call_async

        return await call_async(self, args, kwargs)

    # --- serialisation ---------------------------------------------------------------------

    def to_workflow_template(self, settings: SerializationSettings) -> WorkflowTemplate:
        """The workflow's :class:`~taskloom.models.workflow.WorkflowTemplate` under ``settings``.

        Task nodes refer to their tasks, subworkflow nodes to their workflows, by identifier with the
        settings' project, domain and version.
        """
        from taskloom.models.identifier import Identifier, ResourceType
        from taskloom.models.literals import Binding
        from taskloom.models.workflow import Node as NodeModel
        from taskloom.models.workflow import (
            NodeMetadata,
            OnFailurePolicy,
            TaskNode,
            WorkflowMetadata,
            WorkflowMetadataDefaults,
            WorkflowNode,
            WorkflowTemplate,
        )

        def identifier(kind: ResourceType, name: str) -> Identifier:
            return Identifier(
                resource_type=kind,
                project=settings.project,
                domain=settings.domain,
                name=name,
                version=settings.version,
            )

        def node_model(node: Node) -> NodeModel:
            entity = node.entity
            overrides = node.overrides
            upstream = tuple(upstream.id for upstream in node.upstream_nodes)
            if getattr(entity, "is_branch", False):
                return branch_model(node, entity, upstream)
            inputs = entity.python_interface.inputs
            bindings = tuple(
                Binding(var=name, binding=binding_data(value, inputs[name])) for name, value in node.bindings.items()
            )
            if getattr(entity, "is_gate", False):
                return gate_model(node, entity, bindings, upstream)
            metadata = node_metadata(overrides, entity)
            if getattr(entity, "is_array_node", False):  # the array node is named in full, as flytekit does
                metadata = NodeMetadata(name=overrides.get("name") or entity.name)
            if getattr(entity, "is_array_node", False):
                return array_model(node, entity, bindings, metadata, upstream)
            if getattr(entity, "is_reference", False):  # registered elsewhere: point at its identifier
                reference = entity.reference
                if reference.resource_type is ResourceType.LAUNCH_PLAN:
                    target = {"workflow_node": WorkflowNode(launchplan_ref=reference)}
                elif reference.resource_type is ResourceType.WORKFLOW:
                    target = {"workflow_node": WorkflowNode(sub_workflow_ref=reference)}
                else:
                    target = {"task_node": TaskNode(reference_id=reference, overrides=task_node_overrides(overrides))}
            elif getattr(entity, "is_launch_plan", False):
                target = {
                    "workflow_node": WorkflowNode(launchplan_ref=identifier(ResourceType.LAUNCH_PLAN, entity.name))
                }
            elif getattr(entity, "is_workflow", False):
                target = {
                    "workflow_node": WorkflowNode(sub_workflow_ref=identifier(ResourceType.WORKFLOW, entity.name))
                }
            else:
                target = {
                    "task_node": TaskNode(
                        reference_id=identifier(ResourceType.TASK, entity.name),
                        overrides=task_node_overrides(overrides),
                    )
                }
            return NodeModel(id=node.id, metadata=metadata, inputs=bindings, upstream_node_ids=upstream, **target)

        def array_model(node: Node, entity: Any, bindings: Any, metadata: Any, upstream: tuple[str, ...]) -> NodeModel:
            # An entity with ``is_array_node`` (a map task) runs one sub-node per element: flyteidl's
            # ArrayNode, whose sub-node refers to the entity's own task template (as flytekit's does).
            from taskloom.models.workflow import ArrayNode

            sub_node = NodeModel(
                id=node.id,
                metadata=NodeMetadata(name=entity.name),
                inputs=bindings,
                task_node=TaskNode(
                    reference_id=identifier(ResourceType.TASK, entity.name),
                    overrides=task_node_overrides(node.overrides),
                ),
            )
            criteria: dict[str, Any] = {}
            if entity.min_successes is not None:
                criteria["min_successes"] = entity.min_successes
            elif entity.min_success_ratio is not None:
                criteria["min_success_ratio"] = entity.min_success_ratio
            array = ArrayNode(
                node=sub_node,
                parallelism=entity.concurrency,
                bound_inputs=tuple(sorted(entity.bound_inputs)),
                is_original_sub_node_interface=False,
                run_all_sub_nodes=bool(entity.run_all_sub_nodes),
                **criteria,
            )
            return NodeModel(
                id=node.id, metadata=metadata, inputs=bindings, upstream_node_ids=upstream, array_node=array
            )

        def gate_model(node: Node, gate: Any, bindings: Any, upstream: tuple[str, ...]) -> NodeModel:
            # An entity with ``is_gate`` (sleep, wait_for_input, approve) is a flyteidl GateNode; as
            # flytekit does, its metadata is named after the gate and carries the gate's timeout.
            overrides = node.overrides
            metadata = NodeMetadata(
                name=overrides.get("name") or overrides.get("node_name") or gate.name,
                timeout=overrides.get("timeout", gate.timeout),
            )
            return NodeModel(
                id=node.id,
                metadata=metadata,
                inputs=bindings,
                upstream_node_ids=upstream,
                gate_node=gate.to_gate_node(),
            )

        def branch_model(node: Node, branch: Any, upstream: tuple[str, ...]) -> NodeModel:
            from taskloom.models.types import Error
            from taskloom.models.workflow import BranchNode, IfBlock, IfElseBlock

            inputs: dict[str, Binding] = {}
            blocks = [
                IfBlock(condition=boolean_expression(case.condition, inputs), then_node=node_model(case.node))
                for case in branch.cases
                if case.condition is not None
            ]
            otherwise = next((case for case in branch.cases if case.condition is None), None)
            if_else = IfElseBlock(
                case=blocks[0],
                other=tuple(blocks[1:]),
                else_node=node_model(otherwise.node) if otherwise is not None and otherwise.node is not None else None,
                error=Error(failed_node_id=branch.name, message=otherwise.error)
                if otherwise is not None and otherwise.error is not None
                else None,
            )
            # The branch waits for what its conditions read (and for ``>>``); the nodes inside bind
            # their own inputs, from which Flyte's compiler adds the rest (as for flytekit's branches).
            condition_nodes = [
                binding.binding.promise.node_id for binding in inputs.values() if binding.binding.promise is not None
            ]
            explicit = [upstream_node.id for upstream_node in node.explicit_upstream_nodes]
            waits_for = tuple(dict.fromkeys(name for name in condition_nodes + explicit if name))
            return NodeModel(
                id=node.id,
                metadata=NodeMetadata(name=branch.name),
                inputs=tuple(inputs.values()),
                upstream_node_ids=waits_for,
                branch_node=BranchNode(if_else=if_else),
            )

        nodes = [node_model(node) for node in self._nodes]
        outputs = self._interface.outputs
        return WorkflowTemplate(
            id=identifier(ResourceType.WORKFLOW, self._name),
            metadata=WorkflowMetadata(on_failure=OnFailurePolicy(self._failure_policy.value)),
            interface=self.interface,
            nodes=tuple(nodes),
            outputs=tuple(
                Binding(var=name, binding=binding_data(value, outputs[name]))
                for name, value in self._output_bindings.items()
            ),
            metadata_defaults=WorkflowMetadataDefaults(interruptible=self._interruptible),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, nodes={len(self._nodes)})"


class PythonFunctionWorkflow(WorkflowBase):
    """A workflow whose body is ``workflow_function``, compiled when it is created."""

    def __init__(
        self,
        workflow_function: Callable[..., Any],
        failure_policy: WorkflowFailurePolicy | None = None,
        interruptible: bool = False,
        docs: str | None = None,
    ) -> None:
        name = f"{workflow_function.__module__}.{workflow_function.__name__}"
        super().__init__(name, transform_function_to_interface(workflow_function), failure_policy, interruptible, docs)
        self._workflow_function = workflow_function
        self._compile()

    @property
    def workflow_function(self) -> Callable[..., Any]:
        """The decorated function."""
        return self._workflow_function

    def _compile(self) -> None:
        inputs = {name: Promise(None, name, python_type) for name, python_type in self._interface.inputs.items()}
        self._nodes, self._output_bindings = compile_body(self._name, self._interface, self._workflow_function, inputs)


def compile_body(
    name: str, interface: Interface, body: Callable[..., Any], inputs: dict[str, Any]
) -> tuple[list[Node], dict[str, Any]]:
    """Run ``body(**inputs)`` as a workflow body called ``name``; return its nodes and output bindings.

    ``inputs`` are promises of the workflow's inputs when a ``@workflow`` is declared, or real
    values when a graph is made at run time (a dynamic workflow: they become constants). What the
    body returns must match ``interface``'s outputs. Errors name the workflow.
    """
    entity = f"workflow {name!r}"
    with compiling(name) as state:
        try:
            returned = body(**inputs)
        except Exception as error:
            error.add_note(f"while compiling {entity}")
            raise
    if state.unfinished_conditionals:
        raise ValidationError(
            f"{entity}: conditional {state.unfinished_conditionals[0]!r} is not finished: end it with "
            ".else_().then(...) or .else_().fail(...)"
        )
    output_bindings = _output_bindings(entity, interface, returned)
    counts = collections.Counter(node.id for node in state.nodes)
    duplicated = sorted(node_id for node_id, count in counts.items() if count > 1)
    if duplicated:
        raise ValidationError(f"{entity}: node names must be unique, {duplicated} is used more than once")
    validate_acyclic(name, state.nodes)
    return state.nodes, output_bindings


class CompiledWorkflow(WorkflowBase):
    """A workflow made of nodes compiled elsewhere (the graph a dynamic workflow makes at run time)."""

    def __init__(
        self,
        name: str,
        interface: Interface,
        nodes: list[Node],
        output_bindings: dict[str, Any],
        failure_policy: WorkflowFailurePolicy | None = None,
    ) -> None:
        super().__init__(name, interface, failure_policy)
        self._nodes = list(nodes)
        self._output_bindings = dict(output_bindings)


def _output_bindings(entity: str, interface: Interface, returned: Any) -> dict[str, Any]:
    if isinstance(returned, VoidPromise) and not interface.outputs:
        return {}
    try:
        values = interface.outputs_by_name(returned)
    except ValueError as error:
        raise TypeTransformerFailedError(f"{entity}: {error}") from None
    for name, value in values.items():
        check_binding(entity, "output", name, interface.outputs[name], value)
    return values


class ImperativeWorkflow(WorkflowBase):
    """A workflow built step by step instead of from a function (flytekit's ``Workflow``)::

        wb = Workflow(name="my.pipeline")
        rows = wb.add_workflow_input("rows", list[int])
        node = wb.add_entity(clean, rows=rows)
        wb.add_workflow_output("cleaned", node.outputs["o0"])

    Every step is checked as in a ``@workflow`` body.
    """

    def __init__(
        self, name: str, failure_policy: WorkflowFailurePolicy | None = None, interruptible: bool = False
    ) -> None:
        super().__init__(name, Interface(), failure_policy, interruptible)
        from taskloom.core.compiler import CompilationState

        self._state = CompilationState(name)
        self._nodes = self._state.nodes
        self._inputs: dict[str, tuple[Any, Any]] = {}
        self._outputs: dict[str, Any] = {}

    @property
    def inputs(self) -> dict[str, Promise]:
        """Promises of the workflow's inputs by name."""
        return {name: Promise(None, name, spec[0]) for name, spec in self._inputs.items()}

    def add_workflow_input(self, input_name: str, python_type: Any, default: Any = NO_DEFAULT) -> Promise:
        """Declare an input (with an optional default); return its promise."""
        if input_name in self._inputs:
            raise ValidationError(f"workflow {self._name!r}: input {input_name!r} is already declared")
        self._inputs[input_name] = (python_type, default)
        self._rebuild_interface()
        return Promise(None, input_name, python_type)

    def add_entity(self, entity: Any, **kwargs: Any) -> Node:
        """Add a node calling ``entity`` (a task, workflow or launch plan) with ``kwargs``; return the node."""
        from taskloom.core.compiler import _current

        token = _current.set(self._state)
        try:
            entity(**kwargs)
        finally:
            _current.reset(token)
        return self._state.nodes[-1]

    add_task = add_entity
    add_subwf = add_entity
    add_launch_plan = add_entity

    def add_workflow_output(self, output_name: str, value: Any, python_type: Any = None) -> None:
        """Declare an output bound to ``value`` (a promise, or a constant with ``python_type``)."""
        if output_name in self._outputs:
            raise ValidationError(f"workflow {self._name!r}: output {output_name!r} is already declared")
        if python_type is None:
            if not isinstance(value, Promise):
                raise ValidationError(
                    f"workflow {self._name!r}: output {output_name!r} needs python_type for a constant"
                )
            python_type = value.python_type
        check_binding(f"workflow {self._name!r}", "output", output_name, python_type, value)
        self._outputs[output_name] = python_type
        self._output_bindings[output_name] = value
        self._rebuild_interface()

    def _rebuild_interface(self) -> None:
        interface = Interface(dict(self._inputs), dict(self._outputs))
        interface.check_types(entity=f"workflow {self._name!r}")  # every type checked now
        self._interface = interface


Workflow = ImperativeWorkflow


def workflow(
    _workflow_function: Callable[..., Any] | None = None,
    failure_policy: WorkflowFailurePolicy | None = None,
    interruptible: bool = False,
    docs: str | None = None,
) -> Any:
    """Make a workflow of a function: ``@workflow`` or ``@workflow(failure_policy=...)``.

    The body is compiled at once: every call becomes a node, every binding is type-checked, and the
    annotations are the workflow's interface (inputs with defaults; outputs single, tuple,
    NamedTuple or none).
    """

    def decorate(function: Callable[..., Any]) -> PythonFunctionWorkflow:
        return PythonFunctionWorkflow(function, failure_policy=failure_policy, interruptible=interruptible, docs=docs)

    if _workflow_function is not None:
        return decorate(_workflow_function)
    return decorate


def binding_data(value: Any, python_type: Any) -> BindingData:
    """The :class:`~taskloom.models.literals.BindingData` of a binding value declared as ``python_type``."""
    import typing

    from taskloom.core.type_engine import TypeEngine, strip_annotated
    from taskloom.models.literals import BindingData, BindingDataCollection, BindingDataMap
    from taskloom.models.types import OutputReference, PromiseAttribute

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


def node_metadata(overrides: dict[str, Any], entity: Any) -> Any:
    """The :class:`~taskloom.models.workflow.NodeMetadata` of a node: its name and settings.

    As flytekit writes them: a task's node carries the task's timeout, retries and interruptibility;
    a subworkflow's or launch plan's node the workflow's interruptibility; ``with_overrides`` wins.
    The name is the entity's last dotted component (``name=`` overrides it; ``node_name=`` names the
    node's id, not this).
    """
    from taskloom.models.literals import RetryStrategy
    from taskloom.models.workflow import NodeMetadata

    timeout, retries, interruptible = None, 0, None
    name = entity.name
    if getattr(entity, "is_launch_plan", False):
        name = entity.workflow.name
        interruptible = bool(getattr(entity.workflow, "_interruptible", False))
    elif getattr(entity, "is_workflow", False):
        interruptible = bool(getattr(entity, "_interruptible", False))
    elif getattr(entity, "metadata", None) is not None and not getattr(entity, "is_reference", False):
        metadata = entity.metadata
        timeout, retries, interruptible = metadata.timeout, metadata.retries, metadata.interruptible
    if isinstance(timeout, int):
        import datetime as dt

        timeout = dt.timedelta(seconds=timeout)
    cache = overrides.get("cache")
    cache_version = overrides.get("cache_version") or getattr(cache, "version", None)
    return NodeMetadata(
        name=overrides.get("name") or name.rsplit(".", 1)[-1],
        timeout=overrides.get("timeout", timeout),
        retries=RetryStrategy(retries=overrides.get("retries", retries)),
        interruptible=overrides.get("interruptible", interruptible),
        cacheable=None if cache is None else bool(cache),
        cache_version=cache_version,
        cache_serializable=overrides.get("cache_serialize", getattr(cache, "serialize", None)),
    )


def task_node_overrides(overrides: dict[str, Any]) -> Any:
    """The :class:`~taskloom.models.workflow.TaskNodeOverrides` of resources, image, accelerator and pod
    template overridden on a node, or None.
    """
    from taskloom.core.base_task import _pod_template_dict
    from taskloom.core.resources import convert_resources_to_resource_model, resolve_resources
    from taskloom.models.task import ExtendedResources, GPUAccelerator, K8sPod
    from taskloom.models.workflow import TaskNodeOverrides

    keys = {"resources", "requests", "limits", "container_image", "accelerator", "pod_template"}
    if not keys & set(overrides):
        return None
    spec = resolve_resources(
        overrides.get("requests"), overrides.get("limits"), overrides.get("resources"), entity="node"
    )
    accelerator = overrides.get("accelerator")
    pod_template = _pod_template_dict("node", overrides.get("pod_template"))
    return TaskNodeOverrides(
        resources=convert_resources_to_resource_model(spec.requests, spec.limits) if spec is not None else None,
        extended_resources=ExtendedResources(gpu_accelerator=GPUAccelerator(device=str(accelerator)))
        if accelerator
        else None,
        container_image=overrides.get("container_image") or "",
        pod_template=K8sPod(pod_spec=pod_template) if pod_template is not None else None,
    )


def boolean_expression(expression: Any, inputs: dict[str, Any]) -> Any:
    """The flyteidl-shaped boolean expression of a condition; promises it reads are added to ``inputs``
    (the branch node's bindings, by operand variable name).
    """
    from taskloom.core.condition import Comparison
    from taskloom.core.type_engine import TypeEngine
    from taskloom.models.literals import Binding, Scalar, Void
    from taskloom.models.workflow import (
        BooleanExpression,
        ComparisonExpression,
        ComparisonOperator,
        ConjunctionExpression,
        LogicalOperator,
        Operand,
    )

    def operand(side: Any) -> Any:
        if isinstance(side, Promise):
            path = "".join(f".{step}" for step in side.attr_path)
            node_id = "" if side.node_id == START_NODE else side.node_id
            name = f"{node_id}.{side.var}{path}"
            inputs.setdefault(name, Binding(var=name, binding=binding_data(side, side.python_type)))
            return Operand(var=name)
        if side is None:
            return Operand(scalar=Scalar(none_type=Void()))
        literal = TypeEngine.to_literal(None, side, type(side))
        if literal.scalar is not None and literal.scalar.primitive is not None:
            return Operand(primitive=literal.scalar.primitive)
        return Operand(scalar=literal.scalar)

    if isinstance(expression, Comparison):
        return BooleanExpression(
            comparison=ComparisonExpression(
                operator=ComparisonOperator[expression.operator],
                left_value=operand(expression.left),
                right_value=operand(expression.right),
            )
        )
    return BooleanExpression(
        conjunction=ConjunctionExpression(
            operator=LogicalOperator[expression.operator],
            left_expression=boolean_expression(expression.left, inputs),
            right_expression=boolean_expression(expression.right, inputs),
        )
    )


def _literal_binding(literal: Any) -> BindingData:
    from taskloom.models.literals import BindingData, BindingDataCollection, BindingDataMap

    if literal.collection is not None:
        return BindingData(
            collection=BindingDataCollection([_literal_binding(item) for item in literal.collection.literals])
        )
    if literal.map is not None:
        return BindingData(
            map=BindingDataMap({key: _literal_binding(item) for key, item in literal.map.literals.items()})
        )
    return BindingData(scalar=literal.scalar)
