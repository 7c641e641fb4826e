"""Compiling a workflow body into a graph of nodes, and checking what flows between them.

While a ``@workflow`` function runs to compile (once, when it is declared), a
:class:`CompilationState` is active: calling a task or workflow then adds a
:class:`~taskloom.core.node.Node` and returns promises of its outputs instead of running it. Every
binding is checked there and then: a constant must convert to the input's type, a promise must have a
compatible type (the same Python type, else a compatible literal type); errors name the entity and
the input.
"""

from __future__ import annotations

import contextlib
import contextvars
import typing
from collections.abc import Iterator
from typing import Any

from taskloom.core.interface import NO_DEFAULT
from taskloom.core.node import Node, promises_in
from taskloom.core.promise import Promise, VoidPromise
from taskloom.core.type_engine import TypeEngine, strip_annotated, type_name
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError

_current: contextvars.ContextVar[CompilationState | None] = contextvars.ContextVar("taskloom_compilation", default=None)


class CompilationState:
    """The nodes added so far while the workflow ``workflow_name`` is compiled."""

    def __init__(self, workflow_name: str) -> None:
        self.workflow_name = workflow_name
        self.nodes: list[Node] = []
        self._counter = 0
        self._sinks: list[list[Node]] = [self.nodes]  # where calls add nodes: a branch case while one is open
        self.unfinished_conditionals: list[str] = []  # names of conditionals not yet ended by else_

    def add(self, node: Node) -> None:
        """Record ``node`` in the workflow, or in the branch case being written."""
        self._sinks[-1].append(node)

    def open_branch_case(self) -> None:
        """Collect the calls that follow into a branch case (``conditional(...).if_``)."""
        self._sinks.append([])

    def close_branch_case(self) -> list[Node]:
        """Stop collecting into the branch case; return its nodes."""
        if len(self._sinks) == 1:
            raise ValidationError("no branch case is open")
        return self._sinks.pop()

    def next_id(self) -> str:
        """A fresh node id: ``n0``, ``n1``... (flytekit's scheme)."""
        node_id = f"n{self._counter}"
        self._counter += 1
        return node_id


def current_compilation() -> CompilationState | None:
    """The compilation in progress in this thread or task, or None when code runs for real."""
    return _current.get()


@contextlib.contextmanager
def compiling(workflow_name: str) -> Iterator[CompilationState]:
    """Make a fresh :class:`CompilationState` current for the duration of the block."""
    state = CompilationState(workflow_name)
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


def create_node(entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Add a node calling ``entity`` to the current compilation; return promises of its outputs.

    No outputs give a :class:`~taskloom.core.promise.VoidPromise`, one output a promise, several a
    tuple of promises (a named tuple when the entity declared a NamedTuple).
    """
    state = current_compilation()
    if state is None:
        raise RuntimeError("create_node needs a workflow being compiled")
    interface = entity.python_interface
    inputs = interface.inputs
    if not args and kwargs.keys() == inputs.keys():  # every input by keyword: nothing to match or fill
        bindings = dict(kwargs)
    else:
        bindings = bind_arguments(_description(entity), interface.inputs_with_defaults, args, kwargs)
    for name, value in bindings.items():
        expected = inputs[name]
        # A promise of exactly the expected type fits (its type was checked when its producer was
        # declared); anything else takes the full check, which words the error.
        if type(value) is not Promise or value.python_type != expected:
            check_binding(_description(entity), "input", name, expected, value)
    node = Node(state.next_id(), entity, bindings)
    state.add(node)
    if not interface.outputs:
        return VoidPromise(node)
    return interface.shape_outputs(node.outputs)


def bind_arguments(
    description: str, inputs: dict[str, tuple[Any, Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Match positional and keyword arguments to ``inputs`` (``name -> (type, default)``), filling defaults.

    Errors (:class:`~taskloom.exceptions.user.TypeTransformerFailedError`) name ``description`` and the input.
    """
    names = list(inputs)
    if len(args) > len(names):
        raise TypeTransformerFailedError(
            f"{description}: takes {len(names)} inputs {names}, got {len(args)} positional arguments"
        )
    bound = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in inputs:
            raise TypeTransformerFailedError(
                f"{description}: got an unexpected input {name!r}; expected one of {names}"
            )
        if name in bound:
            raise TypeTransformerFailedError(f"{description}: input {name!r} given twice")
        bound[name] = value
    for name, (python_type, default) in inputs.items():
        if name not in bound:
            if default is NO_DEFAULT:
                raise TypeTransformerFailedError(f"{description}: input {name!r} ({type_name(python_type)}) is missing")
            bound[name] = default
    return bound


def check_binding(description: str, direction: str, name: str, expected: Any, value: Any) -> None:
    """Check that ``value`` (a constant, a promise, or a list/dict holding promises) fits ``expected``."""
    if isinstance(value, VoidPromise):
        raise TypeTransformerFailedError(
            f"{description}: {direction} {name!r} expects {type_name(expected)}, got the result of a call without outputs"
        )
    if isinstance(value, Promise):
        if not types_compatible(value.python_type, expected):
            raise TypeTransformerFailedError(
                f"{description}: {direction} {name!r} expects {type_name(expected)}, "
                f"got {value!r} of type {type_name(value.python_type)}"
            )
        return
    if promises_in(value):
        target = strip_annotated(expected)
        origin, arguments = typing.get_origin(target), typing.get_args(target)
        if isinstance(value, list) and origin is list and arguments:
            for index, item in enumerate(value):
                check_binding(description, direction, f"{name}[{index}]", arguments[0], item)
            return
        if isinstance(value, dict) and origin is dict and len(arguments) == 2:
            for key, item in value.items():
                check_binding(description, direction, f"{name}[{key!r}]", arguments[1], item)
            return
        raise TypeTransformerFailedError(
            f"{description}: {direction} {name!r} expects {type_name(expected)}, got {type(value).__name__} holding promises"
        )
    # A constant the transformer's fast test accepts converts as it is: no literal needs building.
    test = TypeEngine.checker(expected)
    if test is not None and test(value):
        return
    try:
        TypeEngine.to_literal(None, value, expected)
    except TypeTransformerFailedError as error:
        raise TypeTransformerFailedError(f"{description}: {direction} {name!r} {_lowercase_expects(error)}") from error


def types_compatible(provided: Any, wanted: Any) -> bool:
    """Tell whether a promise of Python type ``provided`` can be bound where ``wanted`` is expected.

    Equal Python types are compatible (their literal types are equal), which settles nearly every
    binding without building literal types; otherwise their literal types are compared
    (:func:`literal_types_compatible`). Raises UnsupportedTypeError for a type no transformer supports.
    """
    if provided == wanted:
        TypeEngine.check_type(provided)  # the error building its literal type would raise
        return True
    return literal_types_compatible(TypeEngine.to_literal_type(provided), TypeEngine.to_literal_type(wanted))


def literal_types_compatible(provided: Any, wanted: Any) -> bool:
    """Tell whether a value of literal type ``provided`` can be bound where ``wanted`` is expected.

    Equal types are compatible (metadata and union tags aside); an integer fits a float, as in
    flytekit; a union accepts any of its variants; collections and maps compare their element types.
    """
    if provided == wanted:
        return True
    import attrs

    def bare(literal_type: Any) -> Any:
        return attrs.evolve(literal_type, metadata=None, annotation=None, structure=None)

    if bare(provided) == bare(wanted):
        return True
    if provided.simple is not None and wanted.simple is not None:
        # flytekit reads an integer literal where a float is expected (the value arrives as a float);
        # the narrowing way (float to int, which truncates) and bool to int are refused.
        return provided.simple.name == "INTEGER" and wanted.simple.name == "FLOAT"
    if wanted.union_type is not None:
        if provided.union_type is not None:
            return all(literal_types_compatible(variant, wanted) for variant in provided.union_type.variants)
        return any(literal_types_compatible(provided, variant) for variant in wanted.union_type.variants)
    if provided.collection_type is not None and wanted.collection_type is not None:
        return literal_types_compatible(provided.collection_type, wanted.collection_type)
    if provided.map_value_type is not None and wanted.map_value_type is not None:
        return literal_types_compatible(provided.map_value_type, wanted.map_value_type)
    if provided.structured_dataset_type is not None and wanted.structured_dataset_type is not None:
        return _tables_compatible(provided.structured_dataset_type, wanted.structured_dataset_type)
    return False


def _tables_compatible(provided: Any, wanted: Any) -> bool:
    # Flyte's compiler (structuredDatasetCastable): formats agree unless one is "any"; a side without columns
    # accepts any table; else every wanted column is among the provided ones, with a compatible type.
    if provided.format and wanted.format and provided.format != wanted.format:
        return False
    if not provided.columns or not wanted.columns:
        return True
    given = {column.name: column.literal_type for column in provided.columns}
    return all(
        column.name in given and literal_types_compatible(given[column.name], column.literal_type)
        for column in wanted.columns
    )


def _lowercase_expects(error: Exception) -> str:
    text = str(error)
    return "expects" + text[len("expected") :] if text.startswith("expected") else text


def _description(entity: Any) -> str:
    return f"{_kind(entity)} {entity.name!r}"


def _kind(entity: Any) -> str:
    if getattr(entity, "is_launch_plan", False):
        return "launch plan"
    if getattr(entity, "is_gate", False):
        return "gate"
    return "workflow" if getattr(entity, "is_workflow", False) else "task"


def validate_acyclic(workflow_name: str, nodes: list[Node]) -> None:
    """Raise :class:`ValidationError` naming the nodes if ``>>`` made a cycle."""
    # Data flows from earlier nodes to later ones; only ``>>`` can point backwards.
    if not any(node.has_explicit_upstream for node in nodes):
        return
    state = {node.id: 0 for node in nodes}  # 0 unseen, 1 on the stack, 2 done

    path: list[str] = []  # the nodes being visited, shared (a copy per step would be quadratic)

    def visit(node: Node) -> None:
        if state.get(node.id) == 2:
            return
        if state.get(node.id) == 1:
            cycle = path[path.index(node.id) :] + [node.id]
            raise ValidationError(f"workflow {workflow_name!r}: nodes run in a cycle: {' -> '.join(cycle)}")
        state[node.id] = 1
        path.append(node.id)
        for upstream in node.upstream_nodes:
            visit(upstream)
        path.pop()
        state[node.id] = 2

    for node in nodes:
        visit(node)
