"""Union values cross between flytekit tasks and taskloom tasks in both directions (issue 21, point 5).

A Flyte backend hands one task's ``outputs.pb`` to the next task as its ``inputs.pb``. Here a task
written once, run under flytekit 1.16 by ``pyflyte-execute`` and under taskloom by ``loom-execute``,
produces union values (a list, a dict, an enum, a nested dataclass, each in an ``Optional`` or a
``Union``) that the other SDK's task reads. flytekit reads a union value by its variant's tag, so this
fails unless taskloom writes flytekit's tags (``Typed List``, ``Typed Dict``...).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flyteidl.core import errors_pb2, literals_pb2

from plugins.flyte.tests.flytekit_reference import flytekit_python

# flytekit runs in its own virtual environment, created on first use: slow.
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

PROGRAM = """
import enum
import typing
from dataclasses import dataclass, field

from flytekit import task


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Inner:
    weight: float
    tags: typing.List[str] = field(default_factory=list)


@dataclass
class Outer:
    inner: Inner
    history: typing.List[Inner]
    extra: typing.Optional[Inner] = None


Values = typing.Tuple[
    typing.Optional[typing.List[int]],
    typing.Union[typing.Dict[str, int], str],
    typing.Optional[Colour],
    typing.Optional[Outer],
    typing.Union[int, str],
]


@task
def produce() -> Values:
    outer = Outer(inner=Inner(weight=1.5, tags=["x"]), history=[Inner(weight=2.0)], extra=Inner(weight=3.0))
    return [1, 2], {"a": 1}, Colour.GREEN, outer, "text"


@task
def consume(
    o0: typing.Optional[typing.List[int]],
    o1: typing.Union[typing.Dict[str, int], str],
    o2: typing.Optional[Colour],
    o3: typing.Optional[Outer],
    o4: typing.Union[int, str],
) -> str:
    return repr((o0, o1, o2, o3, o4))
"""

EXPECTED = (
    "([1, 2], {'a': 1}, <Colour.GREEN: 'green'>, Outer(inner=Inner(weight=1.5, tags=['x']), "
    "history=[Inner(weight=2.0, tags=[])], extra=Inner(weight=3.0, tags=[])), 'text')"
)


def _write_program(directory: Path, sdk: str) -> Path:
    package = directory / "interop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    text = PROGRAM if sdk == "flytekit" else re.sub(r"^from flytekit\b", "from taskloom", PROGRAM, flags=re.M)
    (package / "flows.py").write_text(text)
    return directory


def _execute(sdk: str, root: Path, task_name: str, inputs: Path, work: Path) -> Path:
    """Run ``task_name`` as a container does, with ``inputs``; return its output prefix."""
    prefix = work / f"{sdk}-{task_name}"
    if sdk == "flytekit":
        command = [str(flytekit_python().parent / "pyflyte-execute")]
        resolver = "flytekit.core.python_auto_container.default_task_resolver"
    else:
        command = [str(BIN / "loom-execute")]
        resolver = "taskloom_flyte.resolvers.default_task_resolver"
    command += [
        "--inputs",
        str(inputs),
        "--output-prefix",
        str(prefix),
        "--raw-output-data-prefix",
        str(work / "raw"),
        "--resolver",
        resolver,
        "--",
        "task-module",
        "interop.flows",
        "task-name",
        task_name,
    ]
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=environment, timeout=300)
    assert done.returncode == 0, f"{sdk} {task_name}:\n{done.stdout}\n{done.stderr}"
    if (prefix / "error.pb").exists():
        document = errors_pb2.ErrorDocument()
        document.ParseFromString((prefix / "error.pb").read_bytes())
        pytest.fail(f"{sdk} {task_name} failed: {document.error.message}")
    return prefix


def _text_output(prefix: Path) -> str:
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString((prefix / "outputs.pb").read_bytes())
    return outputs.literals["o0"].scalar.primitive.string_value


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    return {sdk: _write_program(tmp_path_factory.mktemp(sdk), sdk) for sdk in ("flytekit", "taskloom")}


@pytest.fixture(scope="module")
def empty_inputs(tmp_path_factory):
    path = tmp_path_factory.mktemp("inputs") / "inputs.pb"
    path.write_bytes(literals_pb2.LiteralMap().SerializeToString())
    return path


@pytest.mark.parametrize(
    "producer, consumer",
    [("flytekit", "taskloom"), ("taskloom", "flytekit"), ("taskloom", "taskloom"), ("flytekit", "flytekit")],
)
def test_union_values_written_by_one_sdk_are_read_by_the_other(roots, empty_inputs, tmp_path, producer, consumer):
    produced = _execute(producer, roots[producer], "produce", empty_inputs, tmp_path)
    consumed = _execute(consumer, roots[consumer], "consume", produced / "outputs.pb", tmp_path)
    assert _text_output(consumed) == EXPECTED


def test_both_sdks_write_the_same_union_literals(roots, empty_inputs, tmp_path):
    written = {}
    for sdk in ("flytekit", "taskloom"):
        outputs = literals_pb2.LiteralMap()
        outputs.ParseFromString(
            (_execute(sdk, roots[sdk], "produce", empty_inputs, tmp_path) / "outputs.pb").read_bytes()
        )
        written[sdk] = outputs
    for name in ("o0", "o1", "o2", "o4"):  # o3, a dataclass, is msgpack bytes whose key order may differ
        assert written["taskloom"].literals[name] == written["flytekit"].literals[name], name
    flytekit_outer, taskloom_outer = (written[sdk].literals["o3"].scalar.union.type for sdk in ("flytekit", "taskloom"))
    assert taskloom_outer == flytekit_outer
