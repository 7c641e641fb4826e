"""``loom serve agent`` starts on loopback, refuses half a TLS configuration, and on SIGTERM lets the calls in
flight finish while refusing new ones."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import grpc
import pytest
import sample_agents
from flyteidl.admin import agent_pb2
from flyteidl.core import literals_pb2
from flyteidl.service import agent_pb2_grpc
from plugins.agent.tests.servers import agent_server
from taskloom.extend import SerializationSettings
from taskloom_flyte import codec

ECHO = codec.to_proto(sample_agents.EchoTask("jobs.echo").to_task_template(SerializationSettings()))


def echo(channel: grpc.Channel, text: str, pause: float = 0.0, prefix: str = "") -> str:
    inputs = literals_pb2.LiteralMap()
    inputs.literals["text"].scalar.primitive.string_value = text
    inputs.literals["pause"].scalar.primitive.float_value = pause
    requests = [
        agent_pb2.ExecuteTaskSyncRequest(header=agent_pb2.CreateRequestHeader(template=ECHO, output_prefix=prefix)),
        agent_pb2.ExecuteTaskSyncRequest(inputs=inputs),
    ]
    (response,) = agent_pb2_grpc.SyncAgentServiceStub(channel).ExecuteTaskSync(iter(requests), timeout=20)
    return response.header.resource.outputs.literals["text"].scalar.primitive.string_value


def test_sigterm_lets_a_call_in_flight_finish_then_the_server_exits(tmp_path):
    with agent_server() as server, grpc.insecure_channel(server.endpoint) as channel:
        assert server.endpoint.startswith("127.0.0.1:")  # loopback unless told otherwise
        answers: list[str] = []
        call = threading.Thread(target=lambda: answers.append(echo(channel, "still here", 1.5, str(tmp_path))))
        call.start()
        deadline = time.monotonic() + 20
        while not (tmp_path / "started").exists():  # the call is in flight, waiting in the agent
            assert time.monotonic() < deadline, "the call never reached the agent"
            time.sleep(0.02)
        server.process.send_signal(signal.SIGTERM)
        call.join(20)
        assert answers == ["still here"]
        assert server.process.wait(20) == 0
        assert any(line.startswith("stopping") for line in server.lines)
        with pytest.raises(grpc.RpcError) as raised:
            echo(channel, "too late")
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


def test_half_a_tls_configuration_is_a_usage_error(tmp_path):
    cert = tmp_path / "cert.pem"
    cert.write_text("not used")
    done = subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", "serve", "agent", "--tls-cert", str(cert)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--tls-cert and --tls-key go together" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_taken_port_is_one_clear_error():
    with agent_server() as first:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from taskloom.cli import main; main()",
                "serve",
                "agent",
                "--port",
                str(first.port),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot bind 127.0.0.1:{first.port}" in done.stderr
    assert "Traceback" not in done.stderr
