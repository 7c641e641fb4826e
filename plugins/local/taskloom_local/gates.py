"""Gate nodes on the local executor: sleep, wait for a signal, or wait for an approval.

A sleep gate sleeps its duration. A ``wait_for_input`` or ``approve`` gate waits for its signal
(:func:`taskloom.core.gate.receive_signal`), which comes from ``loom run ... --signal name=value``,
from a program calling :func:`taskloom.core.gate.send_signal`, or, when standard input is a
terminal, from the person at it: the gate asks on standard error and sends the answer as a signal
itself (asking again when the answer does not parse). Without a signal within the gate's timeout, the
node fails with :class:`~taskloom.exceptions.user.UserTimeoutError`; a rejected approval fails it
with :class:`~taskloom.exceptions.user.DisapprovalError`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from typing import Any

from taskloom.extend import (
    DisapprovalError,
    Gate,
    GateCancelledError,
    Node,
    UserException,
    UserTimeoutError,
    receive_signal,
    send_signal,
    sleep_unless_cancelled,
)

# One question on the terminal at a time: gates that wait together take turns to ask.
_terminal = threading.Lock()

#: How often a terminal prompt checks whether its gate was answered some other way (seconds).
_POLL = 0.05


def run_gate(node: Node, inputs: dict[str, Any], execution_id: Any) -> dict[str, Any]:
    """Run the gate node ``node`` of the execution ``execution_id``; return its outputs by name.

    ``inputs`` are the node's input values (an approval's gated value).
    """
    gate: Gate = node.entity
    if gate.kind == "sleep":
        assert gate.duration is not None
        if sleep_unless_cancelled(execution_id, gate.duration.total_seconds()):
            raise GateCancelledError(f"gate {gate.name!r} stopped sleeping: its execution is ending")
        return {}
    timeout = node.overrides.get("timeout", gate.timeout)
    if not isinstance(timeout, dt.timedelta):
        timeout = dt.timedelta(seconds=timeout)
    prompt = _TerminalPrompt(gate, inputs, execution_id) if _interactive() else None
    try:
        signal = receive_signal(execution_id, gate, timeout.total_seconds())
    finally:
        if prompt is not None:
            prompt.stop()
    if signal is None:
        raise UserTimeoutError(f"gate {gate.name!r} received no signal {gate.name!r} within its timeout of {timeout}")
    value = gate.accept(signal.value, text=signal.text)
    if gate.kind == "approve":
        if not value:
            raise DisapprovalError(f"gate {gate.name!r}: the approval was rejected (signal {gate.name!r} said no)")
        return dict(inputs)  # the gated value passes through
    return {gate.python_interface.output_names[0]: value}


def _interactive() -> bool:
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty() and stdin.fileno() >= 0
    except (OSError, ValueError):  # closed, or replaced by an object without a descriptor
        return False


class _TerminalPrompt:
    """Asks for a gate's signal on the terminal, on a thread of its own, until answered or stopped.

    The answer is sent with :func:`send_signal`, like any other signal, so the gate just waits for
    its signal whoever sends it. The descriptor is polled rather than read with a blocking call, so
    that a gate answered by another source stops asking at once.
    """

    def __init__(self, gate: Gate, inputs: dict[str, Any], execution_id: Any) -> None:
        self._gate = gate
        self._inputs = inputs
        self._execution_id = execution_id
        self._stopped = threading.Event()
        self._asked = False
        self._thread = threading.Thread(target=self._run, name=f"taskloom-gate-{gate.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop asking (the gate has its signal or gave up) and wait for the thread."""
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not _terminal.acquire(timeout=_POLL):
            if self._stopped.is_set():
                return
        try:
            if not self._stopped.is_set():
                self._ask_until_answered()
        finally:
            if self._asked and self._stopped.is_set():
                sys.stderr.write("\n")  # answered elsewhere: end the dangling question line
                sys.stderr.flush()
            _terminal.release()

    def _ask_until_answered(self) -> None:
        import select

        descriptor = sys.stdin.fileno()
        pending = b""
        self._ask()
        while not self._stopped.is_set():
            readable, _, _ = select.select([descriptor], [], [], _POLL)
            if not readable:
                continue
            chunk = os.read(descriptor, 4096)
            if not chunk:  # end of input: nobody will answer here
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                try:
                    value = self._gate.accept(line.decode(errors="replace").strip(), text=True)
                except UserException as error:
                    self._write(f"{error}\n")
                    self._ask()
                    continue
                self._asked = False
                send_signal(self._execution_id, self._gate.name, value)
                return

    def _ask(self) -> None:
        from taskloom.extend import type_name

        gate = self._gate
        if gate.kind == "approve":
            (value,) = self._inputs.values()
            text = repr(value)
            shown = text if len(text) <= 200 else f"{text[:197]}..."
            question = f"[gate {gate.name!r}] approve {shown}? [yes/no]: "
        else:
            question = f"[gate {gate.name!r}] enter a value of type {type_name(gate.expected_type)}: "
        self._write(question)
        self._asked = True

    @staticmethod
    def _write(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()
