"""Gate nodes on the local executor: sleep, signals from Python, the command line and a terminal,
approvals, timeouts and bad values."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from taskloom import approve, current_context, sleep, task, wait_for_input, workflow
from taskloom.core.gate import clear_signals, send_signal, waiting_gates
from taskloom.core.type_engine import TypeTransformer
from taskloom.exceptions.user import DisapprovalError, TypeTransformerFailedError, UserTimeoutError
from taskloom.hookspecs import hookimpl
from taskloom.models.literals import Literal, Primitive, Scalar
from taskloom.models.types import LiteralType, SimpleType

LONG = dt.timedelta(seconds=30)  # answered long before: never reached
SHORT = dt.timedelta(seconds=0.2)  # for the tests that wait it out


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)  # the default: local


@pytest.fixture(autouse=True)
def no_signals_left():
    yield
    clear_signals()  # a signal sent to every execution would answer the next test's gates


EVENTS: list[str] = []


@task
def inc(a: int) -> int:
    return a + 1


@task
def record(label: str) -> None:
    EVENTS.append(label)


@task
def total(rows: list[int]) -> int:
    return sum(rows)


@task
def send_own_signal(value: int) -> None:
    # A task may answer a later gate of its own execution: the signal waits for the gate.
    send_signal(current_context().execution_id, "answer", value)


@workflow
def asks(a: int = 0) -> int:
    return inc(a=wait_for_input("answer", timeout=LONG, expected_type=int))


@workflow
def reviews(a: int) -> int:
    return inc(a=approve(inc(a=a), "review", timeout=LONG))


@workflow
def ordered() -> None:
    wait_for_input("go", timeout=LONG, expected_type=bool) >> record(label="after the gate")


@workflow
def sleeps() -> int:
    pause = sleep(dt.timedelta(seconds=0.05))
    result = inc(a=1)
    pause >> result
    return result


@workflow
def answers_itself() -> int:
    sent = send_own_signal(value=9)
    value = wait_for_input("answer", timeout=LONG, expected_type=int)
    sent >> value
    return inc(a=value)


@workflow
def impatient() -> int:
    return wait_for_input("answer", timeout=SHORT, expected_type=int)


@workflow
def impatient_review(a: int) -> int:
    return approve(inc(a=a), "review", timeout=SHORT)


@workflow
def rows() -> int:
    return total(rows=wait_for_input("rows", timeout=LONG, expected_type=list[int]))


def start(entity, **inputs):
    """Run ``entity`` on a thread; return the thread and the dict that receives its result or error."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = entity(**inputs)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def waiting_for(name, deadline=10.0):
    """The gate ``name`` once an execution waits on it."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for gate in waiting_gates():
            if gate.name == name:
                return gate
        time.sleep(0.005)
    raise AssertionError(f"no gate {name!r} waited within {deadline} s")


def finished(thread, outcome):
    thread.join(10)
    assert not thread.is_alive(), "the workflow did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# --- each gate -----------------------------------------------------------------------------


def test_a_sleep_gate_sleeps_and_then_its_downstream_runs():
    assert sleeps() == 2


def test_a_value_sent_from_another_thread_answers_the_waiting_gate():
    thread, outcome = start(asks)
    gate = waiting_for("answer")
    assert (gate.kind, gate.expected_type) == ("signal", int)
    send_signal(gate.execution_id, "answer", 41)
    assert finished(thread, outcome) == 42
    assert not any(waiting.name == "answer" for waiting in waiting_gates())


def test_a_signal_for_another_execution_does_not_answer_the_gate():
    thread, outcome = start(impatient)
    waiting_for("answer")
    send_signal("someone-else", "answer", 1)
    thread.join(10)
    assert isinstance(outcome.get("error"), UserTimeoutError)


def test_a_signal_sent_before_the_run_answers_the_gate_at_once():
    send_signal(None, "answer", 6)
    assert asks() == 7


def test_a_signal_sent_to_the_execution_before_its_gate_waits_is_kept_for_it():
    assert answers_itself() == 10


def test_rshift_makes_a_task_wait_for_the_gate():
    EVENTS.clear()
    thread, outcome = start(ordered)
    gate = waiting_for("go")
    EVENTS.append("signal sent")
    send_signal(gate.execution_id, "go", True)
    finished(thread, outcome)
    assert EVENTS == ["signal sent", "after the gate"]


def test_text_signals_are_parsed_with_the_expected_type():
    send_signal(None, "rows", "[1, 2, 3]", text=True)
    assert rows() == 6


def test_an_approval_passes_the_gated_value_through():
    thread, outcome = start(reviews, a=1)
    gate = waiting_for("review")
    assert (gate.kind, gate.expected_type) == ("approve", bool)
    send_signal(gate.execution_id, "review", True)
    assert finished(thread, outcome) == 3


def test_a_rejected_approval_fails_the_node_naming_the_gate():
    send_signal(None, "review", "no", text=True)
    with pytest.raises(DisapprovalError, match=r"gate 'review': the approval was rejected") as caught:
        reviews(a=1)
    assert "in node n1 of workflow" in "\n".join(caught.value.__notes__)


# --- timeouts and bad values ---------------------------------------------------------------


@pytest.mark.parametrize("entity, inputs, name", [(impatient, {}, "answer"), (impatient_review, {"a": 1}, "review")])
def test_without_a_signal_the_gate_fails_when_its_timeout_is_up(entity, inputs, name):
    with pytest.raises(UserTimeoutError) as caught:
        entity(**inputs)
    assert str(caught.value) == f"gate {name!r} received no signal {name!r} within its timeout of 0:00:00.200000"


def test_a_value_of_the_wrong_type_fails_the_node_naming_gate_type_and_value():
    send_signal(None, "answer", "forty")
    with pytest.raises(
        TypeTransformerFailedError, match=r"gate 'answer': signal 'answer' expects int, got str 'forty'"
    ):
        asks()


def test_text_that_does_not_parse_fails_the_node_naming_gate_type_and_value():
    send_signal(None, "answer", "forty", text=True)
    with pytest.raises(TypeTransformerFailedError, match=r"gate 'answer': signal 'answer' expects int, got 'forty'"):
        asks()


def test_an_approval_must_be_a_bool():
    send_signal(None, "review", 1)
    with pytest.raises(TypeTransformerFailedError, match=r"gate 'review': signal 'review' expects bool .*got int 1"):
        reviews(a=1)


def test_an_empty_text_answer_neither_approves_nor_rejects():
    send_signal(None, "review", "", text=True)
    with pytest.raises(TypeTransformerFailedError, match=r"gate 'review': signal 'review' expects bool, got ''"):
        reviews(a=1)


# --- loom run ------------------------------------------------------------------------------

FLOWS = """
import datetime as dt

from taskloom import approve, task, wait_for_input, workflow


@task
def inc(a: int) -> int:
    return a + 1


@workflow
def release(a: int = 0) -> int:
    answer = wait_for_input("answer", timeout=dt.timedelta(seconds=60), expected_type=int)
    return inc(a=approve(inc(a=answer), "review", timeout=dt.timedelta(seconds=60)))


@workflow
def impatient() -> int:
    return wait_for_input("answer", timeout=dt.timedelta(seconds=0.2), expected_type=int)
"""

LOOM = [sys.executable, "-c", "from taskloom.cli import main; main()"]


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.py"
    path.write_text(textwrap.dedent(FLOWS))
    return str(path)


def loom(*arguments, **options):
    return subprocess.run(
        [*LOOM, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
        **options,
    )


def test_loom_run_hands_its_signals_to_the_gates(flows):
    done = loom("run", flows, "release", "--signal", "answer=41", "--signal", "review=yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "43"


def test_loom_run_with_a_rejecting_signal_fails_naming_the_gate(flows):
    done = loom("run", flows, "release", "--signal", "answer=41", "--signal", "review=no")
    assert done.returncode == 1
    assert "Error: DisapprovalError: gate 'review': the approval was rejected" in done.stderr


def test_loom_run_with_a_bad_signal_value_fails_naming_gate_type_and_value(flows):
    done = loom("run", flows, "release", "--signal", "answer=lots")
    assert done.returncode == 1
    assert "gate 'answer': signal 'answer' expects int, got 'lots'" in done.stderr


def test_loom_run_refuses_a_signal_without_a_value(flows):
    done = loom("run", flows, "release", "--signal", "answer")
    assert done.returncode == 2 and "'answer' is not NAME=VALUE" in done.stderr


def test_loom_run_without_a_terminal_or_signal_waits_out_the_timeout(flows):
    done = loom("run", flows, "impatient")
    assert done.returncode == 1
    assert "UserTimeoutError: gate 'answer' received no signal 'answer' within its timeout" in done.stderr


def test_on_a_terminal_the_gates_ask_and_ask_again_when_the_answer_does_not_parse(flows):
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*LOOM, "run", flows, "release"], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    os.close(follower)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(iter(lambda: process.stderr.read(1), "")), daemon=True)
    reader.start()

    def wait_for(text, count=1):
        end = time.monotonic() + 60
        while "".join(errors).count(text) < count:
            if time.monotonic() > end or process.poll() is not None:
                raise AssertionError(f"{text!r} never came; standard error: {''.join(errors)!r}")
            time.sleep(0.01)

    try:
        wait_for("[gate 'answer'] enter a value of type int: ")
        os.write(leader, b"lots\n")
        wait_for("signal 'answer' expects int, got 'lots'")
        wait_for("[gate 'answer'] enter a value of type int: ", count=2)
        os.write(leader, b"41\n")
        wait_for("[gate 'review'] approve 42? [yes/no]: ")
        os.write(leader, b"\n")  # an empty answer neither approves nor rejects
        wait_for("[gate 'review'] approve 42? [yes/no]: ", count=2)
        os.write(leader, b"y\n")
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    assert process.returncode == 0, "".join(errors)
    assert output.splitlines()[0] == "43"


@task
def fail_soon(a: int) -> int:
    time.sleep(0.1)  # the gate is waiting by then
    raise ValueError("broken")


@workflow
def fails_while_a_gate_waits(a: int = 0) -> tuple[int, int]:
    return inc(a=wait_for_input("never", timeout=LONG, expected_type=int)), fail_soon(a=a)


@workflow
def fails_while_a_gate_sleeps(a: int = 0) -> int:
    sleep(LONG) >> record(label="after")
    return fail_soon(a=a)


@pytest.mark.parametrize("flow", [fails_while_a_gate_waits, fails_while_a_gate_sleeps], ids=["waiting", "sleeping"])
def test_a_failing_node_stops_gates_from_waiting_out_their_timeout(flow):
    thread, outcome = start(flow)
    thread.join(10)  # the gate's 30 s timeout would keep the run alive without the cancel
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), ValueError)


# --- the board ------------------------------------------------------------------------------


def test_the_local_plugin_gives_its_board_for_the_local_executor_only():
    from taskloom.core.gate import signal_board
    from taskloom_local.gates import BOARD

    assert signal_board("local") is BOARD and signal_board() is BOARD
    assert signal_board("elsewhere") is None


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


class MoneyTransformer(TypeTransformer[Money]):
    """A third party's type whose text is "12.50 EUR"-like (only euros here)."""

    def __init__(self) -> None:
        super().__init__("money", Money)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.INTEGER)

    def to_literal(self, ctx, python_val, python_type, expected):
        self.assert_type(Money, python_val)
        return Literal(scalar=Scalar(primitive=Primitive(integer=python_val.cents)))

    def to_python_value(self, ctx, lv, expected_python_type):
        return Money(lv.scalar.primitive.integer)

    def from_text(self, text, python_type):
        amount, currency = text.split()
        if currency != "EUR":
            raise TypeTransformerFailedError(f"expected an amount in EUR, got {text!r}")
        return Money(round(float(amount) * 100))


class MoneyPlugin:
    @hookimpl
    def taskloom_type_transformers(self):
        return [MoneyTransformer()]


def test_a_text_signal_is_parsed_by_the_transformer_of_the_gates_type(taskloom_plugins):
    taskloom_plugins.register(MoneyPlugin(), name="money")

    @task
    def cents(amount: Money) -> int:
        return amount.cents

    @workflow
    def priced() -> int:
        return cents(amount=wait_for_input("price", timeout=LONG, expected_type=Money))

    send_signal(None, "price", "12.50 EUR", text=True)
    assert priced() == 1250
    clear_signals()
    send_signal(None, "price", "12.50 USD", text=True)
    with pytest.raises(
        TypeTransformerFailedError, match=r"signal 'price' expects Money, got '12.50 USD'.*expected an amount in EUR"
    ):
        priced()
