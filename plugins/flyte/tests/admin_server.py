"""A Flyte AdminService of the tests' own, for the registration calls, on 127.0.0.1.

No Flyte admin can run here, so this server implements the four calls registration makes
(CreateTask, CreateWorkflow, CreateLaunchPlan, UpdateLaunchPlan) over a real gRPC socket, with
the admin's answers that matter to a client:

* an identifier must be complete (project, domain, name, version), else ``INVALID_ARGUMENT``;
* creating an identifier again answers ``ALREADY_EXISTS`` when the content is the same, and
  ``INVALID_ARGUMENT`` when it differs (flyteadmin's "already exists with different structure");
* a workflow's task nodes must name registered tasks, a launch plan's workflow a registered
  workflow, an activation a registered launch plan (``NOT_FOUND`` otherwise);
* with ``token`` set, a call without ``authorization: Bearer <token>`` gets ``UNAUTHENTICATED``;
* with ``certificate`` set, the server speaks TLS.

Every call is recorded (``calls``) with its request, its metadata and the status it got.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
from concurrent import futures
from typing import Any, Self

import grpc
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.service import admin_pb2_grpc


@dataclasses.dataclass
class Call:
    """One call that reached the server: the method, the request, the metadata and the status answered."""

    method: str
    request: Any
    metadata: dict[str, str]
    status: grpc.StatusCode


def _key(identifier: Any) -> tuple[int, str, str, str, str]:
    return (identifier.resource_type, identifier.project, identifier.domain, identifier.name, identifier.version)


def _task_references(nodes: Any) -> list[Any]:
    found = []
    for node in nodes:
        target = node.WhichOneof("target")
        if target == "task_node":
            found.append(node.task_node.reference_id)
        elif target == "branch_node":
            if_else = node.branch_node.if_else
            inner = [if_else.case.then_node, *(block.then_node for block in if_else.other)]
            if if_else.HasField("else_node"):
                inner.append(if_else.else_node)
            found += _task_references(inner)
        elif target == "array_node":
            found += _task_references([node.array_node.node])
    return found


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class _Servicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, server: AdminServer) -> None:
        self.server = server

    # The methods are named as AdminService's RPCs.

    def _handle(self, method: str, request: Any, context: grpc.ServicerContext, answer: Any) -> Any:
        metadata = dict(context.invocation_metadata())
        with self.server.lock:
            refusal = None
            try:
                self.server.check_token(metadata)
                response = answer(request)
            except _Abort as abort:
                refusal = abort
            self.server.calls.append(Call(method, request, metadata, refusal.code if refusal else grpc.StatusCode.OK))
        if refusal is not None:
            context.abort(refusal.code, refusal.details)
        return response

    def CreateTask(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("CreateTask", request, context, self.server.create_task)

    def CreateWorkflow(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("CreateWorkflow", request, context, self.server.create_workflow)

    def CreateLaunchPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("CreateLaunchPlan", request, context, self.server.create_launch_plan)

    def UpdateLaunchPlan(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("UpdateLaunchPlan", request, context, self.server.update_launch_plan)


class AdminServer:
    """The test's AdminService on ``127.0.0.1:<free port>``; ``with AdminServer(...) as server:`` starts and stops it.

    ``token`` requires that bearer token; ``certificate`` and ``private_key`` (PEM bytes) make it
    speak TLS. ``address`` is ``127.0.0.1:<port>`` once started; ``registered`` maps each held
    identifier key to its serialized spec, ``active`` holds the keys of active launch plans.
    """

    def __init__(
        self, *, token: str | None = None, certificate: bytes | None = None, private_key: bytes | None = None
    ) -> None:
        self.token = token
        self.certificate = certificate
        self.private_key = private_key
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.registered: dict[tuple[int, str, str, str, str], bytes] = {}
        self.active: set[tuple[int, str, str, str, str]] = set()
        self._server: grpc.Server | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> AdminServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        admin_pb2_grpc.add_AdminServiceServicer_to_server(_Servicer(self), server)
        if self.certificate is not None:
            credentials = grpc.ssl_server_credentials([(self.private_key, self.certificate)])
            self.port = server.add_secure_port("127.0.0.1:0", credentials)
        else:
            self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def methods(self) -> list[str]:
        """The methods called, in order, that the server accepted."""
        return [call.method for call in self.calls if call.status == grpc.StatusCode.OK]

    # ---- the admin's behaviour -------------------------------------------------------------

    def check_token(self, metadata: dict[str, str]) -> None:
        if self.token is None:
            return
        sent = metadata.get("authorization")
        if sent is None:
            raise _Abort(grpc.StatusCode.UNAUTHENTICATED, "missing bearer token in 'authorization' metadata")
        if sent != f"Bearer {self.token}":
            raise _Abort(grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")

    def _create(self, identifier: Any, spec: Any, what: str) -> None:
        for field in ("project", "domain", "name", "version"):
            if not getattr(identifier, field) or "{{" in getattr(identifier, field):
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"{what} identifier has no valid {field}")
        key = _key(identifier)
        content = spec.SerializeToString(deterministic=True)
        held = self.registered.get(key)
        if held == content:
            raise _Abort(grpc.StatusCode.ALREADY_EXISTS, f"{what} {identifier.name} already exists")
        if held is not None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{what} with different structure already exists with id {identifier.name} {identifier.version}",
            )
        self.registered[key] = content

    def _require(self, identifier: Any, resource_type: int, what: str) -> None:
        key = (resource_type, *_key(identifier)[1:])
        if key not in self.registered:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"{what} {identifier.name} version {identifier.version} not found")

    def create_task(self, request: Any) -> Any:
        self._create(request.id, request.spec, "task")
        return task_pb2.TaskCreateResponse()

    def create_workflow(self, request: Any) -> Any:
        from flyteidl.core import identifier_pb2

        for reference in _task_references(request.spec.template.nodes):
            self._require(reference, identifier_pb2.TASK, "task")
        self._create(request.id, request.spec, "workflow")
        return workflow_pb2.WorkflowCreateResponse()

    def create_launch_plan(self, request: Any) -> Any:
        from flyteidl.core import identifier_pb2

        self._require(request.spec.workflow_id, identifier_pb2.WORKFLOW, "workflow")
        self._create(request.id, request.spec, "launch plan")
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def update_launch_plan(self, request: Any) -> Any:
        from flyteidl.core import identifier_pb2

        self._require(request.id, identifier_pb2.LAUNCH_PLAN, "launch plan")
        key = (identifier_pb2.LAUNCH_PLAN, *_key(request.id)[1:])
        if request.state == launch_plan_pb2.ACTIVE:
            # As on Flyte, activating a version deactivates the others of the same name.
            self.active = {held for held in self.active if held[1:4] != key[1:4]} | {key}
        else:
            self.active.discard(key)
        return launch_plan_pb2.LaunchPlanUpdateResponse()


def make_certificate(directory: str) -> tuple[str, str]:
    """Write a self-signed certificate for ``localhost`` and ``127.0.0.1`` and its key; return both paths.

    Uses the ``cryptography`` package when it is installed, else the ``openssl`` command.
    """
    certificate_path = os.path.join(directory, "admin.crt")
    key_path = os.path.join(directory, "admin.key")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-nodes", "-days", "1", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", key_path, "-out", certificate_path,
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return certificate_path, key_path
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    with open(certificate_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return certificate_path, key_path
