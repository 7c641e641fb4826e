"""ContainerTask (taskloom-container) through ``loom run``: a container node and a Python node in one workflow,
run by the local executor in a separate process, with podman."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugins.container.tests import podman_setup

PROGRAM = f'''
from taskloom import ContainerTask, kwtypes, task, workflow

square = ContainerTask(
    name="square",
    image="{podman_setup.BUSYBOX_IMAGE}",
    input_data_dir="/var/inputs",
    output_data_dir="/var/outputs",
    inputs=kwtypes(val=int),
    outputs=kwtypes(out=int),
    command=["sh", "-c", "echo $(( $(cat /var/inputs/val) * {{{{.inputs.val}}}} )) > /var/outputs/out"],
)

broken = ContainerTask(
    name="broken",
    image="{podman_setup.BUSYBOX_IMAGE}",
    command=["sh", "-c", "echo 'no space left on device' >&2; exit 28"],
)


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def pipeline(val: int = 3) -> int:
    return plus_one(x=square(val=val))


@workflow
def failing() -> None:
    broken()
'''


@pytest.fixture(scope="module")
def podman() -> Iterator[dict[str, str]]:
    with podman_setup.private_podman() as environment:
        yield environment


def _loom(tmp_path: Path, environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "flows.py"
    program.write_text(PROGRAM)
    return subprocess.run(
        [str(Path(sys.executable).with_name("loom")), "run", str(program), *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_loom_run_runs_a_container_node_and_hands_its_output_to_a_python_node(podman, tmp_path):
    done = _loom(tmp_path, podman, "pipeline", "--val", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "17" in done.stdout


def test_loom_run_reports_a_failing_container_by_task_with_its_last_lines(podman, tmp_path):
    done = _loom(tmp_path, podman, "failing")
    assert done.returncode != 0
    assert "task 'broken'" in done.stderr and "exit code 28" in done.stderr
    assert "no space left on device" in done.stderr
    assert "Traceback" not in done.stderr
    assert not [name for name in podman_setup.containers(podman) if name.startswith("taskloom-")]
