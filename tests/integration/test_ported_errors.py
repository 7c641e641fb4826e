"""Errors a ported program catches with flytekit's builtin classes (issue 21, point 9, first part)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from taskloom import conditional, current_context, task, workflow
from taskloom.core.context_manager import SecretNotFoundError
from taskloom.exceptions.user import UserTypeError, UserValueError, ValidationError


def test_a_missing_secret_is_a_value_error_as_in_flytekit(monkeypatch, tmp_path):
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))

    @task
    def connect() -> str:
        return current_context().secrets.get("db", "password")

    with pytest.raises(ValueError, match="secret group='db' key='password' not found") as caught:
        connect()
    assert isinstance(caught.value, (SecretNotFoundError, KeyError))


def test_a_failed_condition_is_a_value_error_as_in_flytekit():
    @task
    def double(x: int) -> int:
        return 2 * x

    @workflow
    def only_positive(x: int) -> int:
        return conditional("sign").if_(x > 0).then(double(x=x)).else_().fail("x must be positive")

    try:
        only_positive(x=-1)
    except ValueError as error:  # the except clause of a ported program
        assert "x must be positive" in str(error)
    else:
        pytest.fail("the failing case did not raise")


@pytest.mark.parametrize(
    "error, builtin",
    [(UserValueError, ValueError), (UserTypeError, TypeError), (ValidationError, AssertionError)],
)
def test_user_errors_subclass_the_builtin_flytekit_raises(error, builtin):
    assert issubclass(error, builtin)


def test_a_validation_error_is_caught_as_an_assertion_error():
    with pytest.raises(AssertionError, match="retries"):

        @task(retries=-1)
        def never(x: int) -> int:
            return x


# --- the audit of issue 21, point 9: each situation, the builtin flytekit raises, caught the same way ---
#
# Each row is a ported program: flytekit-style code with `taskloom` in its imports whose `except BUILTIN:`
# clause catches what the bad statement raises, printing the class caught. The same program runs under
# flytekit 1.16 with `flytekit` in its imports (a slow test: it needs flytekit's environment) and must
# be caught by the same clause. docs/concepts.md, "Errors a ported program catches", is this table.

PRELUDE = """
import datetime
import enum
import typing

from taskloom import LaunchPlan, Secret, conditional, map_task, reference_task, task, wait_for_input, workflow
from taskloom.types.file import FlyteFile


@task
def double(x: int) -> int:
    return 2 * x


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def pair(x: int) -> typing.Tuple[int, int]:
    return x


@task
def wrong_output(x: int) -> int:
    return str(x)


@workflow
def doubled(x: int) -> int:
    return double(x=x)


class Colour(enum.Enum):
    RED = "red"


@task
def paint(colour: Colour) -> str:
    return colour.value


@task
def count(table: typing.Dict[str, int]) -> int:
    return len(table)


@task
def size(file: FlyteFile) -> int:
    return 1


@reference_task(project="flows", domain="development", name="remote.double", version="1")
def remote_double(x: int) -> int:
    ...


"""

# situation -> (the statement(s) that fail, the builtin a ported program catches, flytekit's class, taskloom's class)
ROWS: dict[str, tuple[str, str, str, str]] = {
    "declaration: a timeout that is not a duration": (
        "@task(timeout='ten minutes')\ndef slow(x: int) -> int:\n    return x",
        "ValueError",
        "ValueError",
        "ValidationError",
    ),
    "declaration: cache_serialize without cache": (
        "@task(cache_serialize=True)\ndef serial(x: int) -> int:\n    return x",
        "ValueError",
        "ValueError",
        "ValidationError",
    ),
    "declaration: a secret request that is not a Secret": (
        "@task(secret_requests=['token'])\ndef secretive(x: int) -> int:\n    return x",
        "AssertionError",
        "AssertionError",
        "ValidationError",
    ),
    "declaration: map_task of a workflow": ("map_task(doubled)", "ValueError", "ValueError", "ValidationError"),
    "declaration: a launch plan fixing an input the workflow lacks": (
        "LaunchPlan.get_or_create(doubled, name='fixed_y', fixed_inputs={'y': 1})",
        "AssertionError",
        "AssertionError",
        "ValidationError",
    ),
    "declaration: two launch plans of one name for two workflows": (
        "LaunchPlan.get_or_create(doubled, name='twice', default_inputs={'x': 1})\n"
        "LaunchPlan.get_or_create(double, name='twice', default_inputs={'x': 2})",
        "AssertionError",
        "AssertionError",
        "ValidationError",
    ),
    "bind time: a workflow input of the wrong type given to a task": (
        "@workflow\ndef bad_bind(name: str) -> int:\n    return double(x=name)\n\nbad_bind(name='a')",
        "TypeError",
        "TypeTransformerFailedError",
        "TypeTransformerFailedError",
    ),
    "bind time: a task input left out in a workflow": (
        "@workflow\ndef left_out(x: int) -> int:\n    return add(x=x)\n\nleft_out(x=1)",
        "AssertionError",
        "FlyteAssertion",
        "TypeTransformerFailedError",
    ),
    "bind time: an input the task does not have": (
        "@workflow\ndef extra(x: int) -> int:\n    return double(x=x, y=x)\n\nextra(x=1)",
        "AssertionError",
        "AssertionError",
        "TypeTransformerFailedError",
    ),
    "bind time: more outputs returned than declared": (
        "@workflow\ndef two(x: int) -> int:\n    return double(x=x), double(x=x)\n\ntwo(x=1)",
        "AssertionError",
        "AssertionError",
        "TypeTransformerFailedError",
    ),
    "bind time: if on a task output": (
        "@workflow\ndef branchy(x: int) -> int:\n    if double(x=x):\n        return double(x=x)\n    return double(x=1)\n\nbranchy(x=1)",
        "ValueError",
        "ValueError",
        "UserTypeError",
    ),
    "bind time: a loop over a task output": (
        "@workflow\ndef loopy(x: int) -> int:\n    for item in double(x=x):\n        pass\n    return double(x=x)\n\nloopy(x=1)",
        "ValueError",
        "ValueError",
        "UserTypeError",
    ),
    "bind time: `and` between conditions": (
        "@workflow\ndef anded(x: int) -> int:\n"
        "    return conditional('c').if_((x > 0) and (x < 5)).then(double(x=x)).else_().then(double(x=1))\n\nanded(x=1)",
        "ValueError",
        "ValueError",
        "UserTypeError",
    ),
    "bind time: a bare output as a condition": (
        "@workflow\ndef bare(x: int) -> int:\n"
        "    return conditional('c').if_(double(x=x)).then(double(x=x)).else_().then(double(x=1))\n\nbare(x=1)",
        "AssertionError",
        "AssertionError",
        "ValidationError",
    ),
    "bind time: a conditional without else": (
        "@workflow\ndef unfinished(x: int) -> int:\n    return conditional('c').if_(x > 0).then(double(x=x))\n\nunfinished(x=1)",
        "AssertionError",
        "FlyteValidationException",
        "ValidationError",
    ),
    "bind time: wait_for_input without a timeout": (
        "@workflow\ndef waiting() -> int:\n    return wait_for_input('n', expected_type=int)\n\nwaiting()",
        "TypeError",
        "TypeError",
        "TypeError",
    ),
    "run time: a task called without an input": ("double()", "TypeError", "TypeError", "TypeTransformerFailedError"),
    "run time: a task called with an input it does not have": (
        "double(x=1, y=2)",
        "AssertionError",
        "AssertionError",
        "TypeTransformerFailedError",
    ),
    "run time: a task input of the wrong type": (
        "double(x='two')",
        "TypeError",
        "TypeTransformerFailedError",
        "TypeTransformerFailedError",
    ),
    "run time: a task output of the wrong type": (
        "wrong_output(x=1)",
        "ValueError",
        "TypeTransformerFailedError",
        "TypeTransformerFailedError",
    ),
    "run time: one value returned for two outputs": (
        "pair(x=1)",
        "TypeError",
        "TypeError",
        "TypeTransformerFailedError",
    ),
    "run time: a workflow called without an input": (
        "doubled()",
        "TypeError",
        "TypeError",
        "TypeTransformerFailedError",
    ),
    "run time: a workflow called with an input it does not have": (
        "doubled(x=1, y=2)",
        "AssertionError",
        "AssertionError",
        "TypeTransformerFailedError",
    ),
    "run time: a reference task without a body called locally": (
        "remote_double(x=1)",
        "NotImplementedError",
        "NotImplementedError",
        "ReferenceNotRunnableError",
    ),
    "transformer: a value the enum does not have": (
        "paint(colour='blue')",
        "ValueError",
        "TypeTransformerFailedError",
        "TypeTransformerFailedError",
    ),
    "transformer: dict keys that are not strings": (
        "count(table={1: 1})",
        "ValueError",
        "ValueError",
        "TypeTransformerFailedError",
    ),
    "transformer: a value no transformer converts to the type": (
        "size(file=3)",
        "TypeError",
        "TypeError",
        "TypeTransformerFailedError",
    ),
}


def ported_program(row: str, library: str = "taskloom") -> str:
    statements, builtin, _, _ = ROWS[row]
    body = textwrap.indent(statements, "    ")
    source = f"{PRELUDE}try:\n{body}\nexcept {builtin} as error:\n    print('caught', type(error).__name__)\n"
    source += "else:\n    print('nothing raised')\n"
    return source.replace("from taskloom", f"from {library}")


def write_programs(directory: Path, library: str) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for number, row in enumerate(ROWS):
        path = directory / f"program_{number}.py"
        path.write_text(ported_program(row, library))
        paths[row] = path
    return paths


def caught(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stdout.splitlines() if line.startswith(("caught ", "nothing raised"))]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    return lines[-1]


@pytest.mark.parametrize("row", list(ROWS))
def test_a_ported_program_catches_the_error_with_flytekits_builtin(row, tmp_path):
    program = write_programs(tmp_path, "taskloom")[row]
    done = subprocess.run(
        [sys.executable, str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TASKLOOM_RECORD": "0", "TASKLOOM_CACHE_PATH": str(tmp_path / "cache.sqlite")},
        timeout=120,
    )
    assert caught(done) == f"caught {ROWS[row][3]}"


@pytest.fixture(scope="module")
def flytekit_catches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What each program, written for flytekit, printed when run under flytekit 1.16 (one interpreter)."""
    from plugins.flyte.tests.flytekit_reference import flytekit_python

    directory = tmp_path_factory.mktemp("flytekit-programs")
    paths = write_programs(directory, "flytekit")
    runner = directory / "run_all.py"
    runner.write_text(
        "import contextlib, io, json, runpy, sys\n"
        "results = {}\n"
        "for row, path in json.loads(sys.argv[1]).items():\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        runpy.run_path(path, run_name=path.rsplit('/', 1)[-1][:-3])\n"
        "    results[row] = out.getvalue()\n"
        "print(json.dumps(results))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(flytekit_python()), str(runner), json.dumps({row: str(path) for row, path in paths.items()})],
        capture_output=True,
        text=True,
        cwd=directory,
        env={**environment, "HOME": str(directory)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[-1])
    return {
        row: [line for line in text.splitlines() if line.startswith(("caught ", "nothing"))][-1]
        for row, text in printed.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("row", list(ROWS))
def test_flytekit_raises_what_the_same_builtin_catches(row, flytekit_catches):
    assert flytekit_catches[row] == f"caught {ROWS[row][2]}"
