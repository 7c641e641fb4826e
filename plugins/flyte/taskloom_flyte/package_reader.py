"""Reading a package of flyteidl protobufs, and readying it for registration.

A package is what ``loom package`` / ``loom serialize`` (:mod:`taskloom_flyte.package`) and
flytekit's ``pyflyte package`` / ``pyflyte serialize`` write: a directory or a tar archive
(``.tgz``, ``.tar.gz``, ``.tar``) holding ``NN_<name>_1.pb`` (``flyteidl.admin.TaskSpec``),
``NN_<name>_2.pb`` (``flyteidl.admin.WorkflowSpec``) and ``NN_<name>_3.pb``
(``flyteidl.admin.LaunchPlan``), plus, for a fast-registered package, the source archive
``fast*.tar.gz``. :func:`read_package` parses one into a :class:`Package`;
:func:`complete_identifiers` fills the identifiers it leaves open and :func:`fill_fast_arguments`
the fast-registration placeholders of a task's arguments, as ``flytectl register files`` does.
Nothing here talks to the admin service (:mod:`taskloom_flyte.admin`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from typing import Any

from taskloom.extend import ValidationError

# flytekit's placeholders, left by `pyflyte package`/`serialize` for registration to fill.
PROJECT_PLACEHOLDER = "{{ registration.project }}"
DOMAIN_PLACEHOLDER = "{{ registration.domain }}"
VERSION_PLACEHOLDER = "{{ registration.version }}"
REMOTE_PACKAGE_PLACEHOLDER = "{{ .remote_package_path }}"
DESTINATION_DIR_PLACEHOLDER = "{{ .dest_dir }}"

_FILE_KINDS = {"1": "task", "2": "workflow", "3": "launch plan"}
_SPEC_FILE = re.compile(r"_(?P<index>[1-3])\.pb$")


class InvalidPackageError(ValidationError):
    """The package cannot be registered as it is: unreadable, empty, or leaving a value open that nobody gave."""

    error_code = "USER:InvalidPackage"


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


def complete_identifiers(package: Package, *, project: str, domain: str, version: str | None) -> None:
    """Fill, in place, every identifier of ``package`` left open with ``project``, ``domain`` and ``version``.

    Open means empty or flytekit's placeholder (``{{ registration.project }}``...); values the
    package fixes are kept. Covered: templates, task and launch plan references of nodes (inside
    branches, array nodes and the failure node too), sub-workflows, a launch plan's workflow.
    Raises :class:`InvalidPackageError` naming the entity when a version is open and ``version``
    is None.
    """
    hydrator = _Hydrator(project, domain, version)
    for spec in package.tasks:
        hydrator.task(spec)
    for spec in package.workflows:
        hydrator.workflow(spec)
    for plan in package.launch_plans:
        hydrator.launch_plan(plan)


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


def fast_tasks(package: Package) -> list[Any]:
    """The tasks (``TaskSpec``) of ``package`` whose arguments run code from its source archive."""
    return [spec for spec in package.tasks if _uses_fast_registration(spec)]


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


def fill_fast_arguments(spec: Any, source_uri: str, destination_dir: str) -> None:
    """Replace, in place, the fast-registration placeholders of a task's container (or pod containers)
    arguments: ``{{ .remote_package_path }}`` by ``source_uri``, ``{{ .dest_dir }}`` by ``destination_dir``.
    """
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
