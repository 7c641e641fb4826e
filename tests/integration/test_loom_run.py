"""`loom run FILE ENTITY --input value`: inputs parsed from annotations, outputs printed, clean errors."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.kernel.distributions import run_loom

FLOWS = """
import dataclasses
import datetime
import enum
import typing

from taskloom import task, workflow
from taskloom.types.file import FlyteFile


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Shape(typing.NamedTuple):
    area: int
    name: str


@task
def describe(
    count: int,
    ratio: float,
    flag: bool,
    when: datetime.date,
    rows: list[int],
    table: dict[str, int],
    point: Point,
    colour: Colour,
    maybe: typing.Optional[int] = None,
    label: str = "none",
) -> str:
    return f"{count}|{ratio}|{flag}|{when.isoformat()}|{sum(rows)}|{table}|{point}|{colour.value}|{maybe}|{label}"


@task
def measure(side: int) -> Shape:
    return Shape(side * side, "square")


@task
def read(path: FlyteFile) -> str:
    with path.open("r") as handle:
        return handle.read().strip()


class NotAllowed(ValueError):
    pass


@task
def refuse(x: int) -> int:
    raise NotAllowed(f"x={x} is not allowed")


@workflow
def pipeline(side: int = 3) -> Shape:
    return measure(side=side)


@workflow
def failing(x: int) -> int:
    return refuse(x=x)


@task
def copy_file(path: FlyteFile) -> FlyteFile:
    import os
    import shutil

    from taskloom import current_context

    target = os.path.join(current_context().working_directory, "copy.txt")
    shutil.copy(path, target)
    return FlyteFile(target)


from taskloom import LaunchPlan

big = LaunchPlan.get_or_create(pipeline, name="big", fixed_inputs={"side": 10})
"""


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.py"
    path.write_text(textwrap.dedent(FLOWS))
    return str(path)


def test_without_an_entity_the_tasks_and_workflows_are_listed(flows):
    done = run_loom(["run", flows])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split() == ["pipeline", "workflow"] for line in lines)
    assert any(line.split() == ["describe", "task"] for line in lines)


def test_every_kind_of_input_is_parsed_from_its_annotation(flows):
    done = run_loom(
        [
            "run",
            flows,
            "describe",
            "--count",
            "3",
            "--ratio",
            "0.5",
            "--flag",
            "true",
            "--when",
            "2026-11-23",
            "--rows",
            "[1, 2, 3]",
            "--table",
            '{"a": 1}',
            "--point",
            '{"x": 4}',
            "--colour",
            "blue",
            "--maybe",
            "7",
        ]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3|0.5|True|2026-11-23|6|{'a': 1}|Point(x=4, y=0)|blue|7|none"


def test_a_workflow_runs_with_its_defaults_and_named_outputs_are_printed(flows):
    done = run_loom(["run", flows, "pipeline"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["area: 9", "name: square"]
    assert run_loom(["run", flows, "pipeline", "--side", "4"]).stdout.splitlines()[0] == "area: 16"


def test_a_file_input_is_a_path(flows, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("hello file\n")
    done = run_loom(["run", flows, "read", "--path", str(data)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello file"


def test_help_of_an_entity_shows_inputs_types_and_defaults(flows):
    done = run_loom(["run", flows, "describe", "--help"])
    assert done.returncode == 0, done.stderr
    assert "--rows list[int]" in done.stdout and "[required]" in done.stdout
    assert "--label str" in done.stdout and "[default: none]" in done.stdout


def test_a_value_that_does_not_parse_is_a_usage_error_naming_the_option(flows):
    done = run_loom(["run", flows, "pipeline", "--side", "big"])
    assert done.returncode == 2
    assert "Invalid value for '--side'" in done.stderr and "'big' is not a valid int" in done.stderr


def test_a_missing_required_input_is_a_usage_error(flows):
    done = run_loom(["run", flows, "failing"])
    assert done.returncode == 2 and "Missing option '--x'" in done.stderr


def test_a_failing_workflow_exits_non_zero_with_the_tasks_error_and_no_traceback(flows):
    done = run_loom(["run", flows, "failing", "--x", "5"])
    assert done.returncode == 1
    assert "Error: NotAllowed: x=5 is not allowed" in done.stderr
    assert "raised by task 'flows.refuse'" in done.stderr and "in node n0 of workflow 'flows.failing'" in done.stderr
    assert "Traceback" not in done.stderr


def test_verbose_shows_the_traceback(flows):
    done = run_loom(["--verbose", "run", flows, "failing", "--x", "5"])
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_an_unknown_entity_is_a_usage_error_listing_the_entities(flows):
    done = run_loom(["run", flows, "nope"])
    assert done.returncode == 2 and "defines no task or workflow named 'nope'" in done.stderr


def test_an_executor_nobody_provides_is_named(flows):
    done = run_loom(["run", "--executor", "nowhere", flows, "pipeline"])
    assert done.returncode == 1
    assert "no installed taskloom plugin provides the executor 'nowhere'" in done.stderr


def test_the_example_of_the_readme_runs():
    done = run_loom(["run", "examples/hello.py", "wf", "--name", "world"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "HELLO, WORLD! HELLO, WORLD!"


def test_a_launch_plan_runs_with_its_fixed_inputs(flows):
    listing = run_loom(["run", flows]).stdout
    assert any(line.split() == ["big", "launch", "plan"] for line in listing.splitlines())
    done = run_loom(["run", flows, "big"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["area: 100", "name: square"]


def test_a_program_whose_workflow_fails_uncaught_exits_non_zero_with_the_tasks_error(flows, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "main.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport flows\nflows.failing(x=3)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "NotAllowed: x=3 is not allowed" in done.stderr and "in node n0 of workflow 'flows.failing'" in done.stderr


def test_raw_output_prefix_keeps_returned_files_there(flows, tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("kept")
    raw = tmp_path / "raw"
    done = run_loom(["run", "--raw-output-prefix", str(raw), flows, "copy_file", "--path", str(data)])
    assert done.returncode == 0, done.stderr
    stored = list(raw.rglob("copy.txt"))
    assert len(stored) == 1 and stored[0].read_text() == "kept"
    assert str(raw) in done.stdout


def test_processes_runs_task_bodies_in_worker_processes(tmp_path):
    flows = tmp_path / "pids.py"
    flows.write_text(
        textwrap.dedent(
            """
            import os
            from taskloom import map_task, task, workflow

            try:  # the first import is loom's own; workers import this file again
                with open(os.path.join(os.path.dirname(__file__), "loom.pid"), "x") as handle:
                    handle.write(str(os.getpid()))
            except FileExistsError:
                pass

            @task
            def pid_of(x: int) -> int:
                return os.getpid()

            @workflow
            def pids(xs: list[int]) -> list[int]:
                return map_task(pid_of)(x=xs)
            """
        )
    )
    done = run_loom(["run", "--processes", "2", str(flows), "pids", "--xs", "[1, 2, 3, 4]"])
    assert done.returncode == 0, done.stderr
    loom_pid = int((tmp_path / "loom.pid").read_text())
    found = json.loads(done.stdout)
    assert loom_pid not in found and 1 <= len(set(found)) <= 2


BYTES_FLOWS = """
import dataclasses

from taskloom import task


@dataclasses.dataclass
class Message:
    body: bytes
    topic: str = "none"


@task
def show(data: bytes) -> str:
    return repr(data)


@task
def show_all(blobs: list[bytes], message: Message) -> str:
    return repr((blobs, message.body, message.topic))
"""


@pytest.fixture
def bytes_flows(tmp_path):
    path = tmp_path / "bytes_flows.py"
    path.write_text(BYTES_FLOWS)
    return str(path)


@pytest.mark.parametrize(
    ("given", "received"),
    [
        ("plain text", b"plain text"),
        ("h\u00e9llo", "h\u00e9llo".encode()),
        ("base64:AAEC", b"\x00\x01\x02"),
        ("base64:", b""),
        ("hex:00ff10", b"\x00\xff\x10"),
        ("text:base64:AAEC", b"base64:AAEC"),
        ("", b""),
    ],
)
def test_bytes_are_utf8_text_or_base64_or_hex(bytes_flows, given, received):
    done = run_loom(["run", bytes_flows, "show", "--data", given])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(received)


def test_bytes_inside_json_follow_the_same_convention(bytes_flows):
    done = run_loom(
        [
            "run",
            bytes_flows,
            "show_all",
            "--blobs",
            '["base64:AAEC", "hex:ff", "text"]',
            "--message",
            '{"body": "base64:/w==", "topic": "t"}',
        ]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(([b"\x00\x01\x02", b"\xff", b"text"], b"\xff", "t"))


def test_help_says_how_bytes_are_given(bytes_flows):
    done = run_loom(["run", bytes_flows, "show", "--help"])
    assert done.returncode == 0, done.stderr
    assert "base64:" in done.stdout and "hex:" in done.stdout and "UTF-8" in done.stdout
