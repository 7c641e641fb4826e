"""flytekit 1.16 as the reference for ``loom package``: package a program with it, and summarise packages.

A program written for flytekit must package, under taskloom, into the same Flyte entities. This
module holds the flytekit side of that comparison and the comparison itself:

* :func:`flytekit_python` finds or creates a virtual environment with flytekit 1.16;
* :func:`write_programs` copies the example programs (``programs/``) into a directory, as written
  for flytekit or with their imports rewritten for taskloom;
* :func:`package_with_flytekit` runs ``pyflyte package`` on them and unpacks the ``.pb`` files;
* :func:`graph_summary` reads ``.pb`` files written by either SDK into a JSON-able structure in which
  what legitimately differs between two SDKs (versions, images, container arguments, node ids...)
  is normalised away, so that two summaries compare with ``==``; :func:`summary_differences`
  lists where two summaries differ.

Only the standard library is imported here; flyteidl and protobuf are imported by the functions
that read ``.pb`` files, so the module loads in any environment that has them (the main venv does).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

#: The flytekit release the packages are compared with.
FLYTEKIT_VERSION = "1.16.31"

_REPOSITORY = Path(__file__).resolve().parents[3]
_VENV = _REPOSITORY / ".venvs" / "flytekit-1.16"
# The benchmarks build the same environment; reusing it saves a ~1 minute install on this machine.
_BENCHMARK_VENV = _REPOSITORY / "benchmarks" / ".venvs" / "flytekit-1.16"

#: The example programs, written against flytekit (see ``programs/__init__.py``).
PROGRAMS = Path(__file__).resolve().parent / "programs"

# `pyflyte package` names each file NN_<entity name>_<kind>.pb; the kind says which admin message it holds.
_FILE_NAME = re.compile(r"^(?P<index>\d+)_(?P<name>.+)_(?P<kind>[123])\.pb$")
_FILE_KINDS = {"1": "task", "2": "workflow", "3": "launch_plan"}

# `from flytekit import ...`, `from flytekit.x import ...`, `import flytekit`: the part to rewrite.
_IMPORT_OF_FLYTEKIT = re.compile(r"^(\s*(?:from|import)\s+)flytekit\b", re.MULTILINE)

# Node ids an SDK makes up (flytekit: n0, n1... in creation order), as opposed to ids a user chose
# with `with_overrides(node_name=...)`.
_GENERATED_NODE_ID = re.compile(r"^n\d+$")


# ---------------------------------------------------------------------------------------------
# flytekit and its virtual environment
# ---------------------------------------------------------------------------------------------


def flytekit_python() -> Path:
    """Return the Python of a virtual environment with flytekit 1.16, creating it if needed.

    Reuses ``<repo>/.venvs/flytekit-1.16`` or, failing that, the benchmarks' environment
    ``<repo>/benchmarks/.venvs/flytekit-1.16`` when either has flytekit 1.16.x; otherwise creates
    the first with ``python -m venv`` and ``pip install flytekit==1.16.31`` (from PyPI). A file lock
    lets parallel test processes share one creation. Raises RuntimeError if the install fails.
    """
    _VENV.parent.mkdir(parents=True, exist_ok=True)
    with _locked(_VENV.parent / "flytekit-1.16.lock"):
        for venv in (_VENV, _BENCHMARK_VENV):
            python = venv / "bin" / "python"
            if _flytekit_version(python).startswith("1.16."):
                _add_table_libraries(python)
                return python
        if _VENV.exists():  # a creation that was interrupted
            shutil.rmtree(_VENV)
        steps = (
            [sys.executable, "-m", "venv", str(_VENV)],
            [str(_VENV / "bin" / "pip"), "install", "-q", f"flytekit=={FLYTEKIT_VERSION}", *_TABLE_LIBRARIES],
        )
        for command in steps:
            done = subprocess.run(command, check=False, capture_output=True, text=True, env=_clean_environment())
            if done.returncode:
                shutil.rmtree(_VENV, ignore_errors=True)
                raise RuntimeError(f"creating the flytekit environment: {' '.join(command)} failed:\n{done.stderr}")
        return _VENV / "bin" / "python"


#: What flytekit needs for programs with tables (pandas annotations, its Parquet handlers): flytekit does
#: not depend on them. taskloom-arrow's parity tests (tests/integration/test_arrow_parity.py) use them.
_TABLE_LIBRARIES = ("pandas", "pyarrow")


def _add_table_libraries(python: Path) -> None:
    """Install pandas and pyarrow into an existing flytekit environment that lacks them (only adds)."""
    probe = "import pandas, pyarrow"
    if subprocess.run(
        [str(python), "-c", probe], check=False, capture_output=True, env=_clean_environment()
    ).returncode:
        command = [str(python), "-m", "pip", "install", "-q", *_TABLE_LIBRARIES]
        done = subprocess.run(command, check=False, capture_output=True, text=True, env=_clean_environment())
        if done.returncode:
            raise RuntimeError(
                f"adding table libraries to the flytekit environment: {' '.join(command)} failed:\n{done.stderr}"
            )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flytekit_version(python: Path) -> str:
    if not python.exists():
        return ""
    probe = "import importlib.metadata as m; print(m.version('flytekit'))"
    done = subprocess.run(
        [str(python), "-c", probe], check=False, capture_output=True, text=True, env=_clean_environment()
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def _clean_environment() -> dict[str, str]:
    # The flytekit environment must see none of the calling environment's packages.
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


# ---------------------------------------------------------------------------------------------
# Example programs and packaging
# ---------------------------------------------------------------------------------------------


def write_programs(directory: Path, *, sdk: str = "flytekit", sources: Path = PROGRAMS) -> Path:
    """Copy the example programs (the modules of ``sources``, these tests' ``programs/`` by default) into the
    package ``directory/programs`` and return ``directory``.

    ``sdk="taskloom"`` rewrites ``flytekit`` to ``taskloom`` in their import statements: the same
    program, ported the way a user ports one. Entity names (``programs.basics.split``...) are the same in both
    copies because the package name is. ``directory`` is then the working directory to package in.
    """
    if sdk not in ("flytekit", "taskloom"):
        raise ValueError(f"write_programs: sdk must be 'flytekit' or 'taskloom', got {sdk!r}")
    target = directory / PROGRAMS.name
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").touch()
    for source in sorted(sources.glob("*.py")):
        text = source.read_text()
        if sdk == "taskloom":
            text = _IMPORT_OF_FLYTEKIT.sub(r"\1taskloom", text)
        (target / source.name).write_text(text)
    return directory


def serialize_with_taskloom(program_dir: Path, out_dir: Path, *, image: str = "ghcr.io/example/image:1") -> list[Path]:
    """Package the package ``programs`` of ``program_dir`` with taskloom (``loom serialize``, this interpreter's)
    into ``out_dir`` and return the ``.pb`` files, sorted: taskloom's side of :func:`package_with_flytekit`."""
    loom = Path(sys.executable).parent / "loom"
    done = subprocess.run(
        [str(loom), "serialize", "programs", "--image", f"default={image}", "-o", str(out_dir)],
        capture_output=True,
        text=True,
        cwd=program_dir,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return sorted(out_dir.glob("*.pb"))


def package_with_flytekit(
    program_dir: Path,
    out_dir: Path,
    *,
    modules: list[str] | None = None,
    image: str = "ghcr.io/example/image:1",
) -> list[Path]:
    """Package ``modules`` of ``program_dir`` with flytekit 1.16 and return the ``.pb`` files, sorted.

    Runs ``pyflyte --pkgs MODULE... package --image IMAGE -o out_dir/flyte-package.tgz --force`` in
    ``program_dir`` and unpacks the archive into ``out_dir`` (``.pb`` files already there are
    removed first). ``modules`` defaults to every package and module directly in ``program_dir``.
    ``pyflyte package`` takes no project, domain or version: its identifiers carry none (they are
    filled in when the package is registered). Raises RuntimeError with pyflyte's output if it fails.
    """
    if modules is None:
        modules = sorted(
            entry.stem if entry.suffix == ".py" else entry.name
            for entry in program_dir.iterdir()
            if (entry.suffix == ".py" and entry.is_file()) or (entry / "__init__.py").is_file()
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.pb"):
        stale.unlink()
    archive = out_dir / "flyte-package.tgz"
    pyflyte = flytekit_python().parent / "pyflyte"
    command = [str(pyflyte)]
    for module in modules:
        command += ["--pkgs", module]
    command += ["package", "--image", image, "-o", str(archive), "--force"]
    done = subprocess.run(
        command, check=False, cwd=program_dir, capture_output=True, text=True, env=_clean_environment()
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed in {program_dir}:\n{done.stdout}\n{done.stderr}")
    with tarfile.open(archive) as tar:
        tar.extractall(out_dir, filter="data")
    return sorted(out_dir.glob("*.pb"))


def package_file_name_width(count: int) -> int:
    """The width of the zero-padded index in the file names of a package of ``count`` entities.

    flytekit's rule (``serialize_helpers._determine_text_chars``): ``ceil(log10(count))`` digits,
    so 10 entities are numbered 0-9 and 11 are numbered 00-10.
    """
    return math.ceil(math.log10(count)) if count else 0


# ---------------------------------------------------------------------------------------------
# Summaries of packages
# ---------------------------------------------------------------------------------------------


def graph_summary(pb_files: Iterable[Path | str], *, keep_named_ids: bool = True) -> dict[str, Any]:
    """Read the ``.pb`` files of a package and return their entities as a comparable, JSON-able dict.

    Each file is parsed by its name's suffix: ``_1.pb`` as an admin ``TaskSpec``, ``_2.pb`` as a
    ``WorkflowSpec``, ``_3.pb`` as a ``LaunchPlan``. The result is::

        {"tasks": {name: {"type", "task_type_version", "interface", "metadata", "container", ...}},
         "workflows": {name: {"interface", "nodes": {id: node}, "outputs", "subworkflows", ...}},
         "launch_plans": {name: {"workflow", "default_inputs", "fixed_inputs", "schedule",
                                 "notifications", ...}}}

        node = {"kind": "task" | "workflow" | "branch" | "gate" | "array", "entity", "name",
                "inputs": {var: binding}, "upstream": [id...], "metadata", ...}

    Interfaces map each variable to its literal type; literals, literal types and everything not
    listed below are kept as ``json_format.MessageToDict`` renders them (field names as in the
    .proto), so a field the summary does not know about is still compared. Normalised away, as
    what two SDKs may legitimately write differently:

    * identifiers keep their resource type and name (project, domain, version and org are filled in
      at registration), and the file index ``NN_`` is dropped;
    * container image, command, args and environment (each SDK has its own entrypoint), the
      containers of a pod spec likewise; the task's runtime metadata (SDK name and version);
    * descriptions: each variable's (flytekit writes the name there), the task and workflow
      documentation entities (docstrings), and a launch plan's closure (admin's to fill);
    * set-but-empty messages equal unset ones (``retries {}`` and no ``retries``), except a oneof
      case and the protobuf wrappers (``BoolValue(false)`` is not unset);
    * msgpack binaries (dataclasses) are decoded, so the order of a map's keys does not matter;
    * node ids: nodes are ordered topologically, ready nodes by their content, and ids generated by
      the SDK (``n<digits>``) are renumbered ``n0, n1...`` in that order, in every reference to
      them (bindings, upstream ids, a branch's ``n1.o0`` input names). Ids a user chose
      (``with_overrides(node_name=...)``) are kept, unless ``keep_named_ids`` is False. Nodes
      inside a branch or an array node are identified by their position and lose their ids.

    Raises ValueError for a file name that is not ``NN_<name>_<1|2|3>.pb`` and for an entity that
    appears twice.
    """
    summary: dict[str, dict[str, Any]] = {"tasks": {}, "workflows": {}, "launch_plans": {}}
    for path in map(Path, pb_files):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: not the name of a package file (NN_<name>_<1|2|3>.pb)")
        kind = _FILE_KINDS[match["kind"]]
        message = _parse(kind, path.read_bytes())
        if kind == "task":
            section, entry = "tasks", _task(message)
        elif kind == "workflow":
            section, entry = "workflows", _workflow_spec(message, keep_named_ids)
        else:
            section, entry = "launch_plans", _launch_plan(message)
        name = message["id"]["name"] if kind == "launch_plan" else message["template"]["id"]["name"]
        if name in summary[section]:
            raise ValueError(f"{path.name}: {section[:-1].replace('_', ' ')} {name!r} appears twice")
        summary[section][name] = entry
    return summary


def summary_differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """List where ``actual`` differs from ``expected`` (two summaries, or parts of them), one line each.

    Each line names the path and both values: ``workflows/w/nodes/n1/upstream: expected [...], got [...]``.
    An empty list means the two are equal.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines = []
        for key in sorted(set(expected) | set(actual), key=str):
            where = f"{path}/{key}" if path else str(key)
            if key not in actual:
                lines.append(f"{where}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                lines.append(f"{where}: unexpected {_short(actual[key])}")
            else:
                lines += summary_differences(expected[key], actual[key], where)
        return lines
    if expected != actual:
        return [f"{path or '.'}: expected {_short(expected)}, got {_short(actual)}"]
    return []


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


# --- protobuf to dict --------------------------------------------------------------------------


def _parse(kind: str, data: bytes) -> dict[str, Any]:
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
    from google.protobuf import json_format

    message = {
        "task": task_pb2.TaskSpec,
        "workflow": workflow_pb2.WorkflowSpec,
        "launch_plan": launch_plan_pb2.LaunchPlan,
    }[kind]()
    message.ParseFromString(data)
    for field in ("description", "closure"):  # docstrings; admin's computed state
        if field in message.DESCRIPTOR.fields_by_name:
            message.ClearField(field)
    _scrub(message)
    return _decode_msgpack(json_format.MessageToDict(message, preserving_proto_field_name=True))


# Fields cleared wherever their message appears: what each SDK writes its own way (see graph_summary).
_CLEARED_FIELDS = {
    "flyteidl.core.Identifier": ("project", "domain", "version", "org"),
    "flyteidl.core.Variable": ("description",),
    "flyteidl.core.TaskMetadata": ("runtime",),
    "flyteidl.core.Container": ("image", "command", "args", "env"),
}


def _scrub(message: Any) -> None:
    """Clear SDK-specific fields, and set-but-empty sub-messages outside a oneof, throughout ``message``."""
    from google.protobuf.descriptor import FieldDescriptor

    descriptor = message.DESCRIPTOR
    for name in _CLEARED_FIELDS.get(descriptor.full_name, ()):
        if name in descriptor.fields_by_name:
            message.ClearField(name)
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value.values():
                    _scrub(item)
        elif _is_repeated(field):
            for item in value:
                _scrub(item)
        elif not field.message_type.full_name.startswith("google.protobuf."):
            _scrub(value)
            if not value.ListFields() and field.containing_oneof is None:
                message.ClearField(field.name)
        elif (
            field.message_type.full_name in ("google.protobuf.Struct", "google.protobuf.Duration")
            and not value.ListFields()
            and field.containing_oneof is None
        ):
            # An empty Struct (metadata {}) or a zero Duration (timeout {}) is no value at all; the
            # wrappers (BoolValue...) are left: their false is not unset.
            message.ClearField(field.name)


def _is_repeated(field: Any) -> bool:
    # protobuf 6 added FieldDescriptor.is_repeated; protobuf 7 removed FieldDescriptor.label.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _decode_msgpack(value: Any) -> Any:
    """Replace each msgpack binary literal's bytes by the data they hold (when msgpack is installed)."""
    if isinstance(value, list):
        return [_decode_msgpack(item) for item in value]
    if not isinstance(value, dict):
        return value
    binary = value.get("binary")
    if isinstance(binary, dict) and binary.get("tag") == "msgpack" and "value" in binary:
        try:
            import msgpack

            data = msgpack.unpackb(base64.b64decode(binary["value"]), raw=False, strict_map_key=False)
        except ImportError:
            pass
        else:
            decoded = {key: item for key, item in value.items() if key != "binary"}
            decoded["binary"] = {"tag": "msgpack", "data": _jsonable(data)}
            return {key: _decode_msgpack(item) for key, item in decoded.items()}
    return {key: _decode_msgpack(item) for key, item in value.items()}


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(key): _jsonable(item) for key, item in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(item) for item in data]
    if isinstance(data, bytes):
        return {"bytes": base64.b64encode(data).decode()}
    return data


# --- tasks ---------------------------------------------------------------------------------------


def _task(spec: dict[str, Any]) -> dict[str, Any]:
    template = dict(spec["template"])
    template.pop("id")
    summary = {
        "interface": _interface(template.pop("interface", {})),
        "task_type_version": template.pop("task_type_version", 0),
    }
    pod = template.get("k8s_pod", {}).get("pod_spec", {})
    for container in pod.get("containers", []) + pod.get("init_containers", []):
        for key in ("image", "command", "args", "env"):
            container.pop(key, None)
    if "resources" in template.get("container", {}):
        template["container"]["resources"] = _resources(template["container"]["resources"])
    summary.update(template)  # type, metadata, container (its resources), custom, config, security_context...
    return summary


def _resources(resources: dict[str, Any]) -> dict[str, Any]:
    # Requests and limits are lists of {name, value}: their order is the SDK's, not the user's.
    return {
        key: sorted(items, key=lambda item: item.get("name", "")) if key in ("requests", "limits") else items
        for key, items in resources.items()
    }


def _interface(interface: dict[str, Any]) -> dict[str, Any]:
    """``{"inputs": {name: literal type}, "outputs": {...}}``; a variable with more than a type keeps all of it."""

    def variables(side: str) -> dict[str, Any]:
        found = interface.get(side, {}).get("variables", {})
        return {name: var["type"] if set(var) == {"type"} else var for name, var in found.items()}

    return {"inputs": variables("inputs"), "outputs": variables("outputs")}


# --- workflows -----------------------------------------------------------------------------------


def _workflow_spec(spec: dict[str, Any], keep_named_ids: bool) -> dict[str, Any]:
    summary = _workflow_template(spec["template"], keep_named_ids)
    summary["subworkflows"] = {
        sub["id"]["name"]: _workflow_template(sub, keep_named_ids) for sub in spec.get("sub_workflows", [])
    }
    return summary


def _workflow_template(template: dict[str, Any], keep_named_ids: bool) -> dict[str, Any]:
    template = dict(template)
    template.pop("id")
    nodes = template.pop("nodes", [])
    ids = _canonical_ids(nodes, keep_named_ids)
    summary = {
        "interface": _interface(template.pop("interface", {})),
        "nodes": {ids[node["id"]]: _node(node, ids) for node in nodes},
        "outputs": {
            output["var"]: _references(output.get("binding", {}), ids) for output in template.pop("outputs", [])
        },
    }
    if "failure_node" in template:
        summary["failure_node"] = _node(template.pop("failure_node"), ids)
    summary.update(template)  # metadata (on-failure policy, tags), metadata_defaults (interruptible)
    return summary


def _canonical_ids(nodes: list[dict[str, Any]], keep_named_ids: bool) -> dict[str, str]:
    """Map each node id of one workflow to an id that does not depend on the SDK's numbering.

    Kahn's algorithm: among the nodes whose dependencies all have their new id, the next is the
    smallest by kind, entity, name and dependencies (new ids), then by whole summary, then by the
    file's order. The coarse key first keeps one differing detail (a retry count, a literal) from
    renumbering the rest of the graph when two SDKs' summaries are diffed.
    """
    original = {node["id"] for node in nodes}
    dependencies = [_referenced_ids(node) & original - {node["id"]} for node in nodes]
    ids: dict[str, str] = {}
    remaining = list(range(len(nodes)))
    generated = 0
    while remaining:
        ready = [index for index in remaining if dependencies[index] <= ids.keys()] or remaining[:1]  # [:1]: a cycle
        chosen = min(ready, key=lambda index: _order_key(nodes[index], dependencies[index], ids, index))
        remaining.remove(chosen)
        node_id = nodes[chosen]["id"]
        if keep_named_ids and not _GENERATED_NODE_ID.match(node_id):
            ids[node_id] = node_id
        else:
            ids[node_id] = f"n{generated}"
            generated += 1
    return ids


def _order_key(node: dict[str, Any], dependencies: set[str], ids: dict[str, str], index: int) -> tuple:
    summary = _node(node, ids)
    coarse = [
        summary.get("kind", ""),
        summary.get("entity", ""),
        summary["name"],
        sorted(ids[d] for d in dependencies if d in ids),
    ]
    return json.dumps(coarse), json.dumps(summary, sort_keys=True), index


def _referenced_ids(value: Any) -> set[str]:
    """The node ids ``value`` (a node, as a dict) refers to: promises, upstream ids, ``id.var`` names."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _referenced_ids(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "node_id" and isinstance(item, str):
                found.add(item)
            elif key == "upstream_node_ids":
                found.update(item)
            elif key == "var" and isinstance(item, str) and "." in item:
                found.add(item.split(".", 1)[0])
            else:
                found |= _referenced_ids(item)
    return found


def _references(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with every reference to a node of the workflow written with the node's new id."""
    if isinstance(value, list):
        return [_references(item, ids) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        if key in ("node_id", "failed_node_id") and isinstance(item, str):
            result[key] = ids.get(item, item)
        elif key == "upstream_node_ids":
            result[key] = sorted(ids.get(node_id, node_id) for node_id in item)
        elif key == "var" and isinstance(item, str):
            result[key] = _variable(item, ids)
        else:
            result[key] = _references(item, ids)
    return result


def _variable(name: str, ids: dict[str, str]) -> str:
    # A branch names its inputs after where they come from: ".x" (a workflow input), "n1.o0" (a node output).
    node_id, dot, rest = name.partition(".")
    return f"{ids[node_id]}.{rest}" if dot and node_id in ids else name


_NODE_KINDS = {
    "task_node": "task",
    "workflow_node": "workflow",
    "branch_node": "branch",
    "gate_node": "gate",
    "array_node": "array",
}


def _node(node: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """One node, without its own id, with references to the workflow's nodes written with ``ids``."""
    node = dict(node)
    node.pop("id", None)
    metadata = dict(node.pop("metadata", {}))
    summary: dict[str, Any] = {"name": metadata.pop("name", "")}
    if metadata:
        summary["metadata"] = metadata
    summary["inputs"] = {
        _variable(item["var"], ids): _references(item.get("binding", {}), ids) for item in node.pop("inputs", [])
    }
    summary["upstream"] = sorted(ids.get(node_id, node_id) for node_id in node.pop("upstream_node_ids", []))
    for field, kind in _NODE_KINDS.items():
        if field not in node:
            continue
        body = dict(node.pop(field))
        summary["kind"] = kind
        if kind == "task":
            summary["entity"] = body.pop("reference_id", {}).get("name", "")
            if "resources" in body.get("overrides", {}):
                body["overrides"] = {**body["overrides"], "resources": _resources(body["overrides"]["resources"])}
        elif kind == "workflow":
            for reference in ("sub_workflow_ref", "launchplan_ref"):
                if reference in body:
                    summary["entity"] = body.pop(reference)["name"]
                    summary["reference"] = reference.removesuffix("_ref")
        if kind == "branch":
            body = _branch(body, ids)
        elif kind == "array":
            sub_node = _node(body.pop("node", {}), ids)
            summary["entity"] = sub_node.get("entity", "")
            body = {**_references(body, ids), "node": sub_node}
        else:
            body = _references(body, ids)
        if body:
            summary[field] = body
    summary.update(_references(node, ids))  # whatever else a node carries (output_aliases...)
    return summary


def _branch(body: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    if_else = dict(body.pop("if_else", {}))
    cases = ([if_else.pop("case")] if "case" in if_else else []) + if_else.pop("other", [])
    summary: dict[str, Any] = {
        "cases": [
            {"condition": _references(case.get("condition", {}), ids), "then": _node(case.get("then_node", {}), ids)}
            for case in cases
        ]
    }
    if "else_node" in if_else:
        summary["else"] = _node(if_else.pop("else_node"), ids)
    summary.update(_references(if_else, ids))  # error (the failure message)
    summary.update(_references(body, ids))
    return summary


# --- launch plans --------------------------------------------------------------------------------


def _launch_plan(plan: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(plan.get("spec", {}))
    metadata = spec.pop("entity_metadata", {})
    summary = {
        "workflow": spec.pop("workflow_id", {}).get("name", ""),
        "default_inputs": {
            name: {"type": parameter.get("var", {}).get("type"), **{k: v for k, v in parameter.items() if k != "var"}}
            for name, parameter in spec.pop("default_inputs", {}).get("parameters", {}).items()
        },
        "fixed_inputs": spec.pop("fixed_inputs", {}).get("literals", {}),
        "schedule": metadata.pop("schedule", None),
        "notifications": metadata.pop("notifications", []),
    }
    if metadata:
        summary["entity_metadata"] = metadata
    summary.update(spec)  # labels, annotations, max_parallelism, security_context, raw_output_data_config...
    return summary
