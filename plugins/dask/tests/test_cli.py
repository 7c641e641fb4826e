"""``loom run --executor dask`` in a process of its own: on the session's cluster (``--dask-scheduler``), on a
LocalCluster it starts itself, recorded and resumed, and against a scheduler nobody runs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from taskloom.cli import cli

FLOWS = textwrap.dedent(
    """
    import os

    from distributed import get_worker
    from taskloom import map_task, task, workflow


    @task
    def first(counter: str, x: int) -> int:
        with open(counter, "a") as stream:
            stream.write("first\\n")
        return x + 1


    @task
    def second(gate: str, y: int) -> tuple[int, str]:
        if not os.path.exists(gate):
            raise ValueError("the gate file is missing")
        return y * 10, get_worker().address  # get_worker fails outside a Dask worker


    @task
    def square(x: int) -> int:
        return x * x


    @workflow
    def wf(counter: str, gate: str, x: int) -> tuple[int, str, list[int]]:
        y = first(counter=counter, x=x)
        z, address = second(gate=gate, y=y)
        return z, address, map_task(square)(x=[1, 2, 3])
    """
)


SCHEDULER = "TASKLOOM_DASK_SCHEDULER"


def loom(arguments: list[str], cwd, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in ("TASKLOOM_EXECUTOR", SCHEDULER)}
    env.update(TASKLOOM_DATA_DIR=str(cwd / "data"), **environment)
    return subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "flows.py").write_text(FLOWS)
    return tmp_path


def inputs(project) -> list[str]:
    return ["--counter", str(project / "counter"), "--gate", str(project / "gate"), "--x", "1"]


def test_a_failed_run_on_the_cluster_resumes_without_redoing_what_finished(project, cluster):
    scheduler = ["--executor", "dask", "--dask-scheduler", cluster.scheduler_address]
    failed = loom(["run", *scheduler, "--progress", "never", "flows.py", "wf", *inputs(project)], project)
    assert failed.returncode == 1, failed.stderr
    assert "the gate file is missing" in failed.stderr and "Traceback" not in failed.stderr
    execution = re.search(r"--resume (\w+)", failed.stderr).group(1)
    (project / "gate").touch()
    resumed = loom(
        ["run", *scheduler, "--progress", "never", "--resume", execution, "flows.py", "wf", *inputs(project)], project
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "o0: 20" in resumed.stdout and "o2: [1, 4, 9]" in resumed.stdout
    assert re.search(r"o1: tcp://127\.0\.0\.1:\d+", resumed.stdout)  # second ran in a Dask worker
    assert (project / "counter").read_text() == "first\n"  # first ran once, in the failed run


def test_without_an_address_a_local_cluster_runs_the_workflow_and_is_closed(project):
    (project / "gate").touch()
    done = loom(["run", "--executor", "dask", "flows.py", "wf", *inputs(project)], project, TASKLOOM_RECORD="0")
    assert done.returncode == 0, done.stderr
    assert "o0: 20" in done.stdout and re.search(r"o1: tcp://127\.0\.0\.1:\d+", done.stdout)
    assert "workflow flows.wf succeeded" in done.stderr  # the local executor's progress lines


def test_the_scheduler_comes_from_the_environment_too(project, cluster):
    (project / "gate").touch()
    done = loom(
        ["run", "flows.py", "wf", *inputs(project)],
        project,
        TASKLOOM_EXECUTOR="dask",
        TASKLOOM_DASK_SCHEDULER=cluster.scheduler_address,
        TASKLOOM_RECORD="0",
    )
    assert done.returncode == 0, done.stderr
    workers = re.search(r"o1: (\S+)", done.stdout).group(1)
    assert workers.startswith("tcp://127.0.0.1:")


def test_a_scheduler_nobody_runs_is_one_line_naming_its_address(project):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    done = loom(["run", "--executor", "dask", "--dask-scheduler", address, "flows.py", "wf", *inputs(project)], project)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: SchedulerUnreachable: no Dask scheduler answers at {address} (")


def test_loom_run_help_shows_the_scheduler_option_and_its_variable():
    done = CliRunner().invoke(cli, ["run", "--help"])
    assert done.exit_code == 0, done.output
    assert "--dask-scheduler ADDRESS" in done.output and "$TASKLOOM_DASK_SCHEDULER" in done.output


def test_loading_the_plugins_hooks_imports_no_dask_nor_click():
    # Every workflow run loads the hook modules (listeners()); click comes with loom run's options only.
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, taskloom_dask.hooks; print(sorted({'dask', 'distributed', 'click'} & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"
