"""Both directions against flytekit 1.16's own agent code: flytekit-serialized templates sent by flyteidl's stubs
(as FlytePropeller sends them) to ``loom serve agent``, and taskloom's tasks run against ``pyflyte serve agent``
serving agents written for flytekit (``flytekit_agents.py``). flytekit runs in its own virtual environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sample_agents
from flyteidl.admin import agent_pb2
from flyteidl.service import agent_pb2_grpc
from plugins.flyte.tests.flytekit_reference import flytekit_python

from taskloom_agent.errors import AgentTaskError
from taskloom_agent.hooks import ENDPOINT_ENV

HERE = Path(__file__).resolve().parent
#: What `pyflyte serve agent` needs beyond flytekit (flytekit[agent] without its ceiling on grpcio-health-checking,
#: whose 1.68 would take protobuf below the 7 flytekit runs with here).
AGENT_PACKAGES = ("prometheus-client", "grpcio-health-checking", "httpx")

pytestmark = pytest.mark.slow


def flytekit_agent_python() -> Path:
    """flytekit's interpreter, with what `pyflyte serve agent` needs added when missing (only adds)."""
    python = flytekit_python()
    probe = "import prometheus_client, grpc_health, httpx"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode:
        command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *AGENT_PACKAGES]
        subprocess.run(command, check=True, capture_output=True)
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pyflyte_serve_agent(python: Path, port: int, log: Any) -> subprocess.Popen[bytes]:
    """`pyflyte serve agent` on ``port`` with flytekit_agents; returns once it answers ListAgents."""
    command = [str(python.parent / "pyflyte"), "serve", "agent", "--port", str(port)]
    command += ["--prometheus_port", str(free_port()), "--modules", "flytekit_agents"]
    environment = {**os.environ, "PYTHONPATH": str(HERE)}
    process = subprocess.Popen(command, cwd=HERE, env=environment, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = agent_pb2_grpc.AgentMetadataServiceStub(channel)
        while True:
            try:
                stub.ListAgents(agent_pb2.ListAgentsRequest(), timeout=1)
                return process
            except grpc.RpcError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    log.seek(0)
                    raise AssertionError(f"pyflyte serve agent did not start: {log.read()!r}") from None
                time.sleep(0.1)


@pytest.fixture(scope="module")
def flytekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = flytekit_agent_python()
    port = free_port()
    with open(tmp_path_factory.mktemp("pyflyte") / "serve.log", "w+b") as log:
        process = pyflyte_serve_agent(python, port, log)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_flytekit_templates_sent_as_propeller_sends_them_run_on_loom_serve_agent(server):
    done = subprocess.run(
        [str(flytekit_agent_python()), str(HERE / "flytekit_client.py"), server.endpoint],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["sleep"]["outputs"]["slept"] == 0.2
    assert len(results["sleep"]["outputs"]["job"]) == 32
    assert results["sleep"]["phases"][-1] == 3  # SUCCEEDED
    assert results["echo"] == {"text": "from flytekit"}
    assert results["unknown"][0] == "NOT_FOUND"
    assert "no agent for task type 'no-such-type' version 0" in results["unknown"][1]
    assert {"Sleep Agent", "Echo Agent"} <= set(results["agents"])


def test_taskloom_tasks_run_against_pyflyte_serve_agent(flytekit_server, monkeypatch, tmp_path):
    monkeypatch.setenv(ENDPOINT_ENV, flytekit_server)
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    result = sample_agents.SleepTask("jobs.nap_at_flytekit")(seconds=0.3)
    assert result.slept == 0.3 and len(result.job) == 32
    assert sample_agents.EchoTask("jobs.echo_at_flytekit")(text="to flytekit") == "to flytekit"


def test_a_failure_at_pyflyte_serve_agent_names_the_task_and_flytekits_message(flytekit_server, monkeypatch, tmp_path):
    monkeypatch.setenv(ENDPOINT_ENV, flytekit_server)
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    with pytest.raises(AgentTaskError) as raised:
        sample_agents.FailTask("jobs.fail_at_flytekit")(retryable=False)
    assert str(raised.value).startswith(
        f"task 'jobs.fail_at_flytekit': agent server {flytekit_server} reports FAILED: flytekit's agent says no"
    )
