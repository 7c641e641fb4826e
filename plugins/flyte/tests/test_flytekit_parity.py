"""The same program packaged by flytekit 1.16 and by taskloom gives the same graph.

flytekit runs in a virtual environment of its own (created from PyPI on a fresh machine, see
``flytekit_reference.flytekit_python``); both packages are read back with flyteidl and reduced by
``graph_summary`` to what a Flyte cluster acts on: node graph, bindings, interfaces, literal types,
task metadata, launch plans. What two SDKs legitimately write differently (their entrypoint's
command line, image, descriptions, registration coordinates) is left out there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plugins.flyte.tests.flytekit_reference import (
    graph_summary,
    package_with_flytekit,
    serialize_with_taskloom,
    summary_differences,
    write_programs,
)

# flytekit packages the programs in its own virtual environment, created on first use: slow.
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    flytekit_root = tmp_path_factory.mktemp("flytekit")
    flytekit_files = package_with_flytekit(write_programs(flytekit_root / "src"), flytekit_root / "package")
    taskloom_root = tmp_path_factory.mktemp("taskloom")
    source = write_programs(taskloom_root / "src", sdk="taskloom")
    return flytekit_files, serialize_with_taskloom(source, taskloom_root / "package")


def test_the_same_files_are_written_under_the_same_names(packages):
    flytekit_files, taskloom_files = packages
    assert [path.name for path in taskloom_files] == [path.name for path in flytekit_files]


def test_the_graphs_interfaces_and_literal_types_are_the_same(packages):
    flytekit_files, taskloom_files = packages
    differences = summary_differences(graph_summary(flytekit_files), graph_summary(taskloom_files))
    assert not differences, "\n".join(differences[:60])


def _descriptions(path: Path) -> dict:
    """Every description in one ``.pb`` file: the entity's, and each interface variable's and launch
    plan parameter's (what ``graph_summary`` leaves out as SDK-specific)."""
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf import json_format

    kind = {"1": task_pb2.TaskSpec, "2": workflow_pb2.WorkflowSpec, "3": launch_plan_pb2.LaunchPlan}[path.stem[-1]]
    message = kind()
    message.ParseFromString(path.read_bytes())
    document = json_format.MessageToDict(message, preserving_proto_field_name=True)
    found: dict = {"entity": document.get("description")}
    template = document.get("template", {})
    for direction in ("inputs", "outputs"):
        variables = template.get("interface", {}).get(direction, {}).get("variables", {})
        found[direction] = {name: variable.get("description") for name, variable in variables.items()}
    parameters = document.get("spec", {}).get("default_inputs", {}).get("parameters", {})
    found["parameters"] = {name: parameter["var"].get("description") for name, parameter in parameters.items()}
    return found


def test_docstrings_give_the_same_descriptions(packages):
    flytekit_files, taskloom_files = packages
    differences = []
    for flytekit_file, taskloom_file in zip(flytekit_files, taskloom_files, strict=True):
        expected, got = _descriptions(flytekit_file), _descriptions(taskloom_file)
        if got != expected:
            differences.append(f"{flytekit_file.name}: expected {expected}, got {got}")
    assert not differences, "\n".join(differences)


EAGER_PROGRAM = """
from flytekit import eager, task


@task
def add_one(x: int) -> int:
    return x + 1


@eager
async def eager_wf(x: int = 1) -> int:
    return add_one(x=x)
"""


def test_an_eager_task_gets_the_workflow_and_default_launch_plan_pyflyte_registers(tmp_path):
    from plugins.flyte.tests.flytekit_reference import _IMPORT_OF_FLYTEKIT

    for sdk in ("flytekit", "taskloom"):
        package = tmp_path / sdk / "src" / "eagers"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        text = EAGER_PROGRAM if sdk == "flytekit" else _IMPORT_OF_FLYTEKIT.sub(r"\1taskloom", EAGER_PROGRAM)
        (package / "flows.py").write_text(text)
    flytekit = graph_summary(package_with_flytekit(tmp_path / "flytekit" / "src", tmp_path / "flytekit" / "package"))
    output = tmp_path / "taskloom" / "package"
    completed = subprocess.run(
        [str(BIN / "loom"), "serialize", "eagers", "--image", "default=ghcr.io/example/image:1", "-o", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path / "taskloom" / "src",
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    taskloom = graph_summary(sorted(output.glob("*.pb")))
    name = "eagers.flows.eager_wf"
    # flytekit's failure node runs a cleanup task aborting the executions the eager task launched;
    # taskloom's eager task runs its children in its own container, so it has neither.
    cleanup = flytekit["tasks"].pop(f"{name}-cleanup")
    assert cleanup["type"] == "eager_failure_handler_task"
    assert flytekit["workflows"][name].pop("failure_node")["entity"] == f"{name}-cleanup"
    assert set(taskloom["workflows"]) == set(flytekit["workflows"]) == {name}
    assert taskloom["workflows"][name] == flytekit["workflows"][name]
    assert taskloom["launch_plans"][name] == flytekit["launch_plans"][name]
