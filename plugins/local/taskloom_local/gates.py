"""Gate nodes on the local executor: sleep, wait for a signal, or wait for an approval; and the board
that keeps the signals.

A sleep gate sleeps its duration. A ``wait_for_input`` or ``approve`` gate waits for its signal on
this module's :data:`BOARD`, the local executor's answer to the hook
:func:`~taskloom.hookspecs.taskloom_signal_board`. Signals come from ``loom run ... --signal
name=value``, from a program calling :func:`taskloom.core.gate.send_signal` (both reach the board
through the hook), or, when standard input is a terminal, from the person at it: the gate asks on
standard error and puts the answer on the board itself (asking again when the answer does not
parse). Without a signal within the gate's timeout, the node fails with
:class:`~taskloom.exceptions.user.UserTimeoutError`; a rejected approval fails it with
:class:`~taskloom.exceptions.user.DisapprovalError`.

The board is per process: a task body run in a worker process (``processes=N``) that sends a signal
reaches that worker's board, not the scheduler's.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import sys
import threading
import time
from typing import Any

from taskloom.extend import (
    DisapprovalError,
    Gate,
    GateCancelledError,
    Node,
    Signal,
    UserException,
    UserTimeoutError,
    WaitingGate,
    type_name,
)


class SignalBoard:
    """The signals sent in this process and the gates waiting for them, for every local execution
    (a :class:`taskloom.core.gate.SignalBoard`).

    One lock and condition for every execution: signals are rare and tiny, and one condition lets a
    waiting gate wake for a signal sent to its execution or to every execution.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._signals: dict[tuple[str | None, str], Signal] = {}
        self._waiting: list[WaitingGate] = []
        self._cancelled: set[str] = set()

    def send(self, execution_id: str | None, name: str, signal: Signal) -> None:
        """Keep ``signal`` for the execution (None: every execution) and wake the gates waiting."""
        with self._condition:
            self._signals[(execution_id, name)] = signal
            self._condition.notify_all()

    def receive(self, execution_id: str, gate: Gate, timeout: float | None) -> Signal | None:
        """Wait up to ``timeout`` seconds (None: forever) for the signal of ``gate`` in the execution
        ``execution_id``; return it, or None when the time is up. Raises :class:`GateCancelledError`
        once :meth:`cancel` is called for the execution.

        While it waits, the gate is listed by :meth:`waiting`. A signal sent to the execution wins
        over one sent to every execution. Check the value with :meth:`Gate.accept`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting = WaitingGate(execution_id, gate.name, gate.kind, gate.expected_type)
        with self._condition:
            self._waiting.append(waiting)
            try:
                while True:
                    if execution_id in self._cancelled:
                        raise GateCancelledError(
                            f"gate {gate.name!r} stopped waiting: its execution {execution_id} is ending"
                        )
                    signal = self._signals.get((execution_id, gate.name)) or self._signals.get((None, gate.name))
                    if signal is not None:
                        return signal
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return None
                    self._condition.wait(remaining)
            finally:
                self._waiting.remove(waiting)

    def sleep(self, execution_id: str, seconds: float) -> bool:
        """Wait ``seconds`` (a ``sleep`` gate) unless the execution is cancelled first; tell whether it was."""
        deadline = time.monotonic() + seconds
        with self._condition:
            while execution_id not in self._cancelled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def cancel(self, execution_id: str) -> None:
        """Wake every gate of ``execution_id`` that waits, now or later, with a :class:`GateCancelledError`
        (the execution is failing and must not wait out their timeouts); :meth:`clear` ends the cancel.
        """
        with self._condition:
            self._cancelled.add(execution_id)
            self._condition.notify_all()

    def waiting(self) -> list[WaitingGate]:
        """The gates waiting now."""
        with self._condition:
            return list(self._waiting)

    def clear(self, execution_id: str | None) -> None:
        """Forget the signals and the cancel of ``execution_id``, or (None) every signal and cancel."""
        with self._condition:
            if execution_id is None:
                self._signals.clear()
                self._cancelled.clear()
            else:
                for key in [key for key in self._signals if key[0] == execution_id]:
                    del self._signals[key]
                self._cancelled.discard(execution_id)


#: The board of this process: what :func:`~taskloom.hookspecs.taskloom_signal_board` gives for ``local``.
BOARD = SignalBoard()


def cancel_waits(execution_id: str) -> None:
    """For the executor: wake the gates of ``execution_id`` with :class:`GateCancelledError` (:meth:`SignalBoard.cancel`)."""
    BOARD.cancel(execution_id)


def clear_signals(execution_id: str) -> None:
    """For the executor, when ``execution_id`` ends: forget its signals and cancel (:meth:`SignalBoard.clear`)."""
    BOARD.clear(execution_id)


# One question on the terminal at a time: gates that wait together take turns to ask.
_terminal = threading.Lock()

#: How often a terminal prompt checks whether its gate was answered some other way (seconds).
_POLL = 0.05


def run_gate(node: Node, inputs: dict[str, Any], execution_id: str) -> dict[str, Any]:
    """Run the gate node ``node`` of the execution named ``execution_id``; return its outputs by name.

    ``inputs`` are the node's input values (an approval's gated value).
    """
    gate: Gate = node.entity
    if gate.kind == "sleep":
        assert gate.duration is not None
        if BOARD.sleep(execution_id, gate.duration.total_seconds()):
            raise GateCancelledError(f"gate {gate.name!r} stopped sleeping: its execution is ending")
        return {}
    timeout = node.overrides.get("timeout", gate.timeout)
    if not isinstance(timeout, dt.timedelta):
        timeout = dt.timedelta(seconds=timeout)
    prompt = _TerminalPrompt(gate, inputs, execution_id) if _interactive() else None
    try:
        signal = BOARD.receive(execution_id, gate, timeout.total_seconds())
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

    The answer goes on the board like any other signal, so the gate just waits for its signal
    whoever sends it. The descriptor is polled rather than read with a blocking call, so
    that a gate answered by another source stops asking at once.
    """

    def __init__(self, gate: Gate, inputs: dict[str, Any], execution_id: str) -> None:
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
                BOARD.send(self._execution_id, self._gate.name, Signal(value))
                return

    def _ask(self) -> None:
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
