"""``loom serve agent --tls-cert --tls-key --token-file``: TLS only, and calls without the bearer token refused
with UNAUTHENTICATED (health checks excepted); a self-signed certificate for 127.0.0.1 is made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import sample_agents
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flyteidl.admin import agent_pb2
from flyteidl.service import agent_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from plugins.agent.tests.servers import Server, agent_server

from taskloom_agent.errors import AgentTaskError
from taskloom_agent.hooks import ENDPOINT_ENV, TLS_CA_ENV, TOKEN_FILE_ENV

TOKEN = "s3cret-token"


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(directory)
    token_file = directory / "token"
    token_file.write_text(TOKEN + "\n")
    with agent_server("--tls-cert", str(cert), "--tls-key", str(key), "--token-file", str(token_file)) as running:
        yield running, cert, token_file


def tls_channel(server: Server, cert: Path) -> Any:
    return grpc.secure_channel(server.endpoint, grpc.ssl_channel_credentials(root_certificates=cert.read_bytes()))


def list_agents(channel: Any, metadata: Any = ()) -> Any:
    stub = agent_pb2_grpc.AgentMetadataServiceStub(channel)
    return stub.ListAgents(agent_pb2.ListAgentsRequest(), timeout=5, metadata=metadata)


def test_a_plaintext_client_cannot_talk_to_a_tls_server(secure):
    server, _, _ = secure
    with grpc.insecure_channel(server.endpoint) as channel, pytest.raises(grpc.RpcError) as raised:
        list_agents(channel, (("authorization", f"Bearer {TOKEN}"),))
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_call_with_the_token_over_tls_is_served(secure):
    server, cert, _ = secure
    with tls_channel(server, cert) as channel:
        agents = list_agents(channel, (("authorization", f"Bearer {TOKEN}"),)).agents
    assert "Sleep Agent" in {agent.name for agent in agents}


@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer wrong"),), (("authorization", TOKEN),)])
def test_a_call_without_the_bearer_token_is_unauthenticated(secure, metadata):
    server, cert, _ = secure
    with tls_channel(server, cert) as channel, pytest.raises(grpc.RpcError) as raised:
        list_agents(channel, metadata)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "a bearer token is required" in raised.value.details()


def test_streaming_calls_are_refused_without_the_token_too(secure):
    server, cert, _ = secure
    with tls_channel(server, cert) as channel, pytest.raises(grpc.RpcError) as raised:
        stub = agent_pb2_grpc.SyncAgentServiceStub(channel)
        list(stub.ExecuteTaskSync(iter([agent_pb2.ExecuteTaskSyncRequest()]), timeout=5))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_health_checks_need_no_token(secure):
    server, cert, _ = secure
    with tls_channel(server, cert) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_tasks_reach_a_secure_server_with_the_token_and_the_certificate(secure, monkeypatch, tmp_path):
    server, cert, token_file = secure
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.setenv(ENDPOINT_ENV, server.endpoint)
    monkeypatch.setenv(TLS_CA_ENV, str(cert))
    monkeypatch.setenv(TOKEN_FILE_ENV, str(token_file))
    assert sample_agents.EchoTask("jobs.secure_echo")(text="sealed") == "sealed"
    assert sample_agents.SleepTask("jobs.secure_nap")(seconds=0.0).slept == 0.0
    monkeypatch.delenv(TOKEN_FILE_ENV)
    with pytest.raises(AgentTaskError, match=r"task 'jobs.secure_echo': .*ExecuteTaskSync: UNAUTHENTICATED"):
        sample_agents.EchoTask("jobs.secure_echo")(text="sealed")
