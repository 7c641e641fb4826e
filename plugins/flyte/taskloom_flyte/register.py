"""Register a package of flyteidl protobufs with a Flyte admin service: ``loom register``.

A package is what ``loom package`` / ``loom serialize`` (and flytekit's ``pyflyte package`` /
``pyflyte serialize``) write; :mod:`taskloom_flyte.package_reader` reads it, and
:mod:`taskloom_flyte.admin` holds the client that talks to the admin service (gRPC, TLS, the
bearer token). This module holds what registration does with them, and the command.

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

A bearer token crosses the network unencrypted over a plaintext channel, so it is sent there only on
an explicit opt-in: ``allow_insecure_token=True``, which ``loom register`` passes only when
``--insecure`` and ``--allow-insecure-token`` are both on its command line (and then warns on
standard error). An insecure setting from the environment or the configuration file alone never
sends a token: the command refuses, before connecting, and says what to pass.

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
from collections.abc import Callable
from typing import Any

import click

from taskloom.extend import UserValueError
from taskloom_flyte.admin import (
    TOKEN_ENV,
    AdminAuthenticationError,
    AdminClient,
    AdminUnavailableError,
    RegistrationError,
    normalize_endpoint,
)
from taskloom_flyte.package_reader import (
    InvalidPackageError,
    Package,
    complete_identifiers,
    fast_tasks,
    fill_fast_arguments,
    read_package,
)

# Registration's API as it was when all of it lived here: its errors and the package it reads.
__all__ = [
    "AdminAuthenticationError",
    "AdminUnavailableError",
    "InvalidPackageError",
    "Package",
    "RegisteredEntity",
    "RegistrationError",
    "RegistrationResult",
    "read_package",
    "register_command",
    "register_package",
]

#: Environment variables read by ``loom register`` (flytekit's names, except the token's).
ENDPOINT_ENV = "FLYTE_PLATFORM_URL"
INSECURE_ENV = "FLYTE_PLATFORM_INSECURE"
CA_CERT_ENV = "FLYTE_PLATFORM_CA_CERT_FILE_PATH"
PROJECT_ENV = "FLYTE_DEFAULT_PROJECT"
DOMAIN_ENV = "FLYTE_DEFAULT_DOMAIN"
#: The section of taskloom's configuration file read by ``loom register``.
CONFIG_SECTION = "flyte"
#: flytekit's defaults for project and domain.
DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"

_STATUS_REGISTERED = "registered"
_STATUS_ALREADY_REGISTERED = "already registered"


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
    endpoint = normalize_endpoint(endpoint)
    if insecure and token and not allow_insecure_token:
        raise UserValueError(
            f"refusing to send the bearer token to {endpoint} in plaintext (insecure=True): pass "
            "allow_insecure_token=True to send it unencrypted on purpose, or use TLS"
        )
    package = read_package(path)
    complete_identifiers(package, project=project, domain=domain, version=version)
    source_uri = _fill_fast_registration(package, os.fspath(path), source_upload_path, destination_dir)
    requests = _create_requests(package)
    with AdminClient(endpoint, insecure=insecure, ca_cert=ca_cert, token=token) as admin:
        entities = _create(admin, requests, echo)
        _activate(admin, package, entities, activate_launchplans, echo)
    return RegistrationResult(endpoint, tuple(entities), source_uri)


def _fill_fast_registration(
    package: Package, path: str, source_upload_path: str | None, destination_dir: str
) -> str | None:
    """Upload a fast package's sources and fill its tasks' placeholders; return the sources' URI
    (None: no task of the package runs code from its source archive).
    """
    tasks = fast_tasks(package)
    if not tasks:
        return None
    first = tasks[0].template.id.name
    if package.sources is None:
        raise InvalidPackageError(
            f"task {first!r} runs code from the package's source archive, but package {path} holds no fast*.tar.gz"
        )
    if not source_upload_path:
        raise InvalidPackageError(
            f"task {first!r} runs code from the package's source archive; give --source-upload-path "
            "(for example s3://bucket/fast) so that it is uploaded where tasks can fetch it"
        )
    source_uri = _upload_sources(package.sources, source_upload_path)
    for spec in tasks:
        fill_fast_arguments(spec, source_uri, destination_dir)
    return source_uri


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


def _create_requests(package: Package) -> list[tuple[str, Any, str, Any]]:
    """``(kind, identifier, AdminService method, request)`` per entity: tasks, then workflows, then launch plans."""
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from flyteidl.core import identifier_pb2

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
    return requests


def _create(
    admin: AdminClient, requests: list[tuple[str, Any, str, Any]], echo: Callable[[str], Any]
) -> list[RegisteredEntity]:
    """Send each create request in order; the entities with their outcome, each echoed as it comes."""
    entities: list[RegisteredEntity] = []
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
    return entities


def _activate(
    admin: AdminClient,
    package: Package,
    entities: list[RegisteredEntity],
    activate_launchplans: bool,
    echo: Callable[[str], Any],
) -> None:
    """Activate the launch plans with a schedule (every one with ``activate_launchplans``), marking
    them activated in ``entities``.
    """
    from flyteidl.core import identifier_pb2

    plans = {
        (entity.name, entity.version): index for index, entity in enumerate(entities) if entity.kind == "launch plan"
    }
    for plan in package.launch_plans:
        if not (activate_launchplans or plan.spec.entity_metadata.HasField("schedule")):
            continue
        identifier = _with_resource_type(plan.id, identifier_pb2.LAUNCH_PLAN)
        admin.activate(identifier, _describe("launch plan", identifier))
        index = plans[(identifier.name, identifier.version)]
        entities[index] = dataclasses.replace(entities[index], activated=True)
        echo(_line(entities[index], "activated"))


def _describe(kind: str, identifier: Any) -> str:
    return f"{kind} {identifier.name!r} (version {identifier.version!r})"


def _line(entity: RegisteredEntity, status: str) -> str:
    return f"{entity.kind:<11}  {entity.name}  {entity.version}  {status}"


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
