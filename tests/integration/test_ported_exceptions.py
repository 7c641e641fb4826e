"""flytekit's exception names catch what taskloom raises in the same situation (issue 21, point 3).

Each test provokes the situation itself (a failing task, a missing file, an unknown field...) in a
program written as a flytekit user writes it, and catches the error by flytekit's name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import subprocess
import textwrap

import pytest

from taskloom import FlyteFile, approve, task, workflow
from taskloom.exceptions.eager import EagerException
from taskloom.exceptions.system import StorageError
from taskloom.exceptions.user import (
    FlyteAssertion,
    FlyteDataNotFoundException,
    FlyteDisapprovalException,
    FlytePromiseAttributeResolveException,
    FlyteRecoverableException,
    FlyteTimeout,
    FlyteTypeException,
    FlyteUserException,
    FlyteUserRuntimeException,
    FlyteValidationException,
)

# --- a user task raising -------------------------------------------------------------------------

FAILING_PROGRAM = """
from flytekit import task, workflow
from flytekit.exceptions.user import FlyteUserRuntimeException


@task
def boom(x: int) -> int:
    if x > 0:
        raise ValueError("bad x")
    return x


@workflow
def wf(x: int) -> int:
    return boom(x=x)


for call in (lambda: boom(x=1), lambda: wf(x=1)):
    try:
        call()
    except FlyteUserRuntimeException:
        print("FlyteUserRuntimeException")
    except ValueError as error:
        print("ValueError", "bad x" in str(error))
"""


@pytest.mark.slow  # flytekit runs in its own virtual environment
def test_a_failing_task_is_caught_as_flytekit_catches_it_locally(tmp_path):
    from plugins.flyte.tests.flytekit_reference import flytekit_python

    (tmp_path / "flytekit_program.py").write_text(FAILING_PROGRAM)
    (tmp_path / "taskloom_program.py").write_text(FAILING_PROGRAM.replace("flytekit", "taskloom"))
    import sys

    outputs = []
    for python, program in ((flytekit_python(), "flytekit_program.py"), (sys.executable, "taskloom_program.py")):
        done = subprocess.run([str(python), program], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split("\n")[-3:])
    assert outputs[0] == outputs[1] == ["ValueError True", "ValueError True", ""]


def test_flytekits_user_runtime_exception_wraps_a_users_error_as_flytekits_does():
    error = KeyError("k")
    error.error_code = 42  # type: ignore[attr-defined]
    wrapped = FlyteUserRuntimeException(error, timestamp=1.5)
    assert wrapped.value is error and wrapped.error_code == "42" and wrapped.timestamp == 1.5
    assert FlyteUserRuntimeException(ValueError("v")).error_code == "USER:RuntimeError"


# --- a promise's attribute that does not exist ---------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int


@task
def make_point() -> Point:
    return Point(x=1)


@task
def use(a: int) -> int:
    return a


@task
def numbers() -> list[int]:
    return [1, 2]


def test_an_unknown_field_of_an_output_is_a_promise_attribute_resolve_exception():
    with pytest.raises(FlytePromiseAttributeResolveException, match="has no field 'y'"):

        @workflow
        def wrong_field() -> int:
            return use(a=make_point().y)


def test_a_string_key_into_a_list_output_is_a_promise_attribute_resolve_exception():
    with pytest.raises(FlytePromiseAttributeResolveException, match="cannot be indexed with 'first'"):

        @workflow
        def wrong_key() -> int:
            return use(a=numbers()["first"])


# --- data that is not there ----------------------------------------------------------------------


@task
def read(f: FlyteFile) -> str:
    with open(f) as handle:
        return handle.read()


def test_a_file_whose_uri_holds_nothing_is_a_data_not_found_exception():
    with pytest.raises(FlyteDataNotFoundException, match="memory://bucket/missing.txt") as caught:
        read(f=FlyteFile("memory://bucket/missing.txt"))
    assert isinstance(caught.value, StorageError) and isinstance(caught.value, ValueError)
    assert caught.value.origin == "user"


# --- the names taskloom already raised -----------------------------------------------------------


def test_an_invalid_declaration_is_a_flyte_validation_exception_and_assertion():
    with pytest.raises(FlyteValidationException, match="retries"):

        @task(retries=-1)
        def never(x: int) -> int:
            return x

    assert issubclass(FlyteValidationException, FlyteAssertion)


def test_a_parameter_without_annotation_is_a_flyte_missing_type_exception():
    from taskloom.exceptions.user import FlyteMissingTypeException

    with pytest.raises(FlyteMissingTypeException, match=r"input 'x' has no type annotation"):

        @task
        def untyped(x) -> int:  # type: ignore[no-untyped-def]
            return x

    assert issubclass(FlyteMissingTypeException, FlyteValidationException)  # still a declaration error


def test_a_wrong_input_type_is_a_flyte_type_exception():
    with pytest.raises(FlyteTypeException, match="input 'a' expects int, got str"):
        use(a="not a number")


def test_a_recoverable_exception_is_retried_locally(tmp_path):
    marker = tmp_path / "attempts"

    @task(retries=2)
    def flaky() -> int:
        attempts = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(attempts + 1))
        if attempts < 2:
            raise FlyteRecoverableException("try again")
        return attempts

    @workflow
    def retried() -> int:
        return flaky()

    assert retried() == 2


@pytest.mark.filterwarnings("ignore:.*timed out after")  # the thread's warning that the attempt keeps running
def test_a_task_past_its_timeout_is_a_flyte_timeout(monkeypatch):
    monkeypatch.setenv("TASKLOOM_TIMEOUTS", "threads")  # the test's task is not importable by a worker

    @task(timeout=1)
    def slow() -> int:
        import time

        time.sleep(3)
        return 1

    @workflow
    def times_out() -> int:
        return slow()

    with pytest.raises(FlyteTimeout):
        times_out()


def test_a_rejected_approval_is_a_flyte_disapproval_exception():
    import datetime as dt

    from taskloom.core.gate import clear_signals, send_signal

    @task
    def report() -> int:
        return 3

    @workflow
    def reviewed() -> int:
        return approve(report(), "review", timeout=dt.timedelta(seconds=30))

    send_signal(None, "review", False)  # answers the gate of any execution: the reviewer said no
    try:
        with pytest.raises(FlyteDisapprovalException, match="rejected"):
            reviewed()
    finally:
        clear_signals()
    assert issubclass(FlyteDisapprovalException, FlyteUserException)


# --- eager workflows -----------------------------------------------------------------------------

EAGER_PROGRAM = textwrap.dedent(
    """
    from taskloom import eager, task
    from taskloom.exceptions.eager import EagerException


    @task
    def add_one(x: int) -> int:
        if x < 0:
            raise ValueError("x must be positive")
        return x + 1


    @eager
    async def caught_as_eager(x: int) -> int:
        try:
            return add_one(x=x)  # a synchronous task gives its value, as in flytekit 1.16
        except EagerException:  # flytekit's documented clause
            return -1


    @eager
    async def caught_as_value_error(x: int) -> int:
        try:
            return await add_one.aio(x=x)
        except ValueError:  # what flytekit 1.16 raises locally
            return -2


    @eager
    async def not_caught(x: int) -> int:
        return add_one(x=x) + 1
    """
)


@pytest.fixture
def eager_program(tmp_path, monkeypatch):
    (tmp_path / "eager_program.py").write_text(EAGER_PROGRAM)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    return importlib.import_module("eager_program")


def test_an_eager_body_catches_a_failed_child_as_eager_exception_or_as_its_own_type(eager_program):
    assert asyncio.run(eager_program.caught_as_eager(x=-5)) == -1
    assert asyncio.run(eager_program.caught_as_value_error(x=-5)) == -2
    assert asyncio.run(eager_program.caught_as_eager(x=1)) == 2


def test_the_caller_of_an_eager_workflow_catches_the_failure_as_both(eager_program):
    with pytest.raises(EagerException, match="x must be positive") as caught:
        asyncio.run(eager_program.not_caught(x=-5))
    error = caught.value
    assert isinstance(error, ValueError) and type(error).__name__ == "ValueError"
    assert any("add_one" in note for note in getattr(error, "__notes__", []))
    copy = pickle.loads(pickle.dumps(error))  # a worker process or a record can carry it
    assert isinstance(copy, EagerException) and isinstance(copy, ValueError) and copy.args == error.args
