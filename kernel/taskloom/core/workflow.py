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
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.core.compiler import (
    CompilationState,
    _current,
    check_binding,
    compiling,
    create_node,
    current_compilation,
    validate_acyclic,
)
from taskloom.core.executor import call_async, call_on_executor
from taskloom.core.interface import NO_DEFAULT, Interface, transform_function_to_interface
from taskloom.core.node import Node
from taskloom.core.promise import Promise, VoidPromise
from taskloom.core.tracker import module_name
from taskloom.core.type_engine import strip_annotated, type_name
from taskloom.exceptions.user import FailureNodeInputMismatchError, TypeTransformerFailedError, ValidationError

if TYPE_CHECKING:
    from taskloom.configuration import SerializationSettings
    from taskloom.models.interface import TypedInterface
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.models.workflow import WorkflowTemplate
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").


#: The id of a workflow's failure node (flytekit's and flyteidl's ``fn0``).
FAILURE_NODE_ID = "fn0"


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
        on_failure: Any = None,
    ) -> None:
        self._name = name
        self._interface = interface
        self._failure_policy = failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY
        self._interruptible = interruptible
        self._docs = docs if docs is not None else interface.docstring
        self._nodes: list[Node] = []
        self._output_bindings: dict[str, Any] = {}
        self._on_failure = on_failure
        self._failure_node: Node | None = None

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
    def on_failure(self) -> Any:
        """The task or workflow run when this workflow fails (``@workflow(on_failure=...)``), or None."""
        return self._on_failure

    @property
    def failure_node(self) -> Node | None:
        """The node that runs :attr:`on_failure` (id ``fn0``), bound to the workflow's inputs; None without one.

        It is not one of :attr:`nodes`: an executor runs it once, after the workflow failed (after
        the failing node's last retry, and after the other nodes that could still run when the
        failure policy lets them), with the workflow's inputs and, for an input ``err``, a
        :class:`~taskloom.types.error.FlyteError` naming the failed node; the workflow then fails
        with its original error.
        """
        return self._failure_node

    def _add_failure_node(self) -> None:
        if self._on_failure is not None:
            self._failure_node = failure_node(self._name, self._interface, self._on_failure)

    @property
    def interruptible(self) -> bool:
        """Whether its nodes may run on interruptible machines unless they say otherwise (flytekit keeps
        it in ``workflow_metadata_defaults``)."""
        return self._interruptible

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

        return call_on_executor(self, f"workflow {self._name!r}", args, kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Call the workflow from async code: ``await wf.aio(x=1)`` gives what ``wf(x=1)`` gives
        (handed to the executor inside an eager workflow, else run in a worker thread).
        """
        return await call_async(self, args, kwargs)

    # --- serialisation ---------------------------------------------------------------------

    def to_workflow_template(self, settings: SerializationSettings) -> WorkflowTemplate:
        """The workflow's :class:`~taskloom.models.workflow.WorkflowTemplate` under ``settings``.

        Task nodes refer to their tasks, subworkflow nodes to their workflows, by identifier with the
        settings' project, domain and version. Made by :func:`taskloom.translator.workflow_template`.
        """
        from taskloom.translator import workflow_template  # the contracts: imported only when templates are made

        return workflow_template(self, settings)

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A subworkflow node pointing at this workflow's template, with the workflow's
        interruptibility (the node's protocol, see :mod:`taskloom.translator`).
        """
        from taskloom.models.workflow import WorkflowNode  # the contracts: imported only when templates are made

        metadata = translator.node_metadata(node, self._name, interruptible=self._interruptible)
        return translator.build_node(
            node, metadata, workflow_node=WorkflowNode(sub_workflow_ref=translator.refer(self))
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
        on_failure: Any = None,
    ) -> None:
        name = f"{module_name(workflow_function)}.{workflow_function.__name__}"
        interface = transform_function_to_interface(workflow_function)
        super().__init__(name, interface, failure_policy, interruptible, docs, on_failure)
        self._workflow_function = workflow_function
        self._compile()
        self._add_failure_node()

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


def failure_node(workflow_name: str, interface: Interface, handler: Any) -> Node:
    """The failure node (id ``fn0``) of workflow ``workflow_name``: a call of ``handler`` (a task
    or a workflow) with the workflow's inputs.

    flytekit's rule: ``handler`` takes every input of the workflow, with the same type, and may take
    more only if they are ``Optional`` (``err: Optional[FlyteError] = None`` receives the error; the
    others get their default, or None). Anything else is a
    :class:`~taskloom.exceptions.user.FailureNodeInputMismatchError` (a ``ValidationError``) naming the
    workflow, the handler and the input.
    """
    entity = f"workflow {workflow_name!r}"
    handler_name = getattr(handler, "name", None)
    handler_interface = getattr(handler, "python_interface", None)
    if handler_interface is None or handler_name is None or getattr(handler, "is_launch_plan", False):
        raise ValidationError(
            f"{entity}: on_failure must be a task or a workflow, got {type(handler).__name__} {handler!r}"
        )
    described = f"{entity}: on_failure {handler_name!r}"
    handler_inputs = handler_interface.inputs_with_defaults
    bindings: dict[str, Any] = {}
    for name, (python_type, default) in handler_inputs.items():
        expected = interface.inputs.get(name)
        if expected is not None:
            if python_type != expected:
                raise FailureNodeInputMismatchError(
                    f"{described}: input {name!r} must have the workflow's type {type_name(expected)}, "
                    f"got {type_name(python_type)}"
                )
            bindings[name] = Promise(None, name, expected)
        elif not is_optional_type(python_type):
            raise FailureNodeInputMismatchError(
                f"{described}: input {name!r} ({type_name(python_type)}) is not an input of the workflow, "
                f"so it must be Optional (the workflow's inputs are {sorted(interface.inputs)}; "
                "err: Optional[FlyteError] = None receives the error)"
            )
        else:
            bindings[name] = None if default is NO_DEFAULT else default
    missing = [name for name in interface.inputs if name not in handler_inputs]
    if missing:
        raise FailureNodeInputMismatchError(
            f"{described}: must take every input of the workflow, with the same type; it lacks "
            + ", ".join(f"{name!r} ({type_name(interface.inputs[name])})" for name in missing)
        )
    return Node(FAILURE_NODE_ID, handler, bindings)


def is_optional_type(python_type: Any) -> bool:
    """Whether ``python_type`` is ``Optional[T]`` (a union with None), ``Annotated`` or not (flytekit's name)."""
    python_type = strip_annotated(python_type)
    origin = typing.get_origin(python_type)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(python_type)


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
        token = _current.set(self._state)
        try:
            entity(**kwargs)
        finally:
            _current.reset(token)
        return self._state.nodes[-1]

    add_task = add_entity
    add_subwf = add_entity
    add_launch_plan = add_entity

    def add_on_failure_handler(self, entity: Any) -> Node:
        """Run ``entity`` (a task or a workflow) when this workflow fails, as ``@workflow(on_failure=...)``
        does; declare the workflow's inputs first (the handler takes all of them). Returns the failure node.
        """
        self._on_failure = entity
        self._add_failure_node()
        assert self._failure_node is not None  # made from the handler just set
        return self._failure_node

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
    on_failure: Any = None,
    docs: str | None = None,
) -> Any:
    """Make a workflow of a function: ``@workflow`` or ``@workflow(failure_policy=...)``.

    The body is compiled at once: every call becomes a node, every binding is type-checked, and the
    annotations are the workflow's interface (inputs with defaults; outputs single, tuple,
    NamedTuple or none). ``on_failure`` is a task or workflow run once when the workflow fails,
    with the workflow's inputs and an optional ``err: Optional[FlyteError]`` (see
    :attr:`WorkflowBase.failure_node`); its interface is checked here.
    """

    def decorate(function: Callable[..., Any]) -> PythonFunctionWorkflow:
        return PythonFunctionWorkflow(
            function, failure_policy=failure_policy, interruptible=interruptible, docs=docs, on_failure=on_failure
        )

    if _workflow_function is not None:
        return decorate(_workflow_function)
    return decorate
