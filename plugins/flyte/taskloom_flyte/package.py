"""``loom serialize`` and ``loom package``: a program's entities as the protobuf files Flyte registers.

What ``pyflyte serialize`` / ``pyflyte package`` write, so that the same tools register either:
one file per entity, numbered in registration order (an entity after everything it uses),

* ``NN_<name>_1.pb``: a task (``flyteidl.admin.TaskSpec``),
* ``NN_<name>_2.pb``: a workflow (``flyteidl.admin.WorkflowSpec``, subworkflows included),
* ``NN_<name>_3.pb``: a launch plan (``flyteidl.admin.LaunchPlan``), the default launch plan of
  every workflow included,

and, for a fast registration, the source tarball ``fast<digest>.tar.gz`` (the files of the source
root that ``.gitignore`` does not exclude). ``loom package`` puts the same files in one ``.tgz``.

The version is ``--version`` when given, else the git commit when the source root is a clean git
work tree, else a digest of the source files and the settings, so that the same code packaged the
same way gets the same version.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import importlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from taskloom.extend import Docstring, LaunchPlan, ResourceType, Translator, UserException, WorkflowBase

TASK_SUFFIX = "_1.pb"
WORKFLOW_SUFFIX = "_2.pb"
LAUNCH_PLAN_SUFFIX = "_3.pb"


class PackagingError(UserException):
    """The program cannot be packaged: nothing to import, an entity a container cannot find..."""


# --- finding the program's entities ---------------------------------------------------------


@dataclass
class Program:
    """The modules of a program, where they come from, and the tasks, workflows and launch plans they
    define, in module order (:func:`registration_order` adds what these use)."""

    source_root: str
    modules: list[str]
    files: list[str]
    entities: list[Any] = field(default_factory=list)


def load_program(target: str) -> Program:
    """Import ``target`` (a module name, a ``.py`` file or a directory) and find its entities.

    A directory is walked: every ``.py`` file under it is imported under its dotted name relative
    to the source root (the nearest directory up from it that is not a package). A file is
    imported the same way. A module name is imported from the working directory.
    """
    if os.path.isdir(target) or target.endswith(".py"):
        path = os.path.realpath(target)
        if not os.path.exists(path):
            raise PackagingError(f"{target} does not exist")
        root = path if os.path.isdir(path) else os.path.dirname(path)
        while os.path.isfile(os.path.join(root, "__init__.py")):
            root = os.path.dirname(root)
        files = _python_files(path) if os.path.isdir(path) else [path]
        modules = [_module_name(root, file) for file in files]
    else:
        root = os.getcwd()
        modules = [target]
        files = []
    if root not in sys.path:
        sys.path.insert(0, root)
    program = Program(source_root=root, modules=[], files=[])
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except (Exception, SystemExit) as error:
            raise _import_failure(module_name, root, error) from error
        program.modules.append(module_name)
        module_file = getattr(module, "__file__", None)
        if module_file:
            program.files.append(os.path.realpath(module_file))
    if not program.files:
        program.files = files
    for module_name in program.modules:
        _add_module_entities(program, sys.modules[module_name])
    if not program.entities:
        raise PackagingError(f"{target} defines no task, workflow or launch plan")
    return program


def _import_failure(module_name: str, root: str, error: BaseException) -> PackagingError:
    """One line on why ``module_name`` did not import: the error, and the line of the user's code
    that raised it (a SyntaxError names its own)."""
    if isinstance(error, SystemExit):
        what = f"it called sys.exit({error.code!r}) when imported; put script code under if __name__ == '__main__':"
    else:
        what = f"{type(error).__name__}: {error}"
    where = "" if isinstance(error, SyntaxError) else _user_line(error, root)
    message = " ".join(f"{what}{where}".split())  # a multi-line message would not read as one error line
    return PackagingError(f"cannot import {module_name!r} from {root}: {message}")


def _user_line(error: BaseException, root: str) -> str:
    """`` (file.py, line N)``: the innermost frame of the traceback in the user's files, or ``""``."""
    import traceback

    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if not os.path.isfile(frame.filename):  # <frozen importlib._bootstrap>, <string>...
            continue
        path = os.path.realpath(frame.filename)
        if os.path.commonpath([root, path]) == root and "site-packages" not in path.split(os.sep):
            return f" ({os.path.relpath(path, root)}, line {frame.lineno})"
    return ""


def _python_files(directory: str) -> list[str]:
    found = []
    for current, directories, names in os.walk(directory):
        directories[:] = sorted(d for d in directories if not d.startswith(".") and d != "__pycache__")
        found += [os.path.join(current, name) for name in sorted(names) if name.endswith(".py")]
    return found


def _module_name(root: str, file: str) -> str:
    relative = os.path.relpath(file, root)[: -len(".py")]
    parts = relative.split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _add_module_entities(program: Program, module: Any) -> None:
    from taskloom.extend import LaunchPlan, PythonTask, WorkflowBase

    for name, value in list(vars(module).items()):
        if name.startswith("_"):
            continue
        if (
            (isinstance(value, PythonTask) and _defined_in(value, module))
            or (isinstance(value, WorkflowBase) and _defined_in(value, module))
            or isinstance(value, LaunchPlan)
        ):
            program.entities.append(value)


def _defined_in(entity: Any, module: Any) -> bool:
    # An entity imported from another module belongs to that module's packaging (as with pyflyte).
    function = getattr(entity, "task_function", None) or getattr(entity, "workflow_function", None)
    defining = getattr(function, "__module__", None) if function is not None else None
    return defining is None or defining == module.__name__


def registration_order(entities: list[Any], translator: Translator) -> list[tuple[str, Any]]:
    """``(kind, entity)`` for ``entities`` and everything they use, each after what it uses (depth
    first, each once by name), every workflow followed by its default launch plan, every eager task
    by the workflow that launches it (``get_as_workflow``) and that workflow's plan, as pyflyte writes
    them; ``kind`` is ``"task"``, ``"workflow"`` or ``"launch plan"``. What a workflow uses is the
    translator's answer; reference entities are registered elsewhere and left out.
    """
    order: list[tuple[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(entity: Any) -> None:
        if getattr(entity, "is_reference", False):
            return  # registered elsewhere: nodes point at it by identifier
        if isinstance(entity, LaunchPlan):
            kind = "launch plan"
            if (kind, entity.name) not in seen:
                add(entity.workflow)  # which may add this plan: it is the workflow's default one
        elif isinstance(entity, WorkflowBase):
            kind = "workflow"
            if (kind, entity.name) not in seen:
                seen.add((kind, entity.name))  # before the nodes: a workflow may not use itself
                with _naming(kind, entity):
                    uses = translator.uses(entity)
                for used in uses:
                    add(used)
                order.append((kind, entity))
                add(LaunchPlan.get_or_create(entity))
            return
        else:
            kind = "task"
        if (kind, entity.name) not in seen:
            seen.add((kind, entity.name))
            order.append((kind, entity))
            if kind == "task" and getattr(getattr(entity, "metadata", None), "is_eager", False):
                # An eager task is launched through a workflow of its own name, and that workflow's
                # default launch plan, as pyflyte registers it.
                add(entity.get_as_workflow())

    for entity in entities:
        add(entity)
    return order


# --- versions -------------------------------------------------------------------------------


def code_digest(program: Program, settings: Any) -> str:
    """A short digest of the program's source files and the settings it is packaged with."""
    digest = hashlib.sha256()
    for path in sorted(set(program.files)):
        digest.update(os.path.relpath(path, program.source_root).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    digest.update(
        repr((settings.project, settings.domain, settings.default_image, sorted((settings.env or {}).items()))).encode()
    )
    digest.update(repr(settings.fast_serialization_settings).encode())
    return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")


def git_version(directory: str) -> str | None:
    """The HEAD commit when ``directory`` is inside a git work tree with nothing uncommitted, else None."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=normal"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if status.returncode != 0 or status.stdout.strip():
            return None
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() or None if head.returncode == 0 else None


# --- fast registration ----------------------------------------------------------------------


def source_files(root: str) -> list[str]:
    """The files and symbolic links under ``root`` (relative paths) that ``.gitignore`` files do not exclude.

    Inside a git work tree git itself answers (tracked plus untracked-but-not-ignored files);
    elsewhere the ``.gitignore`` files under ``root`` are read with git's pattern rules for the
    common cases (``name``, ``dir/``, ``/anchored``, ``*.ext``, ``**``, ``!negation``). As in git,
    a link is one entry (its target is not walked) and other special files (sockets, FIFOs) are
    left out.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "."],
            cwd=root,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        listed = None
    if listed is not None and listed.returncode == 0:
        names = [name for name in listed.stdout.decode().split("\0") if name]
        return sorted(name for name in names if _is_file_or_link(os.path.join(root, name)))
    return sorted(name for name in _walk_unignored(root) if _is_file_or_link(os.path.join(root, name)))


def _is_file_or_link(path: str) -> bool:
    return os.path.islink(path) or os.path.isfile(path)


def _walk_unignored(root: str) -> list[str]:
    found: list[str] = []
    rules: list[tuple[str, list[str]]] = []  # (directory relative to root, patterns)

    def ignored(relative: str, is_dir: bool) -> bool:
        result = False
        for base, patterns in rules:
            if base and not (relative == base or relative.startswith(base + "/")):
                continue
            inner = relative[len(base) + 1 :] if base else relative
            for pattern in patterns:
                negate = pattern.startswith("!")
                if _gitignore_match(pattern.lstrip("!"), inner, is_dir):
                    result = not negate
        return result

    for current, directories, names in os.walk(root):
        relative_dir = os.path.relpath(current, root).replace(os.sep, "/")
        relative_dir = "" if relative_dir == "." else relative_dir
        ignore_file = os.path.join(current, ".gitignore")
        if os.path.isfile(ignore_file):
            with open(ignore_file, encoding="utf-8", errors="replace") as handle:
                patterns = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
            rules.append((relative_dir, patterns))
        kept = []
        for directory in sorted(directories):
            path = f"{relative_dir}/{directory}" if relative_dir else directory
            if os.path.islink(os.path.join(current, directory)):
                # os.walk does not enter a link to a directory; git lists it as one entry, a file.
                if not ignored(path, False):
                    found.append(path)
            elif directory != ".git" and not ignored(path, True):
                kept.append(directory)
        directories[:] = kept
        for name in sorted(names):
            path = f"{relative_dir}/{name}" if relative_dir else name
            if not ignored(path, False):
                found.append(path)
    return found


def _gitignore_match(pattern: str, path: str, is_dir: bool) -> bool:
    if pattern.endswith("/"):
        if not is_dir:
            return False
        pattern = pattern.rstrip("/")
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    pattern = pattern.lstrip("/")
    if anchored:
        return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.replace("**/", ""))
    return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)


def source_tarball(root: str) -> tuple[bytes, str]:
    """A reproducible ``.tar.gz`` of :func:`source_files` and its file name ``fast<digest>.tar.gz``.

    The tarball holds regular files only: a link inside the project is replaced by what it points
    to (see :func:`_packaged_files`), since ``loom-fast-execute`` unpacks with tarfile's ``data``
    filter, which refuses absolute links, and a directory link would otherwise ship empty.
    """
    import gzip

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, path in _packaged_files(root, source_files(root)):
            info = archive.gettarinfo(path, arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path, "rb") as handle:
                archive.addfile(info, handle)
    data = gzip.compress(buffer.getvalue(), mtime=0)
    return data, f"fast{hashlib.sha256(data).hexdigest()[:32]}.tar.gz"


def _packaged_files(root: str, names: list[str]) -> list[tuple[str, str]]:
    """``(name in the tarball, path of the content)`` for each of ``names`` (from :func:`source_files`).

    A link to a file inside the project is that file's content under the link's name; a link to a
    directory inside the project is the files :func:`source_files` lists under that directory,
    under the link's name, links among them followed the same way. A link whose target is outside
    the project, does not exist, is excluded by ``.gitignore``, or contains the link itself (a
    cycle) raises :class:`PackagingError` naming the link and its target: nothing is dropped silently.
    """
    real_root = os.path.realpath(root)
    listed = set(names)
    found: list[tuple[str, str]] = []

    def refuse(name: str, why: str) -> PackagingError:
        return PackagingError(
            f"cannot package the link {name} -> {os.readlink(os.path.join(root, name))}: {why}; "
            "replace it with what it points to, or list it in .gitignore"
        )

    def add(name: str, expanding: dict[str, str]) -> None:
        """Add ``name``; ``expanding`` maps the directories being entered through links to those links."""
        path = os.path.join(root, name)
        if not os.path.islink(path):
            found.append((name, path))
            return
        target = os.path.realpath(path)
        if os.path.commonpath([real_root, target]) != real_root:
            raise refuse(name, f"it points outside the project {real_root}")
        if not os.path.exists(target):
            raise refuse(name, f"{target} does not exist")
        relative = os.path.relpath(target, real_root).replace(os.sep, "/")
        if os.path.isfile(target):
            if relative not in listed:
                raise refuse(name, f"{relative} is excluded from the package (.gitignore)")
            found.append((name, target))
            return
        if target in expanding:  # entered again through another link: report the first one
            raise refuse(expanding[target], f"{relative} contains the link itself, through {name} (a cycle)")
        where = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        if os.path.commonpath([target, where]) == target:
            raise refuse(name, f"{relative} contains the link itself (a cycle)")
        inside = sorted(listed_name for listed_name in listed if listed_name.startswith(relative + "/"))
        if not inside:
            raise refuse(name, f"nothing under {relative} is packaged (it is empty or excluded by .gitignore)")
        for listed_name in inside:
            add(name + listed_name[len(relative) :], {**expanding, target: name})

    for name in names:
        add(name, {})
    return found


# --- serialisation --------------------------------------------------------------------------


def file_number_width(count: int) -> int:
    """The digits of the files' sequence numbers, as pyflyte pads them: ``ceil(log10(count))``
    (8 files are ``0_``..``7_``, 42 are ``00_``..``41_``)."""
    import math

    return max(1, math.ceil(math.log10(count))) if count > 1 else 1


@dataclass
class Package:
    """The serialized entities: file name -> bytes, in registration order, and the version used."""

    version: str
    files: dict[str, bytes]


def serialize_program(
    program: Program,
    settings: Any,
    *,
    version: str | None = None,
    fast: bool = False,
) -> Package:
    """Serialize every entity of ``program`` under ``settings``; the version is chosen as the module says."""
    from taskloom.extend import FastSerializationSettings
    from taskloom_flyte.entrypoint import DEFAULT_IMAGE_ENV, IMAGES_ENV

    tarball = None
    if fast:
        tarball = source_tarball(program.source_root)
        settings = replace(
            settings, fast_serialization_settings=FastSerializationSettings(enabled=True, destination_dir=".")
        )
    images = {IMAGES_ENV: json.dumps(settings.images, sort_keys=True)} if settings.images else {}
    settings = replace(settings, env={DEFAULT_IMAGE_ENV: settings.default_image, **images, **(settings.env or {})})
    chosen = version or git_version(program.source_root) or code_digest(program, settings)
    settings = replace(settings, version=chosen)
    translator = Translator(settings)
    order = registration_order(program.entities, translator)
    files: dict[str, bytes] = {}
    width = file_number_width(len(order))
    for index, (kind, entity) in enumerate(order):
        with _naming(kind, entity):
            message = _message(kind, entity, translator)
        suffix = {"task": TASK_SUFFIX, "workflow": WORKFLOW_SUFFIX, "launch plan": LAUNCH_PLAN_SUFFIX}[kind]
        files[f"{index:0{width}d}_{entity.name}{suffix}"] = message.SerializeToString(deterministic=True)
    if tarball is not None:
        files[tarball[1]] = tarball[0]
    return Package(version=chosen, files=files)


def _description(entity: Any) -> Any:
    """The ``DescriptionEntity`` of a task or workflow as pyflyte writes it: the docstring's first line
    and the rest up to its first section, in reST format (present, if empty, for every entity made from a
    function; none for a map task or an instance task without docs, such as Echo)."""
    from flyteidl.admin import description_entity_pb2

    if getattr(entity, "is_array_node", False):
        return None  # flytekit's map task has no documentation of its own
    docs = getattr(entity, "docs", None)
    if docs is None and not hasattr(entity, "task_function") and not hasattr(entity, "workflow_function"):
        return None  # flytekit documents what has a docstring: a function's, not an instance task's (Echo...)
    docstring = Docstring(docs or "")
    long_description = description_entity_pb2.Description(format=description_entity_pb2.DESCRIPTION_FORMAT_RST)
    if docstring.long_description:  # value is one of a oneof: an empty one would still be written
        long_description.value = docstring.long_description
    return description_entity_pb2.DescriptionEntity(
        short_description=docstring.short_description or "", long_description=long_description
    )


def _message(kind: str, entity: Any, translator: Translator) -> Any:
    """The protobuf message of one file: a ``TaskSpec``, a ``WorkflowSpec`` (its subworkflows
    included) or a ``LaunchPlan``, made of the translator's templates."""
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    from taskloom_flyte.codec import to_proto

    # depth=: where each message sits in the file written, so that a value nested deeper than
    # protobuf's parsers read (registration reads these files) is refused here.
    if kind == "task":
        template = translator.task_template(entity)
        command = _command_of(template)
        if command is not None and not command:
            # taskloom-flyte gives no command to a task a container cannot import: say why.
            from taskloom_flyte.resolvers import find_reference

            find_reference(entity)
        return task_pb2.TaskSpec(template=to_proto(template, depth=1), description=_description(entity))
    if kind == "workflow":
        return workflow_pb2.WorkflowSpec(
            template=to_proto(translator.workflow_template(entity), depth=1),
            sub_workflows=[to_proto(template, depth=1) for template in translator.subworkflows(entity)],
            description=_description(entity),
        )
    spec = translator.launch_plan_spec(entity)
    return launch_plan_pb2.LaunchPlan(
        id=to_proto(translator.identifier(ResourceType.LAUNCH_PLAN, entity.name), depth=1),
        spec=to_proto(spec, depth=1),
        closure=launch_plan_pb2.LaunchPlanClosure(
            expected_inputs=to_proto(spec.default_inputs, depth=2),
            expected_outputs=to_proto(entity.workflow.interface.outputs, depth=2),
        ),
    )


@contextmanager
def _naming(kind: str, entity: Any) -> Iterator[None]:
    """Raise a user error of the block as a :class:`PackagingError` naming the entity."""
    try:
        yield
    except PackagingError:
        raise
    except UserException as error:
        raise PackagingError(f"{kind} {entity.name!r}: {error}") from error


def _command_of(template: Any) -> list[str] | None:
    """The command line of a task template's container (or of its pod's primary container); None for
    a task that a backend plugin runs without a container."""
    if template.container is not None:
        return list(template.container.args)
    if template.k8s_pod is not None:
        for container in template.k8s_pod.pod_spec.get("containers", []):
            if container.get("name") == template.k8s_pod.primary_container_name:
                return list(container.get("args", []))
        return []
    return None


def write_directory(package: Package, directory: str) -> list[str]:
    """Write the package's files into ``directory`` (created, parents too); return their paths.

    All or nothing: every file is written under a temporary name first and renamed once all are
    written, so that a registration never reads half a package. On failure the temporary files,
    and the directories this call created, are removed and :class:`PackagingError` says why.
    """
    created = _missing_directories(directory)
    partials: list[str] = []
    try:
        os.makedirs(directory, exist_ok=True)
        for name, data in package.files.items():
            partials.append(os.path.join(directory, f"{name}.partial"))
            with open(partials[-1], "wb") as handle:
                handle.write(data)
        written = [os.path.join(directory, name) for name in package.files]
        for partial, path in zip(partials, written):
            os.replace(partial, path)
    except BaseException as error:
        for partial in partials:
            _remove(partial)
        for made in created:
            _remove(made)
        if isinstance(error, OSError):
            why = _write_failure(directory, error)
            raise PackagingError(f"cannot write the package files to {directory}: {why}") from error
        raise
    return written


def check_archive_path(path: str, *, force: bool) -> None:
    """Refuse, before anything is built, an archive path that cannot be written: a directory, a
    place whose directory does not exist, an existing file without ``force``."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise PackagingError(f"cannot write the package to {path}: it is a directory; give the archive's file name")
    if not os.path.isdir(parent):
        missing = _missing_directories(parent)
        if missing:
            why = f"the directory {missing[-1]} does not exist"
        else:
            why = f"{_existing_file_in(parent)} is not a directory"
        raise PackagingError(f"cannot write the package to {path}: {why}")
    if os.path.exists(path) and not force:
        raise PackagingError(f"cannot write the package to {path}: it exists; pass --force to overwrite it")


def write_archive(package: Package, path: str) -> str:
    """Write the package's files into the gzipped tarball ``path``.

    It is written under a temporary name and renamed, so ``path`` is never half written; on
    failure the temporary file is removed and :class:`PackagingError` says why.
    """
    partial = f"{path}.partial"
    try:
        with tarfile.open(partial, "w:gz") as archive:
            for name, data in package.files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(data))
        os.replace(partial, path)
    except BaseException as error:
        _remove(partial)
        if isinstance(error, OSError):
            raise PackagingError(f"cannot write the package to {path}: {_write_failure(path, error)}") from error
        raise
    return path


def _missing_directories(directory: str) -> list[str]:
    """The directories that creating ``directory`` would create, deepest first."""
    missing = []
    current = os.path.abspath(directory)
    while not os.path.lexists(current):
        missing.append(current)
        current = os.path.dirname(current)
    return missing


def _existing_file_in(path: str) -> str:
    """The first component of ``path`` that exists but is not a directory (``path`` if none)."""
    current = os.sep
    for part in os.path.abspath(path).split(os.sep)[1:]:
        current = os.path.join(current, part)
        if not os.path.isdir(current):
            return current if os.path.lexists(current) else path
    return path


def _write_failure(path: str, error: OSError) -> str:
    """Why writing under ``path`` failed, in words that do not name our temporary files."""
    import errno

    if error.errno == errno.ENOENT:
        missing = _missing_directories(os.path.dirname(os.path.abspath(path)))
        if missing:
            return f"the directory {missing[-1]} does not exist"
    if error.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"{_existing_file_in(path)} is not a directory"
    return error.strerror or str(error)


def _remove(path: str) -> None:
    """Remove a file or an empty directory left by a failed write, if it is there."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)
        else:
            os.remove(path)
    except OSError:
        pass
