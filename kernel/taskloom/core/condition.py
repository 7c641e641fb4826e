"""Run-time branches in workflows: ``conditional(name).if_(...).then(...)`` (flytekit's API).

::

    result = (
        conditional("size")
        .if_((x >= 0) & (x < 10)).then(small(n=x))
        .elif_(x.is_none()).then(nothing())
        .else_().fail("x must be below 10")
    )

Conditions compare promises (workflow inputs, task outputs, their fields) with each other or with
constants (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``), combine with ``&`` and ``|``, and test with
``is_true()``, ``is_false()``, ``is_none()``. Each case runs exactly one task or workflow call; the
first case whose condition holds runs, else the ``else_`` case, which may ``fail(message)`` instead.
The result is a promise (or a tuple of promises) of the chosen case's outputs. In flyteidl terms the
whole conditional is one branch node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.core.compiler import current_compilation, types_compatible
from taskloom.core.node import Node, promises_in
from taskloom.core.promise import (  # noqa: F401 (Comparison, Conjunction, Expression: their old home, kept)
    COMPARISONS,
    START_NODE,
    Comparison,
    Conjunction,
    Expression,
    Promise,
    VoidPromise,
    as_expression,
)
from taskloom.core.type_engine import TypeEngine, type_name
from taskloom.exceptions.user import TypeTransformerFailedError, UserException, ValidationError

if TYPE_CHECKING:
    from taskloom.core.node import Node
    from taskloom.models.literals import Binding
    from taskloom.models.workflow import BooleanExpression, Operand
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").


class ConditionFailedError(UserException, ValueError):
    """A conditional reached its ``else_().fail(message)`` case: the workflow fails with ``message``.

    A ``ValueError``, as the error flytekit raises, so that ``except ValueError:`` code ports.
    """


class Case:
    """One case of a conditional: its condition (None for ``else_``), its node, its outputs or failure."""

    def __init__(self, condition: Expression | None) -> None:
        self.condition = condition
        self.node: Any = None
        self.outputs: tuple[Promise, ...] = ()
        self.error: str | None = None


class BranchSpec:
    """What a branch node runs: its cases in order, and the names and types of its outputs."""

    is_branch = True

    def __init__(self, name: str, cases: list[Case], outputs: dict[str, Any]) -> None:
        self.name = name
        self.cases = cases
        self.outputs = outputs

    @property
    def output_names(self) -> list[str]:
        """The outputs of the branch node (those of the cases, by position)."""
        return list(self.outputs)

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A branch node: an if/elif/else block over the cases' nodes, or failing with the ``else_``
        case's message (the node's protocol, see :mod:`taskloom.translator`).

        Its inputs are the promises its conditions read; it waits for their producers and for
        ``>>``. The nodes inside bind their own inputs, from which Flyte's compiler adds the rest
        (as for flytekit's branches).
        """
        # The contracts: imported only when templates are made.
        from taskloom.models.types import Error
        from taskloom.models.workflow import BranchNode, IfBlock, IfElseBlock, NodeMetadata
        from taskloom.models.workflow import Node as NodeModel

        inputs: dict[str, Binding] = {}
        blocks = [
            IfBlock(
                condition=_boolean_expression(case.condition, inputs, translator), then_node=translator.node(case.node)
            )
            for case in self.cases
            if case.condition is not None
        ]
        otherwise = next((case for case in self.cases if case.condition is None), None)
        if_else = IfElseBlock(
            case=blocks[0],
            other=tuple(blocks[1:]),
            else_node=translator.node(otherwise.node) if otherwise is not None and otherwise.node is not None else None,
            error=Error(failed_node_id=self.name, message=otherwise.error)
            if otherwise is not None and otherwise.error is not None
            else None,
        )
        condition_nodes = [
            binding.binding.promise.node_id for binding in inputs.values() if binding.binding.promise is not None
        ]
        explicit = [upstream_node.id for upstream_node in node.explicit_upstream_nodes]
        return NodeModel(
            id=node.id,
            metadata=NodeMetadata(name=self.name),
            inputs=tuple(inputs.values()),
            upstream_node_ids=tuple(dict.fromkeys(name for name in condition_nodes + explicit if name)),
            branch_node=BranchNode(if_else=if_else),
        )

    def __repr__(self) -> str:
        return f"conditional({self.name!r})"


def _boolean_expression(
    expression: Expression, inputs: dict[str, Binding], translator: Translator
) -> BooleanExpression:
    """The flyteidl-shaped boolean expression of a condition; promises it reads are added to ``inputs``
    (the branch node's bindings, by operand variable name).
    """
    # The contracts: imported only when templates are made.
    from taskloom.models.workflow import (
        BooleanExpression,
        ComparisonExpression,
        ComparisonOperator,
        ConjunctionExpression,
        LogicalOperator,
    )

    if isinstance(expression, Comparison):
        return BooleanExpression(
            comparison=ComparisonExpression(
                operator=ComparisonOperator[expression.operator],
                left_value=_operand(expression.left, inputs, translator),
                right_value=_operand(expression.right, inputs, translator),
            )
        )
    assert isinstance(expression, Conjunction)
    return BooleanExpression(
        conjunction=ConjunctionExpression(
            operator=LogicalOperator[expression.operator],
            left_expression=_boolean_expression(expression.left, inputs, translator),
            right_expression=_boolean_expression(expression.right, inputs, translator),
        )
    )


def _operand(side: Any, inputs: dict[str, Binding], translator: Translator) -> Operand:
    """One side of a comparison: a promise becomes an input of the branch node named after what it
    reads (``n1.o0``, ``.x`` for a workflow input); a constant stays a constant.
    """
    # The type engine and the contracts: imported only when templates are made.
    from taskloom.models.literals import Scalar, Void
    from taskloom.models.workflow import Operand

    if isinstance(side, Promise):
        path = "".join(f".{step}" for step in side.attr_path)
        node_id = "" if side.node_id == START_NODE else side.node_id
        name = f"{node_id}.{side.var}{path}"
        if name not in inputs:
            inputs[name] = translator.binding(name, side, side.python_type)
        return Operand(var=name)
    if side is None:
        return Operand(scalar=Scalar(none_type=Void()))
    literal = TypeEngine.to_literal(None, side, type(side))
    if literal.scalar is not None and literal.scalar.primitive is not None:
        return Operand(primitive=literal.scalar.primitive)
    return Operand(scalar=literal.scalar)


class ConditionalSection:
    """The builder ``conditional(name)`` returns; see the module docs."""

    def __init__(self, name: str) -> None:
        state = current_compilation()
        if state is None:
            raise ValidationError(f"conditional({name!r}) can only be used inside a @workflow")
        self._name = name
        self._state = state
        self._cases: list[Case] = []
        self._open: Case | None = None
        state.unfinished_conditionals.append(name)

    def if_(self, condition: Any) -> ConditionalSection:
        """Open the first case."""
        if self._cases or self._open is not None:
            raise ValidationError(f"conditional {self._name!r}: if_ comes first, once; use elif_")
        return self._start(as_expression(condition))

    def elif_(self, condition: Any) -> ConditionalSection:
        """Open another case, tried when the ones before do not hold."""
        if not self._cases:
            raise ValidationError(f"conditional {self._name!r}: elif_ needs an if_ before it")
        return self._start(as_expression(condition))

    def else_(self) -> ConditionalSection:
        """Open the case run when no condition holds (end it with ``then`` or ``fail``)."""
        if not self._cases:
            raise ValidationError(f"conditional {self._name!r}: else_ needs an if_ before it")
        return self._start(None)

    def _start(self, condition: Expression | None) -> ConditionalSection:
        if self._open is not None:
            raise ValidationError(f"conditional {self._name!r}: the case before has no then(...)")
        self._open = Case(condition)
        self._state.open_branch_case()
        return self

    def then(self, result: Any) -> Any:
        """Close the open case with the call it runs; after ``else_``, return the conditional's outputs."""
        case = self._close()
        nodes = self._state.close_branch_case()
        if len(nodes) != 1:
            raise ValidationError(
                f"conditional {self._name!r}: a case runs exactly one task or workflow call, this one makes "
                f"{len(nodes)}; put several calls in a @workflow and call that"
            )
        case.node = nodes[0]
        if isinstance(result, VoidPromise):
            case.outputs = ()
        elif isinstance(result, Promise):
            case.outputs = (result,)
        elif isinstance(result, tuple) and all(isinstance(item, Promise) for item in result):
            case.outputs = tuple(result)
        else:
            raise ValidationError(
                f"conditional {self._name!r}: then(...) takes the result of a task or workflow call, got {result!r}"
            )
        if any(promise.node is not case.node for promise in case.outputs):
            raise ValidationError(f"conditional {self._name!r}: then(...) must return the outputs of the call it makes")
        self._cases.append(case)
        if case.condition is None:
            return self._finish()
        return self

    def fail(self, message: str) -> Any:
        """Close the ``else_`` case by failing the workflow with ``message`` (a :class:`ConditionFailedError`,
        which is a ``ValueError`` as flytekit's is)."""
        case = self._close()
        if case.condition is not None:
            raise ValidationError(f"conditional {self._name!r}: only the else_ case can fail")
        nodes = self._state.close_branch_case()
        if nodes:
            raise ValidationError(f"conditional {self._name!r}: a failing case runs no call")
        case.error = message
        self._cases.append(case)
        return self._finish()

    def _close(self) -> Case:
        if self._open is None:
            raise ValidationError(f"conditional {self._name!r}: then/fail needs an open if_/elif_/else_ case")
        case, self._open = self._open, None
        return case

    def _finish(self) -> Any:
        self._state.unfinished_conditionals.remove(self._name)
        return _add_branch_node(self._name, self._cases)


def conditional(name: str) -> ConditionalSection:
    """Start a run-time branch named ``name`` inside a workflow (see the module docs)."""
    return ConditionalSection(name)


def _add_branch_node(name: str, cases: list[Any]) -> Any:
    """Add the branch node of ``conditional(name)`` with its ``cases``; return promises of its outputs.

    Every case that runs a call must give as many outputs as the others, of compatible types.
    """
    state = current_compilation()
    assert state is not None
    running = [case for case in cases if case.node is not None]
    shapes = {len(case.outputs) for case in running}
    if len(shapes) > 1:
        raise ValidationError(f"conditional {name!r}: its cases give different numbers of outputs {sorted(shapes)}")
    first = running[0] if running else None
    outputs = {promise.var: promise.python_type for promise in first.outputs} if first else {}
    for case in running[1:]:
        for (output, expected), promise in zip(outputs.items(), case.outputs):
            if not types_compatible(promise.python_type, expected):
                raise TypeTransformerFailedError(
                    f"conditional {name!r}: output {output!r} is {type_name(expected)} in the first case, "
                    f"{type_name(promise.python_type)} in another"
                )
    branch = Node(state.next_id(), BranchSpec(name, cases, outputs), {})
    inside = {id(case.node) for case in running}
    for case in cases:
        promises = list(case.condition.promises()) if case.condition is not None else []
        if case.node is not None:
            promises += [promise for value in case.node.bindings.values() for promise in promises_in(value)]
            for upstream in case.node.upstream_nodes:
                if id(upstream) not in inside:
                    branch.waits_for_inner(upstream)
        for promise in promises:
            if promise.node is not None and id(promise.node) not in inside:
                branch.waits_for_inner(promise.node)
    state.add(branch)
    if not outputs:
        return VoidPromise(branch)
    promises_out = [Promise(branch, output, python_type) for output, python_type in outputs.items()]
    return promises_out[0] if len(promises_out) == 1 else tuple(promises_out)
