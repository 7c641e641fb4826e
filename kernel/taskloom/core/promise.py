"""Promises: the not-yet-computed outputs that flow between nodes while a workflow is compiled.

Inside a ``@workflow`` body, calling a task returns :class:`Promise` objects instead of values. A
promise names the node and the output it stands for, and a path into that output: attribute access
(``result.rows`` on a dataclass or NamedTuple) and item access (``result["key"]``, ``result[0]``) give
new promises whose type is the field's, key's or item's type. A promise cannot be used as a bool
(there is no value yet): use ``conditional`` for run-time decisions.
"""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.core.type_engine import strip_annotated, type_name
from taskloom.exceptions.user import PromiseAttributeResolveError, UserTypeError, ValidationError

if TYPE_CHECKING:
    from taskloom.core.node import Node

#: The node id of a workflow's own inputs (flyteidl's convention).
START_NODE = "start-node"


class Promise:
    """The output ``var`` of ``node`` (None: a workflow input), optionally a path into it.

    ``python_type`` is the type of the value the promise will hold (after ``attr_path``).
    """

    __slots__ = ("_attr_path", "_node", "_python_type", "_var")

    def __init__(self, node: Node | None, var: str, python_type: Any, attr_path: tuple[str | int, ...] = ()) -> None:
        self._node = node
        self._var = var
        self._python_type = python_type
        self._attr_path = attr_path

    @property
    def node(self) -> Node | None:
        """The node that produces the value, or None for a workflow input."""
        return self._node

    @property
    def node_id(self) -> str:
        """The producing node's id (``"start-node"`` for a workflow input)."""
        return self._node.id if self._node is not None else START_NODE

    @property
    def var(self) -> str:
        """The output (or workflow input) name."""
        return self._var

    @property
    def python_type(self) -> Any:
        """The Python type of the promised value."""
        return self._python_type

    @property
    def attr_path(self) -> tuple[str | int, ...]:
        """Attribute names and keys/indexes applied to the output, in order."""
        return self._attr_path

    # --- paths into the value --------------------------------------------------------------

    def __getattr__(self, name: str) -> Promise:
        if name.startswith("__"):  # copy, pickle and friends probe dunders: never a field
            raise AttributeError(name)
        return Promise(self._node, self._var, _field_type(self, name), (*self._attr_path, name))

    def __getitem__(self, key: str | int) -> Promise:
        return Promise(self._node, self._var, _item_type(self, key), (*self._attr_path, key))

    # --- conditions (used inside conditional(...).if_) -------------------------------------

    def __eq__(self, other: object) -> Any:
        return _comparison("EQ", self, other)

    def __ne__(self, other: object) -> Any:
        return _comparison("NEQ", self, other)

    def __gt__(self, other: Any) -> Any:
        return _comparison("GT", self, other)

    def __ge__(self, other: Any) -> Any:
        return _comparison("GTE", self, other)

    def __lt__(self, other: Any) -> Any:
        return _comparison("LT", self, other)

    def __le__(self, other: Any) -> Any:
        return _comparison("LTE", self, other)

    __hash__ = object.__hash__  # comparisons build conditions, so identity is what hashing uses

    def is_true(self) -> Any:
        """The condition "this output is True"."""
        return _comparison("EQ", self, True)

    def is_false(self) -> Any:
        """The condition "this output is False"."""
        return _comparison("EQ", self, False)

    def is_none(self) -> Any:
        """The condition "this output is None"."""
        return _comparison("EQ", self, None)

    # --- ordering and overrides ------------------------------------------------------------

    def __rshift__(self, other: Any) -> Any:
        """``a >> b``: the node of ``a`` runs before the node of ``b``."""
        return _require_node(self, ">>") >> other

    def with_overrides(self, **overrides: Any) -> Promise:
        """Override settings of the node producing this promise (see :meth:`Node.with_overrides`)."""
        _require_node(self, "with_overrides").with_overrides(**overrides)
        return self

    def __bool__(self) -> bool:
        raise UserTypeError(
            f"the output {self._describe()} has no value while the workflow is compiled, so it cannot be "
            "used as a bool (if/and/or/not); use taskloom.conditional(...) to branch at run time"
        )

    def __iter__(self) -> typing.Iterator[Any]:
        raise UserTypeError(
            f"the output {self._describe()} has no value while the workflow is compiled, so it cannot be "
            "iterated; map over it with a task, or use @dynamic"
        )

    def _describe(self) -> str:
        path = "".join(f"[{step!r}]" if isinstance(step, int) else f".{step}" for step in self._attr_path)
        return f"'{self._var}{path}' of {self.node_id}"

    def __repr__(self) -> str:
        return f"Promise({self._describe()})"


class VoidPromise:
    """What calling an entity without outputs returns inside a workflow: its node, for ``>>``."""

    __slots__ = ("_node",)

    def __init__(self, node: Node) -> None:
        self._node = node

    @property
    def node(self) -> Node:
        """The node of the call."""
        return self._node

    def __rshift__(self, other: Any) -> Any:
        """``a >> b``: the node of ``a`` runs before the node of ``b``."""
        return self._node >> other

    def with_overrides(self, **overrides: Any) -> VoidPromise:
        """Override settings of the node (see :meth:`Node.with_overrides`)."""
        self._node.with_overrides(**overrides)
        return self

    def __repr__(self) -> str:
        return f"VoidPromise({self._node.id})"


def _comparison(operator_name: str, left: Any, right: Any) -> Any:
    return Comparison(operator_name, left, right)


def _require_node(promise: Promise, operation: str) -> Node:
    if promise.node is None:
        raise ValidationError(f"{operation} needs a task's output, but {promise!r} is a workflow input")
    return promise.node


def _field_type(promise: Promise, name: str) -> Any:
    owner = strip_annotated(promise.python_type)
    if isinstance(owner, type):
        try:
            hints = typing.get_type_hints(owner)
        except Exception:  # an owner whose annotations do not resolve has no usable fields
            hints = {}
        is_record = dataclasses.is_dataclass(owner) or hasattr(owner, "__attrs_attrs__") or hasattr(owner, "_fields")
        if is_record and name in hints:
            return hints[name]
    raise PromiseAttributeResolveError(
        f"the output {promise._describe()} of type {type_name(owner)} has no field {name!r}"
    )


def _item_type(promise: Promise, key: str | int) -> Any:
    owner = strip_annotated(promise.python_type)
    origin = typing.get_origin(owner)
    arguments = typing.get_args(owner)
    if origin is list and arguments and isinstance(key, int):
        return arguments[0]
    if origin is dict and len(arguments) == 2 and isinstance(key, str) and arguments[0] is str:
        return arguments[1]
    if origin is tuple and arguments and isinstance(key, int):
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return arguments[0]
        if -len(arguments) <= key < len(arguments):
            return arguments[key]
    raise PromiseAttributeResolveError(
        f"the output {promise._describe()} of type {type_name(owner)} cannot be indexed with {key!r}"
    )


# --- conditions over promises (kept beside promises, as flytekit does: comparing promises makes them) ---

#: Comparison operators: name (flyteidl's) -> Python function.
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": operator.eq,
    "NEQ": operator.ne,
    "GT": operator.gt,
    "GTE": operator.ge,
    "LT": operator.lt,
    "LTE": operator.le,
}


class Expression:
    """A boolean expression over promises and constants, evaluated when the branch runs."""

    def __and__(self, other: Expression) -> Conjunction:
        return Conjunction("AND", self, as_expression(other))

    def __or__(self, other: Expression) -> Conjunction:
        return Conjunction("OR", self, as_expression(other))

    def __bool__(self) -> bool:
        raise UserTypeError(
            f"the condition {self!r} has no value while the workflow is compiled; combine conditions with "
            "& and | (not `and`/`or`/`not`), inside conditional(...).if_(...)"
        )

    def promises(self) -> list[Promise]:
        """Every promise the expression reads."""
        raise NotImplementedError

    def evaluate(self, resolve: Callable[[Any], Any]) -> bool:
        """The expression's truth, with ``resolve`` giving the value of each promise."""
        raise NotImplementedError


class Comparison(Expression):
    """``left OPERATOR right``: ``operator`` is one of :data:`COMPARISONS`' names."""

    def __init__(self, operator_name: str, left: Any, right: Any) -> None:
        if isinstance(left, (VoidPromise, Expression)) or isinstance(right, (VoidPromise, Expression)):
            raise ValidationError(f"cannot compare {left!r} with {right!r}: compare task outputs or constants")
        self.operator = operator_name
        self.left = left
        self.right = right

    def promises(self) -> list[Promise]:
        return [side for side in (self.left, self.right) if isinstance(side, Promise)]

    def evaluate(self, resolve: Callable[[Any], Any]) -> bool:
        return bool(COMPARISONS[self.operator](resolve(self.left), resolve(self.right)))

    def __repr__(self) -> str:
        return f"({self.left!r} {self.operator} {self.right!r})"


class Conjunction(Expression):
    """``left AND|OR right``."""

    def __init__(self, operator_name: str, left: Expression, right: Expression) -> None:
        self.operator = operator_name
        self.left = left
        self.right = right

    def promises(self) -> list[Promise]:
        return self.left.promises() + self.right.promises()

    def evaluate(self, resolve: Callable[[Any], Any]) -> bool:
        if self.operator == "AND":
            return self.left.evaluate(resolve) and self.right.evaluate(resolve)
        return self.left.evaluate(resolve) or self.right.evaluate(resolve)

    def __repr__(self) -> str:
        return f"({self.left!r} {self.operator} {self.right!r})"


def as_expression(value: Any) -> Expression:
    """``value`` as a condition: an expression as it is; anything else is refused when the workflow is declared.

    A bare output (``if_(flag)``) is refused as flytekit refuses it (an AssertionError naming the unary form):
    read as ``flag == True`` it would quietly take the else branch for an int output of 3.
    """
    if isinstance(value, Expression):
        return value
    if isinstance(value, Promise):
        raise ValidationError(
            f"a condition cannot be a bare output (the unary form if_(x)), got {value!r}: compare it "
            "(x == 3, x > 0) or use x.is_true(), x.is_false() or x.is_none(), as in flytekit"
        )
    raise ValidationError(f"a condition must compare outputs (or use is_true()/is_false()/is_none()), got {value!r}")
