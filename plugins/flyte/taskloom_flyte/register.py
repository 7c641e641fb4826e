"""Register a package of flyteidl protobufs with a Flyte admin service: ``loom register``.

A package is what ``loom package`` / ``loom serialize`` (and flytekit's ``pyflyte package`` /
``pyflyte serialize``) write: a directory or a tar archive (``.tgz``, ``.tar.gz``, ``.tar``) holding
``NN_<name>_1.pb`` (``flyteidl.admin.TaskSpec``), ``NN_<name>_2.pb`` (``flyteidl.admin.WorkflowSpec``)
and ``NN_<name>_3.pb`` (``flyteidl.admin.LaunchPlan``), plus, for a fast-registered package, the
source archive ``fast*.tar.gz``.

Registration does what ``flytectl register files`` and flytekit's registration do with such files:

* **identifiers are completed**: every identifier (templates, task and launch plan references of
  nodes, inside branches, array nodes and the failure node, sub-workflows, a launch plan's workflow)
  whose project, domain or version is empty or flytekit's placeholder (``{{ registration.project }}``...)
  gets the project, domain and version given here; values the package fixes are kept;
* **order**: tasks, then workflows, then launch plans (the admin compiles a workflow against the
  tasks it names), each kind in the package's file order; then launch plans are activated: those
  with a schedule always, every one with ``activate_launchplans`` (``--activate-launchplans``);
* **ALREADY_EXISTS is success**: the admin answers it when the same version of an entity is
  registered with the same content, so registering a package twice is harmless; the entity is
  reported as ``already registered``. A *different* content under an existing version is the
  admin's error and is reported as such;
* **fast registration**: a task whose arguments hold ``{{ .remote_package_path }}`` runs code from
  the package's source archive. It is uploaded through taskloom's storage (any protocol an installed
  plugin serves, e.g. ``s3://`` with taskloom-s3) under ``source_upload_path``, and the
  placeholders ``{{ .remote_package_path }}`` / ``{{ .dest_dir }}`` are replaced by its URI and by
  ``destination_dir``. (flytekit uploads through the admin's DataProxy service instead; that route
  is not implemented here.)

Connection: ``endpoint`` is ``host:port`` (``dns:///host:port`` is accepted). TLS by default, with
the system's root certificates or those of ``ca_cert``; ``insecure`` speaks plaintext. A bearer
``token`` is sent as ``authorization: Bearer <token>`` metadata: as gRPC call credentials over TLS,
and as plain metadata over a plaintext channel (gRPC refuses call credentials there). Over plaintext
the token crosses the network unencrypted, so it is sent only on an explicit opt-in:
``allow_insecure_token=True``, which ``loom register`` passes only when ``--insecure`` and
``--allow-insecure-token`` are both on its command line (and then warns on standard error). An
insecure setting from the environment or the configuration file alone never sends a token: the
command refuses, before connecting, and says what to pass.

Settings of ``loom register`` not given on the command line come from the environment, then from
the ``[flyte]`` section of taskloom's configuration file (:mod:`taskloom.config`)::

    [flyte]
    endpoint = "flyte.example.com:443"   # $FLYTE_PLATFORM_URL
    insecure = false                     # $FLYTE_PLATFORM_INSECURE
    ca_cert = "/etc/ssl/private-ca.pem"  # $FLYTE_PLATFORM_CA_CERT_FILE_PATH
    project = "flytesnacks"              # $FLYTE_DEFAULT_PROJECT
    domain = "development"               # $FLYTE_DEFAULT_DOMAIN

The environment variables are flytekit's, so a ported setup keeps working. The token comes from
``--token`` or ``$TASKLOOM_ADMIN_TOKEN`` only (never from the configuration file, which is not a
place for secrets); prefer the variable, since a command-line argument is visible to other users
of the machine.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from taskloom.extend import RecoverableSystemException, SystemException, UserValueError, ValidationError

if TYPE_CHECKING:
    import grpc

# flytekit's placeholders, left by `pyflyte package`/`serialize` for registration to fill.
PROJECT_PLACEHOLDER = "{{ registration.project }}"
DOMAIN_PLACEHOLDER = "{{ registration.domain }}"
VERSION_PLACEHOLDER = "{{ registration.version }}"
REMOTE_PACKAGE_PLACEHOLDER = "{{ .remote_package_path }}"
DESTINATION_DIR_PLACEHOLDER = "{{ .dest_dir }}"

#: Environment variables read by ``loom register`` (flytekit's names, except the token's).
ENDPOINT_ENV = "FLYTE_PLATFORM_URL"
INSECURE_ENV = "FLYTE_PLATFORM_INSECURE"
CA_CERT_ENV = "FLYTE_PLATFORM_CA_CERT_FILE_PATH"
PROJECT_ENV = "FLYTE_DEFAULT_PROJECT"
DOMAIN_ENV = "FLYTE_DEFAULT_DOMAIN"
TOKEN_ENV = "TASKLOOM_ADMIN_TOKEN"
#: The section of taskloom's configuration file read by ``loom register``.
CONFIG_SECTION = "flyte"
#: flytekit's defaults for project and domain.
DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"
#: Seconds each admin call may take.
CALL_TIMEOUT = 60.0

_FILE_KINDS = {"1": "task", "2": "workflow", "3": "launch plan"}
_SPEC_FILE = re.compile(r"_(?P<index>[1-3])\.pb$")
_STATUS_REGISTERED = "registered"
_STATUS_ALREADY_REGISTERED = "already registered"


class RegistrationError(SystemException):
    """The admin service failed or refused a registration call; the message names the entity and endpoint."""

    error_code = "SYSTEM:Registration"

    def __init__(self, message: str, *, endpoint: str, code: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.code = code


class AdminAuthenticationError(RegistrationError):
    """The admin service refused the credentials (gRPC ``UNAUTHENTICATED`` or ``PERMISSION_DENIED``).

    Its origin is the user (a missing or wrong token), as for flytekit's ``FlyteAuthenticationException``.
    """

    origin = "user"
    error_code = "USER:AdminAuthentication"


class AdminUnavailableError(RegistrationError, RecoverableSystemException):
    """The admin service could not be reached, or did not answer in time; a retry may succeed."""

    error_code = "SYSTEM:AdminUnavailable"


class InvalidPackageError(ValidationError):
    """The package cannot be registered as it is: unreadable, empty, or leaving a value open that nobody gave."""

    error_code = "USER:InvalidPackage"


@dataclasses.dataclass(frozen=True)
class RegisteredEntity:
    """One entity sent to the admin: its kind (``task``, ``workflow``, ``launch plan``), identifier and outcome.

    ``status`` is ``"registered"`` or ``"already registered"`` (the admin held this version already);
    ``activated`` tells whether a launch plan was made active.
    """

    kind: str
    project: str
    domain: str
    name: str
    version: str
    status: str
    activated: bool = False


@dataclasses.dataclass(frozen=True)
class RegistrationResult:
    """What :func:`register_package` did: the endpoint, each entity in registration order, the uploaded sources."""

    endpoint: str
    entities: tuple[RegisteredEntity, ...]
    source_uri: str | None = None

    @property
    def registered(self) -> tuple[RegisteredEntity, ...]:
        """The entities the admin did not hold before."""
        return tuple(entity for entity in self.entities if entity.status == _STATUS_REGISTERED)

    @property
    def already_registered(self) -> tuple[RegisteredEntity, ...]:
        """The entities whose version the admin held already (with the same content)."""
        return tuple(entity for entity in self.entities if entity.status == _STATUS_ALREADY_REGISTERED)

    @property
    def activated(self) -> tuple[RegisteredEntity, ...]:
        """The launch plans made active."""
        return tuple(entity for entity in self.entities if entity.activated)


@dataclasses.dataclass
class Package:
    """The parsed content of a package: flyteidl messages by kind, in file order, and the source archive.

    ``tasks`` are ``flyteidl.admin.TaskSpec``, ``workflows`` ``flyteidl.admin.WorkflowSpec``,
    ``launch_plans`` ``flyteidl.admin.LaunchPlan``; ``sources`` is ``(file name, bytes)`` of a fast
    package's source archive, or None.
    """

    tasks: list[Any]
    workflows: list[Any]
    launch_plans: list[Any]
    sources: tuple[str, bytes] | None = None


# ---------------------------------------------------------------------------------------------
# Reading a package


def _package_files(path: str) -> Iterator[tuple[str, bytes]]:
    """Yield ``(relative name, content)`` of each file of a directory or tar archive that registration reads."""
    import tarfile

    if os.path.isdir(path):
        for directory, _subdirectories, files in os.walk(path):
            for file_name in files:
                if _is_package_file(file_name):
                    full = os.path.join(directory, file_name)
                    yield os.path.relpath(full, path), _read_file(full)
        return
    try:
        with tarfile.open(path, "r:*") as archive:
            # Read into memory, never extracted: a member's name cannot write anywhere.
            members = [
                (member.name, archive.extractfile(member).read())  # type: ignore[union-attr]
                for member in archive.getmembers()
                if member.isfile() and _is_package_file(os.path.basename(member.name))
            ]
    except (tarfile.TarError, OSError, EOFError) as error:
        raise InvalidPackageError(
            f"package {path} is neither a directory nor a readable tar archive (.tgz, .tar.gz, .tar): {error}"
        ) from error
    yield from members


def _is_package_file(base: str) -> bool:
    return base.endswith(".pb") or _is_source_archive(base)


def _is_source_archive(base: str) -> bool:
    # pyflyte names the source archive of a fast package fast<digest>.tar.gz (flytectl looks for the same).
    return base.startswith("fast") and base.endswith(".tar.gz")


def _read_file(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def read_package(path: str | os.PathLike[str]) -> Package:
    """Parse the package at ``path`` (a directory or a tar archive) into flyteidl messages.

    Files are taken in name order (the ``NN_`` prefix is the order ``package`` wrote them in);
    files that are neither ``*_1.pb``/``*_2.pb``/``*_3.pb`` nor a ``fast*.tar.gz`` source archive are
    ignored. Raises :class:`InvalidPackageError` naming the package (and file) when it cannot be
    read, a ``.pb`` file does not parse or carries no index, or it holds no entity.
    """
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf.message import DecodeError

    path = os.fspath(path)
    if not os.path.exists(path):
        raise InvalidPackageError(f"package {path} does not exist")
    message_types = {
        "task": task_pb2.TaskSpec,
        "workflow": workflow_pb2.WorkflowSpec,
        "launch plan": launch_plan_pb2.LaunchPlan,
    }
    found: dict[str, list[Any]] = {kind: [] for kind in message_types}
    sources: tuple[str, bytes] | None = None
    for name, data in sorted(_package_files(path)):
        base = os.path.basename(name)
        if _is_source_archive(base):
            if sources is not None:
                raise InvalidPackageError(f"package {path} holds two source archives: {sources[0]} and {base}")
            sources = (base, data)
            continue
        match = _SPEC_FILE.search(base)
        if match is None:
            raise InvalidPackageError(
                f"package {path}: file {name} is not named NN_<name>_1.pb (task), _2.pb (workflow) or _3.pb (launch plan)"
            )
        kind = _FILE_KINDS[match["index"]]
        message = message_types[kind]()
        try:
            message.ParseFromString(data)
        except DecodeError as error:
            raise InvalidPackageError(
                f"package {path}: file {name} is not a serialized {message.DESCRIPTOR.full_name}: {error}"
            ) from error
        found[kind].append(message)
    if not any(found.values()):
        raise InvalidPackageError(f"package {path} holds no task, workflow or launch plan (*_1.pb, *_2.pb, *_3.pb)")
    return Package(found["task"], found["workflow"], found["launch plan"], sources)


# ---------------------------------------------------------------------------------------------
# Completing identifiers and fast-registration arguments


class _Hydrator:
    """Fills open identifiers in place with the registration's project, domain and version."""

    def __init__(self, project: str, domain: str, version: str | None) -> None:
        self.project = project
        self.domain = domain
        self.version = version

    def identifier(self, identifier: Any, owner: str, *, reference: bool = True) -> None:
        """Fill ``identifier`` of entity ``owner`` (its own id unless ``reference``)."""
        if not identifier.project or identifier.project == PROJECT_PLACEHOLDER:
            identifier.project = self.project
        if not identifier.domain or identifier.domain == DOMAIN_PLACEHOLDER:
            identifier.domain = self.domain
        if not identifier.version or identifier.version == VERSION_PLACEHOLDER:
            if self.version is None:
                what = f"refers to {identifier.name!r} without a version" if reference else "has no version"
                raise InvalidPackageError(f"{owner} {what}; give one with --version")
            identifier.version = self.version

    def node(self, node: Any, owner: str) -> None:
        target = node.WhichOneof("target")
        if target == "task_node":
            self.identifier(node.task_node.reference_id, owner)
        elif target == "workflow_node":
            reference = node.workflow_node.WhichOneof("reference")
            if reference is not None:
                self.identifier(getattr(node.workflow_node, reference), owner)
        elif target == "branch_node":
            if_else = node.branch_node.if_else
            self.node(if_else.case.then_node, owner)
            for block in if_else.other:
                self.node(block.then_node, owner)
            if if_else.HasField("else_node"):
                self.node(if_else.else_node, owner)
        elif target == "array_node":
            self.node(node.array_node.node, owner)
        # gate nodes reference no entity

    def workflow_template(self, template: Any, owner: str, *, own: bool) -> None:
        self.identifier(template.id, owner, reference=not own)
        for node in template.nodes:
            self.node(node, owner)
        if template.HasField("failure_node"):
            self.node(template.failure_node, owner)

    def task(self, spec: Any) -> None:
        self.identifier(spec.template.id, f"task {spec.template.id.name!r}", reference=False)

    def workflow(self, spec: Any) -> None:
        owner = f"workflow {spec.template.id.name!r}"
        self.workflow_template(spec.template, owner, own=True)
        for sub_workflow in spec.sub_workflows:
            self.workflow_template(sub_workflow, owner, own=False)

    def launch_plan(self, plan: Any) -> None:
        owner = f"launch plan {plan.id.name!r}"
        self.identifier(plan.id, owner, reference=False)
        self.identifier(plan.spec.workflow_id, owner)


def _uses_fast_registration(spec: Any) -> bool:
    return any(argument == REMOTE_PACKAGE_PLACEHOLDER for argument in _task_arguments(spec))


def _task_arguments(spec: Any) -> Iterator[str]:
    template = spec.template
    if template.HasField("container"):
        yield from template.container.args
    elif template.HasField("k8s_pod"):
        for container in template.k8s_pod.pod_spec.fields["containers"].list_value.values:
            for value in container.struct_value.fields["args"].list_value.values:
                yield value.string_value


def _substitute_fast_arguments(spec: Any, source_uri: str, destination_dir: str) -> None:
    """Replace the fast-registration placeholders of a task's container (or pod containers) arguments."""
    replacements = {REMOTE_PACKAGE_PLACEHOLDER: source_uri, DESTINATION_DIR_PLACEHOLDER: destination_dir or "."}
    template = spec.template
    if template.HasField("container"):
        arguments = template.container.args
        for index, argument in enumerate(arguments):
            if argument in replacements:
                arguments[index] = replacements[argument]
    elif template.HasField("k8s_pod"):
        for container in template.k8s_pod.pod_spec.fields["containers"].list_value.values:
            for value in container.struct_value.fields["args"].list_value.values:
                if value.string_value in replacements:
                    value.string_value = replacements[value.string_value]


def _upload_sources(sources: tuple[str, bytes], source_upload_path: str) -> str:
    """Upload a source archive under ``source_upload_path`` through taskloom's storage; return its URI.

    The archive's MD5 names its folder, so equal sources land at the same URI.
    """
    import hashlib
    import tempfile

    from taskloom.extend import upload

    name, data = sources
    uri = f"{source_upload_path.rstrip('/')}/{hashlib.md5(data).hexdigest()}/{name}"  # a name, not a MAC
    with tempfile.TemporaryDirectory(prefix="taskloom-register-") as directory:
        local = os.path.join(directory, name)
        with open(local, "wb") as handle:
            handle.write(data)
        upload(local, uri)
    return uri


# ---------------------------------------------------------------------------------------------
# Talking to the admin service


def _normalize_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip()
    endpoint = endpoint.removeprefix("dns:///")  # flytekit's configuration writes it so
    if "://" in endpoint or not endpoint:
        raise UserValueError(f"Flyte admin endpoint {endpoint!r} must be host:port (for example localhost:30080)")
    return endpoint


def _channel(endpoint: str, *, insecure: bool, ca_cert: str | None, token: str | None) -> grpc.Channel:
    import grpc

    if insecure:
        return grpc.insecure_channel(endpoint)
    root_certificates = None
    if ca_cert is not None:
        try:
            root_certificates = _read_file(ca_cert)
        except OSError as error:
            raise UserValueError(f"cannot read the CA certificate {ca_cert}: {error}") from error
    credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    if token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(endpoint, credentials)


class _Admin:
    """The four AdminService calls registration makes, with gRPC errors turned into taskloom's."""

    def __init__(self, channel: grpc.Channel, endpoint: str, *, insecure: bool, token: str | None) -> None:
        from flyteidl.service import admin_pb2_grpc

        self.stub = admin_pb2_grpc.AdminServiceStub(channel)
        self.endpoint = endpoint
        self.insecure = insecure
        self.token = token
        # Over TLS the token rides as call credentials; over plaintext gRPC allows only plain metadata.
        self.metadata = (("authorization", f"Bearer {token}"),) if token and insecure else None

    def create(self, method: str, request: Any, what: str) -> bool:
        """Send a create request; return False when the admin already holds this version (ALREADY_EXISTS)."""
        import grpc

        try:
            getattr(self.stub, method)(request, timeout=CALL_TIMEOUT, metadata=self.metadata)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                return False
            raise self.error(error, f"register {what}") from None
        return True

    def activate(self, identifier: Any, what: str) -> None:
        import grpc
        from flyteidl.admin import launch_plan_pb2

        request = launch_plan_pb2.LaunchPlanUpdateRequest(id=identifier, state=launch_plan_pb2.ACTIVE)
        try:
            self.stub.UpdateLaunchPlan(request, timeout=CALL_TIMEOUT, metadata=self.metadata)
        except grpc.RpcError as error:
            raise self.error(error, f"activate {what}") from None

    def error(self, error: grpc.RpcError, action: str) -> RegistrationError:
        import grpc

        code = error.code()
        details = error.details() or "no details"  # type: ignore[attr-defined]
        where = f"the Flyte admin service at {self.endpoint}"
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            hint = (
                f"give a bearer token with --token or ${TOKEN_ENV}"
                if not self.token
                else f"check the bearer token (--token or ${TOKEN_ENV})"
            )
            return AdminAuthenticationError(
                f"{where} refused to {action}: {code.name}: {details}; {hint}", endpoint=self.endpoint, code=code.name
            )
        if code == grpc.StatusCode.UNAVAILABLE:
            hint = (
                "check --endpoint, and whether it speaks TLS (drop --insecure)"
                if self.insecure
                else "check --endpoint, whether it speaks plaintext (--insecure) and whether its certificate is trusted (--ca-cert)"
            )
            return AdminUnavailableError(
                f"could not reach {where} to {action}: {details}; {hint}", endpoint=self.endpoint, code=code.name
            )
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return AdminUnavailableError(
                f"{where} did not answer within {CALL_TIMEOUT:g} s when asked to {action}",
                endpoint=self.endpoint,
                code=code.name,
            )
        return RegistrationError(
            f"{where} refused to {action}: {code.name}: {details}", endpoint=self.endpoint, code=code.name
        )


def _describe(kind: str, identifier: Any) -> str:
    return f"{kind} {identifier.name!r} (version {identifier.version!r})"


def _line(entity: RegisteredEntity, status: str) -> str:
    return f"{entity.kind:<11}  {entity.name}  {entity.version}  {status}"


def register_package(
    path: str | os.PathLike[str],
    *,
    endpoint: str,
    project: str,
    domain: str,
    version: str | None = None,
    insecure: bool = False,
    ca_cert: str | None = None,
    token: str | None = None,
    allow_insecure_token: bool = False,
    activate_launchplans: bool = False,
    source_upload_path: str | None = None,
    destination_dir: str = ".",
    echo: Callable[[str], Any] = print,
) -> RegistrationResult:
    """Register the package at ``path`` with the Flyte admin service at ``endpoint`` (``host:port``).

    ``project``, ``domain`` and ``version`` fill the identifiers the package leaves open (empty or
    flytekit's placeholders); ``version`` may be None when the package fixes every version. TLS is
    used unless ``insecure``, trusting ``ca_cert`` (a PEM file) or the system's roots; ``token`` is
    sent as a bearer token, over plaintext only with ``allow_insecure_token``. Launch plans with a
    schedule are activated, every launch plan with ``activate_launchplans``. A fast package's
    sources are uploaded under ``source_upload_path`` and unpacked in ``destination_dir`` by its
    tasks. ``echo`` receives one line per entity (``task  name  version  registered``) and per
    activation.

    Raises :class:`~taskloom.exceptions.user.UserValueError` before anything is sent when a token
    would go over plaintext without ``allow_insecure_token``; :class:`InvalidPackageError` before
    anything is sent when the package is unreadable or leaves a value open that is not given;
    :class:`AdminAuthenticationError`, :class:`AdminUnavailableError` or :class:`RegistrationError`
    (naming the endpoint and entity) when the admin refuses a call or cannot be reached. Entities
    registered before a failure stay registered; registering again is harmless (they come back
    ``already registered``).
    """
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from flyteidl.core import identifier_pb2

    endpoint = _normalize_endpoint(endpoint)
    if insecure and token and not allow_insecure_token:
        raise UserValueError(
            f"refusing to send the bearer token to {endpoint} in plaintext (insecure=True): pass "
            "allow_insecure_token=True to send it unencrypted on purpose, or use TLS"
        )
    package = read_package(path)
    hydrator = _Hydrator(project, domain, version)
    for spec in package.tasks:
        hydrator.task(spec)
    for spec in package.workflows:
        hydrator.workflow(spec)
    for plan in package.launch_plans:
        hydrator.launch_plan(plan)

    source_uri = None
    fast_tasks = [spec for spec in package.tasks if _uses_fast_registration(spec)]
    if fast_tasks:
        first = fast_tasks[0].template.id.name
        if package.sources is None:
            raise InvalidPackageError(
                f"task {first!r} runs code from the package's source archive, but package {os.fspath(path)} holds "
                "no fast*.tar.gz"
            )
        if not source_upload_path:
            raise InvalidPackageError(
                f"task {first!r} runs code from the package's source archive; give --source-upload-path "
                "(for example s3://bucket/fast) so that it is uploaded where tasks can fetch it"
            )
        source_uri = _upload_sources(package.sources, source_upload_path)
        for spec in fast_tasks:
            _substitute_fast_arguments(spec, source_uri, destination_dir)

    # (kind, identifier, create method, request); tasks, then workflows, then launch plans.
    requests: list[tuple[str, Any, str, Any]] = []
    for spec in package.tasks:
        identifier = _with_resource_type(spec.template.id, identifier_pb2.TASK)
        requests.append(("task", identifier, "CreateTask", task_pb2.TaskCreateRequest(id=identifier, spec=spec)))
    for spec in package.workflows:
        identifier = _with_resource_type(spec.template.id, identifier_pb2.WORKFLOW)
        request = workflow_pb2.WorkflowCreateRequest(id=identifier, spec=spec)
        requests.append(("workflow", identifier, "CreateWorkflow", request))
    for plan in package.launch_plans:
        identifier = _with_resource_type(plan.id, identifier_pb2.LAUNCH_PLAN)
        request = launch_plan_pb2.LaunchPlanCreateRequest(id=identifier, spec=plan.spec)
        requests.append(("launch plan", identifier, "CreateLaunchPlan", request))

    entities: list[RegisteredEntity] = []
    with _channel(endpoint, insecure=insecure, ca_cert=ca_cert, token=token) as channel:
        admin = _Admin(channel, endpoint, insecure=insecure, token=token)
        for kind, identifier, method, request in requests:
            created = admin.create(method, request, _describe(kind, identifier))
            entity = RegisteredEntity(
                kind,
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
                _STATUS_REGISTERED if created else _STATUS_ALREADY_REGISTERED,
            )
            entities.append(entity)
            echo(_line(entity, entity.status))
        plans = {
            (entity.name, entity.version): index
            for index, entity in enumerate(entities)
            if entity.kind == "launch plan"
        }
        for plan in package.launch_plans:
            if not (activate_launchplans or plan.spec.entity_metadata.HasField("schedule")):
                continue
            identifier = _with_resource_type(plan.id, identifier_pb2.LAUNCH_PLAN)
            admin.activate(identifier, _describe("launch plan", identifier))
            index = plans[(identifier.name, identifier.version)]
            entities[index] = dataclasses.replace(entities[index], activated=True)
            echo(_line(entities[index], "activated"))
    return RegistrationResult(endpoint, tuple(entities), source_uri)


def _with_resource_type(identifier: Any, resource_type: int) -> Any:
    """A copy of ``identifier`` with its resource type set (serialized files may leave it unspecified)."""
    copy = type(identifier)()
    copy.CopyFrom(identifier)
    copy.resource_type = resource_type
    return copy


# ---------------------------------------------------------------------------------------------
# The `loom register` command


def _setting(option: Any, env: str, key: str) -> Any:
    """The first of: the command-line value, ``$env``, the ``[flyte]`` configuration ``key``; else None."""
    if option is not None:
        return option
    value = os.environ.get(env)
    if value:
        return value
    from taskloom.extend import read_config

    return read_config().get(CONFIG_SECTION, {}).get(key)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("", "0", "false", "no", "off")


def _check_plaintext_token(endpoint: str, insecure: bool | None, allow_insecure_token: bool) -> None:
    """Let a bearer token go over plaintext only when the command line says so twice; warn when it does.

    An environment variable or a configuration file that asks for plaintext may be left over from
    a local setup: alone, it must not expose a token to the network.
    """
    if insecure is True and allow_insecure_token:
        click.echo(
            f"warning: sending the bearer token to {endpoint} unencrypted (--insecure --allow-insecure-token); "
            "anyone on the network path can read it",
            err=True,
        )
        return
    if insecure is True:
        source = "--insecure"
    elif os.environ.get(INSECURE_ENV):
        source = f"${INSECURE_ENV}"
    else:
        from taskloom.extend import config_path

        source = f"[{CONFIG_SECTION}] insecure in {config_path()}"
    raise click.ClickException(
        f"refusing to send the bearer token to {endpoint} in plaintext ({source} asks for plaintext): "
        "pass --tls to use TLS, or --insecure --allow-insecure-token to send the token unencrypted on purpose"
    )


@click.command("register")
@click.argument("package", type=click.Path(exists=True, dir_okay=True, file_okay=True))
@click.option("--endpoint", help=f"Flyte admin host:port [default: ${ENDPOINT_ENV}, else [flyte] endpoint].")
@click.option(
    "-p",
    "--project",
    help=f"Project of open identifiers [default: ${PROJECT_ENV}, else [flyte] project, else {DEFAULT_PROJECT}].",
)
@click.option(
    "-d",
    "--domain",
    help=f"Domain of open identifiers [default: ${DOMAIN_ENV}, else [flyte] domain, else {DEFAULT_DOMAIN}].",
)
@click.option("--version", help="Version of open identifiers; required unless the package fixes every version.")
@click.option(
    "--insecure/--tls",
    default=None,
    help=f"Speak plaintext instead of TLS [default: ${INSECURE_ENV}, else [flyte] insecure, else TLS]. "
    "A bearer token goes over plaintext only with --insecure and --allow-insecure-token on the command line.",
)
@click.option(
    "--ca-cert",
    type=click.Path(exists=True, dir_okay=False),
    help=f"PEM root certificates to trust for TLS [default: ${CA_CERT_ENV}, else [flyte] ca_cert, else the system's].",
)
@click.option("--token", help=f"Bearer token for the admin [default: ${TOKEN_ENV}; prefer the variable].")
@click.option(
    "--allow-insecure-token",
    is_flag=True,
    help="With --insecure on the command line: send the bearer token unencrypted anyway (a trusted network or a "
    "local port-forward only; a warning is printed). Without both flags a token is never sent in plaintext.",
)
@click.option(
    "--activate-launchplans",
    "--activate-launchplan",
    is_flag=True,
    help="Activate every launch plan (those with a schedule are always activated); deactivates earlier versions.",
)
@click.option(
    "--source-upload-path",
    help="Where to upload a fast package's source archive (for example s3://bucket/fast).",
)
@click.option(
    "-D",
    "--destination-dir",
    default=".",
    show_default=True,
    help="Directory inside the image where fast-registered tasks unpack their sources.",
)
def register_command(
    package: str,
    endpoint: str | None,
    project: str | None,
    domain: str | None,
    version: str | None,
    insecure: bool | None,
    ca_cert: str | None,
    token: str | None,
    allow_insecure_token: bool,
    activate_launchplans: bool,
    source_upload_path: str | None,
    destination_dir: str,
) -> None:
    """Register a package (directory or .tgz of flyteidl protobufs) with a Flyte admin service.

    Tasks, then workflows, then launch plans; identifiers the package leaves open get --project,
    --domain and --version. An entity whose version the admin already holds is reported as
    already registered, not as an error.
    """
    endpoint = _setting(endpoint, ENDPOINT_ENV, "endpoint")
    if not endpoint:
        raise click.UsageError(f"no Flyte admin endpoint: give --endpoint host:port or set ${ENDPOINT_ENV}")
    project = _setting(project, PROJECT_ENV, "project") or DEFAULT_PROJECT
    domain = _setting(domain, DOMAIN_ENV, "domain") or DEFAULT_DOMAIN
    plaintext = _flag(_setting(insecure, INSECURE_ENV, "insecure") or False)
    ca_cert = _setting(ca_cert, CA_CERT_ENV, "ca_cert")
    token = token or os.environ.get(TOKEN_ENV) or None
    if token and plaintext:
        _check_plaintext_token(endpoint, insecure, allow_insecure_token)
    # gRPC's C core logs failed TLS handshakes on standard error; the error printed below already
    # carries its reason. The variable is read when grpc is imported, which happens below.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    result = register_package(
        package,
        endpoint=endpoint,
        project=project,
        domain=domain,
        version=version,
        insecure=plaintext,
        ca_cert=ca_cert,
        token=token,
        allow_insecure_token=allow_insecure_token,
        activate_launchplans=activate_launchplans,
        source_upload_path=source_upload_path,
        destination_dir=destination_dir,
        echo=click.echo,
    )
    activated = len(result.activated)
    click.echo(
        f"{len(result.entities)} entities in {project}/{domain} at {result.endpoint}: "
        f"{len(result.registered)} registered, {len(result.already_registered)} already registered; "
        f"{activated} launch plan{'' if activated == 1 else 's'} activated"
    )
