"""Gates: workflow nodes that wait for a duration, a typed value or an approval (flytekit's names).

::

    @workflow
    def release(version: str) -> str:
        notes = draft(version=version)
        approved = approve(notes, "review", timeout=timedelta(hours=2))
        region = wait_for_input("region", timeout=timedelta(hours=1), expected_type=str)
        sleep(timedelta(minutes=5)) >> publish(notes=approved, region=region)
        ...

Each call, inside a ``@workflow`` body, adds one gate node: ``sleep`` has no outputs,
``wait_for_input`` gives one value of ``expected_type``, ``approve`` gives the value it gates once
someone approves it. In workflow templates they are flyteidl ``GateNode`` s.

Values reach a waiting gate as *signals*, named after the gate. Waiting is the executor's business:
the plugin of the executor keeps the signals sent in its process on a board of its own (taskloom-local:
``taskloom_local.gates``) and hands it to the kernel through the hook
:func:`~taskloom.hookspecs.taskloom_signal_board`. User code and the command line
(``loom run ... --signal name=value``) send through this module (:func:`send_signal`, with the
execution's id found with :func:`waiting_gates`), which asks the hook for the board of the executor
named by ``TASKLOOM_EXECUTOR``; so the kernel knows nothing of how an executor waits, and an executor
knows nothing of who sent a signal.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from taskloom.core.compiler import create_node, current_compilation
from taskloom.core.executor import executor_name
from taskloom.core.interface import Interface
from taskloom.core.promise import Promise, VoidPromise
from taskloom.core.type_engine import TypeEngine, type_name, value_description
from taskloom.exceptions.user import (
    TypeTransformerFailedError,
    UnsupportedTypeError,
    UserException,
    UserValueError,
    ValidationError,
)
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    from taskloom.core.node import Node
    from taskloom.models.types import LiteralType
    from taskloom.models.workflow import GateNode
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

#: The timeout flytekit gives a gate declared without one (a sleep gate's node metadata).
DEFAULT_TIMEOUT = dt.timedelta(hours=1)

#: The node name flytekit gives every sleep gate.
SLEEP_GATE_NAME = "sleep-gate"


class Gate:
    """A gate node's entity: what it waits for (``kind``), for how long, and its interface.

    ``kind`` is ``"sleep"`` (wait ``duration``), ``"signal"`` (wait for a value of
    ``expected_type``, :func:`wait_for_input`) or ``"approve"`` (wait for a yes or no about the
    value bound to its one input, :func:`approve`). Made by those functions, not directly.
    """

    #: Lets compilers, templates and executors tell gates from tasks without importing this module.
    is_gate = True

    def __init__(
        self,
        kind: str,
        name: str,
        interface: Interface,
        timeout: dt.timedelta,
        duration: dt.timedelta | None = None,
        expected_type: Any = None,
    ) -> None:
        self._kind = kind
        self._name = name
        self._interface = interface
        self._timeout = timeout
        self._duration = duration
        self._expected_type = expected_type

    @property
    def kind(self) -> str:
        """``"sleep"``, ``"signal"`` or ``"approve"``."""
        return self._kind

    @property
    def name(self) -> str:
        """The gate's name, which is also the id of the signal it waits for."""
        return self._name

    @property
    def timeout(self) -> dt.timedelta:
        """How long the gate waits for its signal before its node fails."""
        return self._timeout

    @property
    def duration(self) -> dt.timedelta | None:
        """How long a sleep gate sleeps (None for the others)."""
        return self._duration

    @property
    def expected_type(self) -> Any:
        """The Python type of the value a signal carries: ``expected_type`` for
        :func:`wait_for_input`, ``bool`` for :func:`approve`, None for :func:`sleep`.
        """
        return self._expected_type

    @property
    def python_interface(self) -> Interface:
        """Inputs and outputs: none for sleep, output ``o0`` for a signal, the gated value in and out for approve."""
        return self._interface

    @property
    def literal_type(self) -> LiteralType | None:
        """The literal type of a signal gate's value (None for the other kinds)."""
        if self._kind != "signal":
            return None
        return TypeEngine.to_literal_type(self._expected_type)

    def accept(self, value: Any, text: bool = False) -> Any:
        """The signal ``value`` as this gate's expected type; ``text=True`` parses it first, as
        ``loom run`` parses inputs (``true``/``yes``/``1``, ``false``/``no``/``0`` for approvals).

        Raises :class:`~taskloom.exceptions.user.TypeTransformerFailedError` naming the gate, the
        expected type and the value when it does not fit.
        """
        expected = self._expected_type
        if text:
            try:
                if self._kind == "approve" and not value.strip():
                    # An empty boolean reads as false: an answer left empty must not reject.
                    raise TypeTransformerFailedError("say yes or no")
                value = TypeEngine.from_text(value, expected)
            except (TypeTransformerFailedError, UnsupportedTypeError) as error:
                raise TypeTransformerFailedError(
                    f"gate {self._name!r}: signal {self._name!r} expects {type_name(expected)}, got {value!r}, "
                    f"which is not a valid {type_name(expected)}: {error}"
                ) from error
        if self._kind == "approve":
            if not isinstance(value, bool):
                raise TypeTransformerFailedError(
                    f"gate {self._name!r}: signal {self._name!r} expects bool (approve or reject), got {value_description(value)}"
                )
            return value
        try:
            TypeEngine.to_literal(None, value, expected)
        except TypeTransformerFailedError as error:
            raise TypeTransformerFailedError(
                f"gate {self._name!r}: signal {self._name!r} expects {type_name(expected)}, got {value_description(value)}"
            ) from error
        return value

    def to_gate_node(self) -> GateNode:
        """The flyteidl-shaped :class:`~taskloom.models.workflow.GateNode` of this gate (as flytekit writes it)."""
        from taskloom.models.workflow import ApproveCondition, GateNode, SignalCondition, SleepCondition

        if self._kind == "sleep":
            assert self._duration is not None
            return GateNode(sleep=SleepCondition(duration=self._duration))
        if self._kind == "signal":
            assert self.literal_type is not None
            output = self._interface.output_names[0]
            return GateNode(
                signal=SignalCondition(signal_id=self._name, type=self.literal_type, output_variable_name=output)
            )
        return GateNode(approve=ApproveCondition(signal_id=self._name))

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A gate node; as flytekit writes it, its metadata is named after the gate and carries the
        gate's timeout (the node's protocol, see :mod:`taskloom.translator`).
        """
        from taskloom.models.workflow import NodeMetadata  # the contracts: imported only when templates are made

        overrides = node.overrides
        metadata = NodeMetadata(
            name=overrides.get("name") or overrides.get("node_name") or self._name,
            timeout=overrides.get("timeout", self._timeout),
        )
        return translator.build_node(node, metadata, gate_node=self.to_gate_node())

    def __repr__(self) -> str:
        function = {"sleep": "sleep", "signal": "wait_for_input", "approve": "approve"}[self._kind]
        return f"{function}({self._duration!r})" if self._kind == "sleep" else f"{function}({self._name!r})"


# --- authoring -----------------------------------------------------------------------------


def sleep(duration: dt.timedelta) -> VoidPromise:
    """Add a node that waits ``duration`` (a non-negative ``timedelta``) to the workflow being compiled.

    Returns the node's handle for ``>>``: ``sleep(timedelta(minutes=5)) >> publish()``.
    """
    if not isinstance(duration, dt.timedelta) or duration < dt.timedelta(0):
        raise ValidationError(
            f"gate {SLEEP_GATE_NAME!r}: sleep's duration must be a non-negative datetime.timedelta, got {_describe(duration)}"
        )
    _require_compilation("sleep", SLEEP_GATE_NAME)
    gate = Gate("sleep", SLEEP_GATE_NAME, Interface(), DEFAULT_TIMEOUT, duration=duration)
    return _add(gate, {})


def wait_for_input(name: str, timeout: dt.timedelta, expected_type: type) -> Promise:
    """Add a node that waits for the signal ``name``, a value of ``expected_type``, to the workflow being compiled.

    Returns a promise of the value. The node fails if no signal comes within ``timeout``. Executors
    take the signal from :func:`send_signal` (``loom run ... --signal name=value``); the local
    executor also asks for it on a terminal.
    """
    _check_name("wait_for_input", name)
    _check_timeout(name, timeout)
    if expected_type is None:
        raise ValidationError(f"gate {name!r}: wait_for_input needs an expected_type, got None")
    try:
        TypeEngine.check_type(expected_type)
    except (UnsupportedTypeError, TypeError) as error:
        raise ValidationError(
            f"gate {name!r}: expected_type {type_name(expected_type)} is not supported: {error}"
        ) from error
    _require_compilation("wait_for_input", name)
    gate = Gate("signal", name, Interface(outputs={"o0": expected_type}), timeout, expected_type=expected_type)
    return _add(gate, {})


def approve(upstream_item: Any, name: str, timeout: dt.timedelta) -> Promise:
    """Add a node that waits for someone to approve ``upstream_item`` (one task output) to the workflow being compiled.

    Returns a promise of the same value, available once the signal ``name`` says yes (``True``); a
    no (``False``) fails the node with :class:`~taskloom.exceptions.user.DisapprovalError`, and so
    does silence for ``timeout`` with :class:`~taskloom.exceptions.user.UserTimeoutError`.
    """
    _check_name("approve", name)
    _check_timeout(name, timeout)
    _require_compilation("approve", name)
    if isinstance(upstream_item, VoidPromise) or upstream_item is None:
        raise ValidationError(
            f"gate {name!r}: approve needs the output of a call, got the result of a call without outputs"
        )
    if isinstance(upstream_item, tuple):
        raise ValidationError(f"gate {name!r}: approve gates one output; pick one of the {len(upstream_item)} outputs")
    if not isinstance(upstream_item, Promise):
        raise ValidationError(
            f"gate {name!r}: approve takes the output of a task or workflow call, got {_describe(upstream_item)}"
        )
    if upstream_item.node is None:  # as in flytekit: nothing would have run for anyone to look at
        raise ValidationError(
            f"gate {name!r}: approve takes the output of a call, not the workflow input {upstream_item.var!r}"
        )
    # The gate's input and output are named after the output it gates, as flytekit names them.
    variable, python_type = upstream_item.var, upstream_item.python_type
    interface = Interface(inputs={variable: python_type}, outputs={variable: python_type})
    gate = Gate("approve", name, interface, timeout, expected_type=bool)
    return _add(gate, {variable: upstream_item})


def _add(gate: Gate, kwargs: dict[str, Any]) -> Any:
    return create_node(gate, (), kwargs)


def _require_compilation(function: str, name: str) -> None:
    if current_compilation() is None:
        raise ValidationError(
            f"gate {name!r}: {function}(...) can only be used inside a @workflow (or @dynamic) body, "
            "where it adds a node; outside one there is no workflow to wait in"
        )


def _check_name(function: str, name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{function}: a gate's name must be a non-empty str, got {_describe(name)}")


def _check_timeout(name: str, timeout: Any) -> None:
    if not isinstance(timeout, dt.timedelta) or timeout <= dt.timedelta(0):
        raise ValidationError(f"gate {name!r}: timeout must be a positive datetime.timedelta, got {_describe(timeout)}")


def _describe(value: Any) -> str:
    return value_description(value)


# --- signals -------------------------------------------------------------------------------


class Signal(NamedTuple):
    """A value sent to a gate: a Python value, or (``text``) text to parse with the gate's expected type."""

    value: Any
    text: bool = False


class WaitingGate(NamedTuple):
    """A gate that an executor is waiting on now: the execution's id (its name), the gate's name
    (the signal it waits for), its kind and the type a signal must have.
    """

    execution_id: str
    name: str
    kind: str
    expected_type: Any


class GateCancelledError(UserException):
    """A gate stopped waiting because its execution is ending (another node failed)."""


class SignalBoard(Protocol):
    """Where an executor keeps the signals sent to its executions in this process, as
    :func:`~taskloom.hookspecs.taskloom_signal_board` returns it.

    The executor's gates wait on it however the executor likes (a condition, a queue, a call to its
    backend); the kernel only sends, lists and forgets. Every method is safe from any thread.
    """

    def send(self, execution_id: str | None, name: str, signal: Signal) -> None:
        """Keep ``signal`` as the signal ``name`` of the execution ``execution_id`` (its name), or
        (None) of every execution of this process, present and future; wake a gate of that name
        waiting in it. A signal for the execution wins over one for every execution.
        """

    def waiting(self) -> list[WaitingGate]:
        """The gates waiting on this board now."""

    def clear(self, execution_id: str | None) -> None:
        """Forget the signals sent to ``execution_id``, or (None) every signal sent in this process."""


def _execution_name(execution_id: Any) -> str:
    # A WorkflowExecutionIdentifier (what current_context() and the executors hold) or its name.
    return execution_id if isinstance(execution_id, str) else execution_id.name


def signal_board(executor: str | None = None) -> SignalBoard | None:
    """The signal board of the executor called ``executor`` (default: ``TASKLOOM_EXECUTOR``, else
    ``local``) from :func:`~taskloom.hookspecs.taskloom_signal_board`, or None when no plugin has one.
    """
    board: SignalBoard | None = get_plugin_manager().hook.taskloom_signal_board(executor=executor or executor_name())
    return board


def send_signal(execution_id: Any, name: str, value: Any, *, text: bool = False) -> None:
    """Send ``value`` as the signal ``name`` to the execution ``execution_id``; safe from any thread.

    ``execution_id`` is a ``WorkflowExecutionIdentifier`` or its name (see :func:`waiting_gates`),
    or None for every execution of this process, present and future (what ``loom run --signal``
    does). A gate named ``name`` takes the value when it waits, or at once if it is waiting now; as on
    Flyte, a signal is set once per execution and every gate of that name reads it. For
    :func:`approve`, send ``True`` or ``False``. With ``text=True``, ``value`` is text that the gate
    parses with its expected type, as ``loom run`` parses inputs. A value that does not fit fails
    the gate's node with an error naming the gate, the expected type and the value.

    The signal goes to the board of the executor named by ``TASKLOOM_EXECUTOR`` (``local`` when
    unset; see :func:`signal_board`); raises :class:`~taskloom.exceptions.user.UserValueError` when
    that executor takes no signals.
    """
    if not isinstance(name, str) or not name:
        raise ValidationError(f"send_signal: a signal's name must be a non-empty str, got {_describe(name)}")
    board = signal_board()
    if board is None:
        raise UserValueError(
            f"send_signal: the executor {executor_name()!r} takes no signals (no installed plugin keeps its signals)"
        )
    board.send(None if execution_id is None else _execution_name(execution_id), name, Signal(value, text))


def waiting_gates() -> list[WaitingGate]:
    """The gates the executor of this process (``TASKLOOM_EXECUTOR``) waits on now, to answer them
    with :func:`send_signal`; empty when that executor takes no signals.
    """
    board = signal_board()
    return [] if board is None else board.waiting()


def clear_signals(execution_id: Any = None) -> None:
    """Forget the signals sent to ``execution_id``, or (None) every signal sent in this process, on the
    board of the executor named by ``TASKLOOM_EXECUTOR``.
    """
    board = signal_board()
    if board is not None:
        board.clear(None if execution_id is None else _execution_name(execution_id))
