"""`loom run` errors caused by the user's file or values: one `Error:` line, the traceback only with --verbose.

A file that cannot be loaded (a syntax error, an exception or a missing module at import, a workflow
that does not compile) is reported as one line naming the file, what was raised and the user's line
where it happened, with exit status 1 (issue 19, point 10). The same holds for values the run cannot
convert: a task whose output contains itself, bytes given as malformed base64 (points 11 and 13).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.kernel.distributions import run_loom


def write(directory: Path, name: str, source: str) -> str:
    path = directory / name
    path.write_text(textwrap.dedent(source).lstrip())
    return str(path)


def the_error_line(done) -> str:
    """The one line of standard error of a failed `loom run`, checked to be all there is."""
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


# Each case: the files to write (the first is the one `loom run` is given), then what its one line of
# error must say, in order.
FAULTS = {
    "syntax error": (
        {
            "flows.py": """
                from taskloom import task

                def broken(:
                    pass
                """,
        },
        ["cannot load", "flows.py", "SyntaxError", "line 3"],
    ),
    "syntax error in a module the file imports": (
        {
            "flows.py": """
                import helpers
                """,
            "helpers.py": """
                x = 1
                if x
                    pass
                """,
        },
        ["cannot load", "flows.py", "SyntaxError", "helpers.py", "line 2"],
    ),
    "exception at import": (
        {
            "flows.py": """
                from taskloom import task

                def ratio():
                    return 1 / 0

                RATIO = ratio()
                """,
        },
        ["cannot load", "flows.py", "ZeroDivisionError: division by zero", "flows.py, line 4"],
    ),
    "exception raised by a library the file calls at import": (
        {
            "flows.py": """
                import json

                SETTINGS = json.loads("{not json")
                """,
        },
        ["cannot load", "flows.py", "JSONDecodeError: Expecting property name", "flows.py, line 3"],
    ),
    "missing module": (
        {
            "flows.py": """
                from taskloom import task
                import no_such_module_for_taskloom_tests
                """,
        },
        [
            "cannot load",
            "flows.py",
            "ModuleNotFoundError: No module named 'no_such_module_for_taskloom_tests'",
            "line 2",
        ],
    ),
    "workflow that does not compile": (
        {
            "flows.py": """
                from taskloom import task, workflow

                @task
                def double(x: int) -> int:
                    return 2 * x

                @workflow
                def pipeline(name: str) -> int:
                    return double(x=name)
                """,
        },
        ["cannot load", "flows.py", "task 'flows.double': input 'x' expects int", "flows.py, line 9"],
    ),
    "workflow whose body fails while it compiles": (
        {
            "flows.py": """
                from taskloom import task, workflow

                @task
                def double(x: int) -> int:
                    return 2 * x

                @workflow
                def pipeline(x: int) -> int:
                    return double(x=x) + 1
                """,
        },
        [
            "cannot load",
            "flows.py",
            "TypeError: unsupported operand",
            "while compiling workflow 'flows.pipeline'",
            "line 9",
        ],
    ),
    "task with an unsupported annotation": (
        {
            "flows.py": """
                from taskloom import task

                @task
                def keep(x: object) -> int:
                    return 1
                """,
        },
        ["cannot load", "flows.py", "input 'x' has type object", "flows.py, line 3"],
    ),
    "exit at import": (
        {
            "flows.py": """
                import sys

                sys.exit(3)
                """,
        },
        ["cannot load", "flows.py", "SystemExit: 3", "flows.py, line 3"],
    ),
}


def write_fault(tmp_path: Path, fault: str) -> tuple[str, list[str]]:
    files, expected = FAULTS[fault]
    paths = [write(tmp_path, name, source) for name, source in files.items()]
    return paths[0], expected


def assert_in_order(line: str, parts: list[str]) -> None:
    position = 0
    for part in parts:
        found = line.find(part, position)
        assert found >= 0, f"{part!r} not found after position {position} in {line!r}"
        position = found + len(part)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_file_that_cannot_be_loaded_is_one_error_line(tmp_path, fault):
    flows, expected = write_fault(tmp_path, fault)
    line = the_error_line(run_loom(["run", flows, "pipeline"]))
    assert_in_order(line, expected)
    assert "Traceback" not in line


@pytest.mark.parametrize(
    "fault", ["syntax error", "exception at import", "missing module", "workflow that does not compile"]
)
def test_listing_a_file_that_cannot_be_loaded_is_the_same_error_line(tmp_path, fault):
    flows, expected = write_fault(tmp_path, fault)
    assert_in_order(the_error_line(run_loom(["run", flows])), expected)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_verbose_shows_the_traceback_of_a_file_that_cannot_be_loaded(tmp_path, fault):
    flows, _ = write_fault(tmp_path, fault)
    done = run_loom(["--verbose", "run", flows, "pipeline"])
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    # The user's own frames are in it, not only taskloom's.
    assert 'flows.py", line' in done.stderr or "helpers.py" in done.stderr


def test_the_error_names_the_file_as_it_was_given(tmp_path):
    write(tmp_path, "flows.py", "RATIO = 1 / 0\n")
    done = run_loom(["run", "flows.py"], cwd=tmp_path)
    assert the_error_line(done) == (
        "Error: cannot load flows.py: ZeroDivisionError: division by zero (flows.py, line 1)"
    )


VALUES = """
import dataclasses

from taskloom import task, workflow


@task
def size(data: bytes) -> int:
    return len(data)


@task
def sizes(blobs: list[bytes]) -> list[int]:
    return [len(blob) for blob in blobs]


@task
def looped(n: int) -> dict:
    loop = {"n": n}
    loop["self"] = loop
    return loop


@workflow
def pipeline(n: int = 1) -> dict:
    return looped(n=n)
"""


def usage_error_line(done) -> str:
    """The `Error:` line of a usage error (click prints the usage above it), checked to be the only one."""
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    return errors[0]


def test_bytes_given_as_malformed_base64_name_the_task_the_input_and_what_was_expected(tmp_path):
    flows = write(tmp_path, "values.py", VALUES)
    line = usage_error_line(run_loom(["run", flows, "size", "--data", "base64:AAE"]))
    assert_in_order(line, ["'--data'", "task 'values.size'", "input 'data'", "'base64:AAE'", "base64"])


def test_malformed_base64_inside_json_names_the_item(tmp_path):
    flows = write(tmp_path, "values.py", VALUES)
    line = usage_error_line(run_loom(["run", flows, "sizes", "--blobs", '["base64:AAEC", "base64:%%"]']))
    assert_in_order(line, ["task 'values.sizes'", "input 'blobs'", "item [1]", "base64", "'%%'"])


def test_a_task_output_that_contains_itself_is_an_error_naming_the_task_and_output(tmp_path):
    flows = write(tmp_path, "values.py", VALUES)
    done = run_loom(["run", "--progress", "never", flows, "pipeline"], env={"TASKLOOM_RECORD": "0"})
    assert done.returncode == 1 and "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert_in_order(first, ["Error: ", "task 'values.looped'", "output 'o0'", "contains itself at ['self']"])
