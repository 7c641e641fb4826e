"""Tasks that mix in AsyncAgentExecutorMixin / SyncAgentExecutorMixin run through their agent: the one of this
process by default, an agent server's with TASKLOOM_AGENT_ENDPOINT (``loom run --agent-endpoint``). Failures name
the task, retryable ones are retried by the executor, a server restart mid-poll is survived, and an interrupted
``loom run`` deletes the jobs it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sample_agents
from plugins.agent.tests.servers import HERE, agent_server
from taskloom import Cache, workflow
from taskloom.extend import TaskMetadata, UserTimeoutError

from taskloom_agent.errors import AgentNotFoundError, AgentTaskError, RetryableAgentTaskError
from taskloom_agent.hooks import ENDPOINT_ENV

nap = sample_agents.SleepTask("jobs.nap")
echo = sample_agents.EchoTask("jobs.echo")
to_file = sample_agents.FileTask("jobs.to_file")


@workflow
def napping(seconds: float, text: str) -> tuple[float, str]:
    slept, _ = nap(seconds=seconds)
    return slept, echo(text=text)


@pytest.fixture
def prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The jobs' output prefixes go under tmp_path, where the sample agents leave their marks."""
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    return tmp_path


def marks(directory: Path, name: str) -> list[str]:
    """The pids that left mark ``name`` in the jobs' output prefixes under ``directory``."""
    return [pid for path in sorted(directory.glob(f"*/{name}")) for pid in path.read_text().split()]


def test_a_workflow_runs_an_async_and_a_sync_agent_task_in_process(prefix):
    assert tuple(napping(seconds=0.2, text="hi")) == (0.2, "hi")
    assert marks(prefix, "created") == [str(os.getpid())]  # the agent of this process, no server


def test_log_links_and_log_lines_go_to_stderr_naming_the_task(prefix, capfd):
    result = nap(seconds=0.0)
    errors = capfd.readouterr().err
    assert f"taskloom: task 'jobs.nap': logs console: https://jobs.example/{result.job}" in errors
    assert f"taskloom: task 'jobs.nap': job {result.job} slept" in errors


def test_outputs_an_agent_leaves_in_a_file_are_read_from_the_output_prefix(prefix):
    result = to_file(word="ink", count=3)
    assert (result.word, result.count) == ("ink", 3)


def test_an_agent_that_runs_the_tasks_container_gets_its_arguments_filled_and_the_inputs_file(
    prefix, remote, monkeypatch
):
    # As flytekit's render_task_template: {{.input}} and the prefixes point under the job's output prefix, where
    # inputs.pb is written; the agent leaves the outputs in outputs.pb there.
    assert sample_agents.doubled(x=21) == 42
    monkeypatch.setenv(ENDPOINT_ENV, remote.endpoint)
    assert sample_agents.doubled(x=5) == 10
    assert len(list(prefix.glob("*/inputs.pb"))) == 2


def test_a_failed_job_fails_the_task_naming_it_and_the_agents_message(prefix):
    failing = sample_agents.FailTask("jobs.fail")
    with pytest.raises(AgentTaskError) as raised:
        failing(retryable=False)
    assert str(raised.value).startswith(
        "task 'jobs.fail': agent 'Failing Agent' reports FAILED: the query has a syntax error"
    )


def test_a_retryable_failure_is_retried_by_the_executor(prefix):
    flaky = sample_agents.FailTask("jobs.flaky", metadata=TaskMetadata(retries=2))

    @workflow
    def once() -> None:
        flaky(retryable=True)

    with pytest.raises(RetryableAgentTaskError, match="reports RETRYABLE_FAILED: the queue was full"):
        once()
    assert len(marks(prefix, "created")) == 3  # the first attempt and two retries, each its own job


def test_a_cached_agent_task_does_not_start_a_second_job_for_the_same_inputs(prefix, monkeypatch):
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(prefix / "cache.sqlite"))
    cached = sample_agents.SleepTask("jobs.cached_nap", cache=Cache(version="1"))
    first, second = cached(seconds=0.0), cached(seconds=0.0)
    assert first.job == second.job  # the second call read the cache
    assert len(marks(prefix, "created")) == 1
    assert cached(seconds=0.01).job != first.job  # other inputs: a job of their own


@pytest.mark.parametrize("timeouts", ["processes", "threads"])
def test_a_job_that_outlives_the_tasks_timeout_is_deleted_and_the_attempt_times_out(prefix, monkeypatch, timeouts):
    monkeypatch.setenv("TASKLOOM_TIMEOUTS", timeouts)  # a worker process killed at the deadline, or a thread

    @workflow
    def too_long() -> float:
        slept, _ = sample_agents.short_nap(seconds=30.0)
        return slept

    with pytest.raises(UserTimeoutError, match=r"'sample_agents\.short_nap'"):
        too_long()
    deadline = time.monotonic() + 5
    while not marks(prefix, "deleted"):  # the job was deleted before the executor's deadline
        assert time.monotonic() < deadline, "the job was left running"
        time.sleep(0.02)


def test_an_agent_that_raises_in_create_fails_the_task_with_its_error(prefix):
    with pytest.raises(RuntimeError, match="the warehouse is closed"):
        sample_agents.FailTask("jobs.explode", version=1)(retryable=False)


@pytest.fixture(scope="module")
def remote() -> Any:
    with agent_server() as server:
        yield server


def test_with_an_endpoint_the_tasks_run_on_the_agent_server(prefix, remote, monkeypatch):
    monkeypatch.setenv(ENDPOINT_ENV, remote.endpoint)
    assert tuple(napping(seconds=0.1, text="far")) == (0.1, "far")
    created = marks(prefix, "created")
    assert len(created) == 1 and created != [str(os.getpid())]  # made by the server's process
    assert to_file(word="far", count=2) == ("far", 2)


def test_a_remote_failure_names_the_task_the_server_and_the_status(prefix, remote, monkeypatch):
    monkeypatch.setenv(ENDPOINT_ENV, remote.endpoint)
    with pytest.raises(AgentTaskError) as raised:
        sample_agents.FailTask("jobs.explode", version=1)(retryable=False)
    assert str(raised.value).startswith(
        f"task 'jobs.explode': agent server {remote.endpoint}: CreateTask: INTERNAL: CreateTask: "
        "agent 'Failing Agent' failed: RuntimeError: the warehouse is closed"
    )
    with pytest.raises(AgentTaskError, match=f"agent server {remote.endpoint} reports FAILED: the query has a syntax"):
        sample_agents.FailTask("jobs.fail")(retryable=False)


def test_a_task_type_with_no_agent_here_names_the_task_and_the_agents_there_are(prefix):
    with pytest.raises(AgentNotFoundError, match=r"task 'jobs.lost': no agent for task type 'sleep' version 3; agents"):
        sample_agents.SleepTask("jobs.lost", task_type_version=3)(seconds=0.0)


def test_a_task_type_the_server_has_no_agent_for_is_not_found(prefix, remote, monkeypatch):
    monkeypatch.setenv(ENDPOINT_ENV, remote.endpoint)
    with pytest.raises(AgentNotFoundError, match=r"task 'jobs.other': .*NOT_FOUND: .*no agent for task type 'sleep' v"):
        sample_agents.SleepTask("jobs.other", task_type_version=3)(seconds=0.0)


def test_the_executor_survives_a_restart_of_the_server_mid_poll(prefix, monkeypatch):
    with agent_server() as first:
        monkeypatch.setenv(ENDPOINT_ENV, first.endpoint)
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append(nap(seconds=2.0))
            except Exception as error:
                outcome.append(error)

        runner = threading.Thread(target=run)
        runner.start()
        deadline = time.monotonic() + 20
        while not marks(prefix, "created"):
            assert time.monotonic() < deadline, "the job was never created"
            time.sleep(0.02)
        assert first.stop() == 0  # the poll now meets a server that is gone
    time.sleep(0.3)
    with agent_server(port=first.port):  # the same address, a new process with no memory of the job
        runner.join(30)
    assert not runner.is_alive()
    (result,) = outcome
    assert not isinstance(result, Exception), result
    assert result.slept == 2.0


PROGRAM = """
import sample_agents
from taskloom import Cache, workflow

nap = sample_agents.SleepTask("jobs.long_nap")


@workflow
def long_nap() -> float:
    slept, _ = nap(seconds=60.0)
    return slept
"""


@pytest.mark.parametrize(("how", "remote_run"), [(signal.SIGINT, False), (signal.SIGTERM, True)])
def test_an_interrupted_loom_run_deletes_the_job_it_started(tmp_path, remote, how, remote_run):
    program = tmp_path / "napping_program.py"
    program.write_text(textwrap.dedent(PROGRAM))
    out = tmp_path / "out"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "TASKLOOM_RAW_OUTPUT_PREFIX": str(out),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
    }
    environment.pop(ENDPOINT_ENV, None)
    extra = ["--agent-endpoint", remote.endpoint] if remote_run else []
    command = [sys.executable, "-c", "from taskloom.cli import main; main()", "run", *extra, str(program), "long_nap"]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not marks(out, "created"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the job was never created"
            time.sleep(0.02)
        process.send_signal(how)
        _, errors = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, errors
    assert marks(out, "deleted"), errors  # the agent was asked to delete the job
    creator = marks(out, "created")[0]
    assert (creator != str(process.pid)) == remote_run  # in-process, or by the server when an endpoint was given
    assert "task 'jobs.long_nap'" in errors and "deleted its job" in errors


def test_loom_run_help_shows_the_agent_options():
    done = subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "--agent-endpoint HOST:PORT" in done.stdout and "$TASKLOOM_AGENT_ENDPOINT" in done.stdout
