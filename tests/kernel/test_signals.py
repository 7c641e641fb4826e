"""Signals from user code reach the board of the executor's plugin through `taskloom_signal_board`.

The kernel keeps no signals itself (issue 20, point 6): `send_signal`, `waiting_gates` and
`clear_signals` ask the hook for the board of the executor named by ``TASKLOOM_EXECUTOR``. No
standard plugin is installed here: the boards are the test's.
"""

from __future__ import annotations

import pytest

from taskloom.core.gate import Signal, WaitingGate, clear_signals, send_signal, signal_board, waiting_gates
from taskloom.exceptions.user import UserValueError, ValidationError
from taskloom.hookspecs import hookimpl
from taskloom.models.identifier import WorkflowExecutionIdentifier
from tests.kernel.distributions import run_loom


class RecordingBoard:
    """A board that records what the kernel asks of it."""

    def __init__(self):
        self.sent = []
        self.cleared = []
        self.gates = [WaitingGate("run-1", "answer", "signal", int)]

    def send(self, execution_id, name, signal):
        self.sent.append((execution_id, name, signal))

    def waiting(self):
        return list(self.gates)

    def clear(self, execution_id):
        self.cleared.append(execution_id)


class BoardPlugin:
    """Provides the board of one executor, by name."""

    def __init__(self, executor, board):
        self.executor = executor
        self.board = board

    @hookimpl
    def taskloom_signal_board(self, executor):
        return self.board if executor == self.executor else None


@pytest.fixture
def boards(bare_plugins, monkeypatch):
    """The boards of two executors, "toy" (the one in use) and "other"."""
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "toy")
    toy, other = RecordingBoard(), RecordingBoard()
    bare_plugins.register(BoardPlugin("toy", toy), name="toy-executor")
    bare_plugins.register(BoardPlugin("other", other), name="other-executor")
    return toy, other


def test_a_signal_goes_to_the_board_of_the_executor_in_use(boards):
    toy, other = boards
    send_signal("run-1", "answer", 41)
    send_signal(None, "review", "yes", text=True)
    send_signal(WorkflowExecutionIdentifier(project="p", domain="d", name="run-2"), "answer", 7)
    assert toy.sent == [
        ("run-1", "answer", Signal(41)),
        (None, "review", Signal("yes", text=True)),
        ("run-2", "answer", Signal(7)),
    ]
    assert other.sent == []


def test_waiting_gates_and_clear_signals_ask_the_same_board(boards):
    toy, _ = boards
    assert waiting_gates() == [WaitingGate("run-1", "answer", "signal", int)]
    clear_signals("run-1")
    clear_signals()
    assert toy.cleared == ["run-1", None]


def test_signal_board_names_an_executor_or_takes_the_one_in_use(boards):
    toy, other = boards
    assert signal_board() is toy and signal_board("other") is other and signal_board("nowhere") is None


def test_an_executor_without_a_board_refuses_signals_naming_it(bare_plugins, monkeypatch):
    monkeypatch.setenv("TASKLOOM_EXECUTOR", "silent")
    with pytest.raises(UserValueError, match=r"^send_signal: the executor 'silent' takes no signals"):
        send_signal(None, "answer", 1)
    assert waiting_gates() == []
    clear_signals()  # nothing to forget: no error


def test_a_signal_needs_a_name(boards):
    with pytest.raises(ValidationError, match="a signal's name must be a non-empty str"):
        send_signal(None, "", 1)


def test_loom_run_sends_its_signals_to_the_executor_it_was_given(tmp_path):
    flows = tmp_path / "flows.py"
    flows.write_text("from taskloom import task\n\n\n@task\ndef f(x: int) -> int:\n    return x\n")
    done = run_loom(["run", "--executor", "nowhere", "--signal", "answer=1", str(flows), "f", "--x", "1"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "Error: send_signal: the executor 'nowhere' takes no signals (no installed plugin keeps its signals)"
    ]
