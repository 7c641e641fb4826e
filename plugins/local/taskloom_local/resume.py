"""Resuming a recorded local execution: what it starts from, and which nodes it need not run again.

:func:`start_resume` reads the execution store for :meth:`LocalExecutor.resume`: the execution's
record, its entity (loaded again when not given), its inputs, the lock that keeps a second run of it
out, and its succeeded nodes. While the run goes, the scheduler asks :func:`finished_nodes` which
nodes of a graph it may skip, and the runner and the map lanes ask :func:`reused` / :func:`recorded`
about one node or child: a node is skipped when its outputs were recorded (found by path: ``n3``,
``n1-n0`` in a subworkflow, ``n2-5`` for a map element) and what it runs is unchanged since
(:mod:`taskloom_local.fingerprints`); otherwise it is pruned (:meth:`Execution.prune`) and runs again,
with every node that depends on it, and a line on standard error says so.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import os
import sys
from typing import Any

from taskloom.extend import SILENT, Node
from taskloom_local.execution import Execution
from taskloom_local.fingerprints import entity_fingerprint, node_fingerprint
from taskloom_local.recorder import (
    NODE_REUSED,
    OUTPUTS,
    consumers_of,
    entity_name,
    graph_fingerprint,
    output_types,
)
from taskloom_local.store import STORED, SUPERSEDED, PlainValues, ResumeError, host_name


@dataclasses.dataclass
class ResumePoint:
    """What a resume starts from: the entity and inputs it runs with, the execution's record, and either
    its recorded ``outputs`` (it already succeeded: nothing runs) or the ``lock`` held on it and its
    succeeded nodes by path (``previous``), for the run to reuse.
    """

    entity: Any
    graph: Any  # the workflow the entity runs (a launch plan's workflow)
    inputs: dict[str, Any]
    record: Any
    outputs: dict[str, Any] | None = None
    lock: Any = None
    previous: dict[str, Any] | None = None


def start_resume(store: Any, execution_id: str, entity: Any, inputs: dict[str, Any]) -> ResumePoint:
    """Read what a resume of ``execution_id`` in ``store`` starts from (see :meth:`LocalExecutor.resume`).

    Unless the execution already succeeded, the point holds the store's lock on it: the caller
    releases it when the run ends (or fails to start). Raises :class:`~taskloom_local.store.ResumeError`
    for an unknown id, another entity, other inputs, a graph that changed, or a run of it going on.
    """
    record, entity = _recorded_execution(store, execution_id, entity)
    lock = store.hold(execution_id)  # one run of an execution at a time: a second resume is refused here
    try:
        record = store.execution(execution_id) or record  # as the last holder left it
        # The lock says who runs it on this machine (a pid can be reused); another machine's
        # run sharing this directory is taken at its word.
        if record.status == "running" and record.host not in (None, host_name()):
            raise ResumeError(
                f"execution {execution_id} is still running (process {record.pid} on {record.host}); "
                "resume it once that process has ended"
            )
        inputs = recorded_inputs(store, record, entity, inputs)
        graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
        if record.status == "succeeded":
            outputs = _succeeded_outputs(store, execution_id, record, graph)
            sys.stderr.write(f"execution {execution_id} already succeeded: nothing to run\n")
            lock.release()
            return ResumePoint(entity, graph, inputs, record, outputs=outputs)
        previous = {node.path: node for node in store.nodes(execution_id) if node.status == "succeeded"}
    except BaseException:
        lock.release()
        raise
    return ResumePoint(entity, graph, inputs, record, lock=lock, previous=previous)


def _recorded_execution(store: Any, execution_id: str, entity: Any) -> tuple[Any, Any]:
    """The record of ``execution_id`` and the entity it ran (loaded when ``entity`` is None), checked
    to be that entity with the same graph.
    """
    record = store.execution(execution_id)
    if record is None:
        raise ResumeError(f"no execution {execution_id!r} is recorded in {store.directory}")
    if entity is None:
        entity = _load_entity(record)
    elif not _same_entity(record.entity, record.module, entity.name):
        raise ResumeError(
            f"execution {execution_id} ran the {record.kind} {record.entity!r}, not {entity.name!r}; "
            "a resume runs what the execution ran"
        )
    if record.status != "succeeded" and record.graph is not None and record.graph != graph_fingerprint(entity):
        raise ResumeError(
            f"the graph of {record.entity!r} changed since execution {execution_id} ran (nodes added, "
            "removed or rewired): its nodes are found by path, so it cannot be resumed; start a new run"
        )
    return record, entity


def _succeeded_outputs(store: Any, execution_id: str, record: Any, graph: Any) -> dict[str, Any]:
    """The recorded outputs of an execution that succeeded."""
    if record.outputs is None and graph.python_interface.outputs:
        raise ResumeError(f"execution {execution_id} succeeded, but its outputs were not recorded ({record.note})")
    if record.outputs is None:
        return {}
    return store.read_values(
        execution_id,
        record.outputs,
        graph.python_interface.outputs,
        entity=f"execution {execution_id}",
        direction="output",
    )


def _same_entity(recorded: str, module: str | None, name: str) -> bool:
    # A script run as __main__ names its entities "__main__.wf"; loaded by `loom run` they are "flows.wf".
    if recorded == name:
        return True
    short = recorded.rsplit(".", 1)[-1]
    return (module == "__main__" or name.startswith("__main__.")) and name.rsplit(".", 1)[-1] == short


def _load_entity(record: Any) -> Any:
    """The entity an execution ran, from its module (imported) or its file (loaded as ``loom run`` does)."""
    from taskloom.extend import entities_of, load_module  # loom run's loader: only when the entity is not given

    modules = []
    if record.module and record.module != "__main__":
        try:
            modules.append(sys.modules.get(record.module) or importlib.import_module(record.module))
        except Exception:  # not importable from here: try its file
            pass
    if record.file and os.path.isfile(record.file):
        modules.append(load_module(record.file))
    for module in modules:
        for entity in entities_of(module).values():
            if _same_entity(record.entity, record.module, entity.name):
                return entity
    source = record.file or record.module or "an unknown module"
    raise ResumeError(
        f"execution {record.id} ran {record.entity!r} from {source}, which cannot be found now; "
        "pass the entity (resume(execution_id, entity)) or run `loom run FILE ENTITY --resume ID`"
    )


def recorded_inputs(store: Any, record: Any, entity: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The inputs a resume runs with: the recorded ones, which ``given`` must match where it has a value."""
    from taskloom.extend import TypeEngine  # literals: only where recorded values are read back

    types = entity.python_interface.inputs
    unknown = sorted(set(given) - set(types))
    if unknown:
        raise ResumeError(f"{entity.name!r} has no input {unknown[0]!r}; its inputs are {sorted(types)}")
    label = f"execution {record.id}"
    if record.inputs is None:
        missing = sorted(set(types) - set(given))
        if missing and record.status != "succeeded":
            raise ResumeError(
                f"{label}: its inputs were not recorded ({record.note}); give them all to resume it, missing {missing}"
            )
        return dict(given)
    try:
        recorded = store.read_literals(record.id, record.inputs, types)
    except (OSError, ValueError) as error:
        raise ResumeError(f"{label}: its recorded inputs cannot be read: {error}") from error
    if given:
        literals = TypeEngine.dict_to_literal_map(
            None, given, {name: types[name] for name in given}, entity=label
        ).literals
        differing = sorted(name for name, literal in literals.items() if recorded.literals.get(name) != literal)
        if differing:
            values = TypeEngine.literal_map_to_kwargs(None, recorded, types, entity=label)
            shown = ", ".join(f"{name}={values[name]!r} (given {given[name]!r})" for name in differing)
            raise ResumeError(
                f"{label} ran with {shown}: a resume runs with the recorded inputs; start a new run for other inputs"
            )
    return TypeEngine.literal_map_to_kwargs(None, recorded, types, entity=label)


# ---------------------------------------------------------------------------------------------
# Nodes a resume skips


def finished_nodes(
    workflow: Any, waiting_on: dict[str, set[str]], execution: Execution, prefix: str
) -> dict[str, dict[str, Any]]:
    """The nodes of ``workflow`` a resume skips, with their outputs: those recorded as succeeded
    whose outputs can be read back, and those whose outputs were not written because every
    consumer had finished, if every consumer is skipped too (so nobody reads them). A node
    whose fingerprint changed, and every node downstream of it, is not skipped (and what was
    recorded under it is forgotten).

    ``waiting_on`` gives each node's upstream node ids; ``prefix`` the paths of the workflow's
    nodes (the id of the node that runs a subworkflow, and ``-``).
    """
    nodes = {node.id: node for node in workflow.nodes}
    order = _topological_order(waiting_on)
    invalid = _invalidate_changed(nodes, order, waiting_on, execution, prefix)
    previous = execution.previous or {}
    consumers = consumers_of(workflow)
    finished: dict[str, dict[str, Any]] = {}
    for node_id in reversed(order):  # consumers are decided first
        if node_id in invalid:
            continue
        record = previous.get(f"{prefix}{node_id}")
        entity = nodes[node_id].entity
        if record is None or record.entity != entity_name(entity):
            continue
        if record.outputs_state == STORED:
            outputs = _recorded_outputs(record, entity, execution)
            if outputs is not None:
                finished[node_id] = outputs
        elif record.outputs_state == SUPERSEDED and all(
            consumer != OUTPUTS and consumer in finished for consumer in consumers[node_id]
        ):
            finished[node_id] = {}
    return finished


def _invalidate_changed(
    nodes: dict[str, Node], order: list[str], waiting_on: dict[str, set[str]], execution: Execution, prefix: str
) -> set[str]:
    """The ids of the nodes that run again: pruned ones, those whose fingerprint changed and every node
    downstream of them; each is pruned, and the changed ones are named on standard error.
    """
    previous = execution.previous or {}
    changed: list[str] = []
    invalid: set[str] = set()
    for node_id in order:  # upstream first: a node downstream of a changed one runs again too
        path = f"{prefix}{node_id}"
        if execution.is_pruned(path) or any(upstream in invalid for upstream in waiting_on[node_id]):
            invalid.add(node_id)
            continue
        record = previous.get(path)
        if record is not None and record.fingerprint != node_fingerprint(nodes[node_id]):
            invalid.add(node_id)
            changed.append(node_id)
    for node_id in invalid:
        execution.prune(f"{prefix}{node_id}")
    if changed:
        _say_changed(
            execution,
            [(f"{prefix}{node_id}", nodes[node_id].entity) for node_id in changed],
            len(invalid) - len(changed),
        )
    return invalid


def reuse(entity: Any, path: str, outputs: dict[str, Any], execution: Execution, parent: str | None) -> dict[str, Any]:
    """Give a node's recorded ``outputs`` in place of running it (announced as a cached node)."""
    execution.record((NODE_REUSED, execution.name, path, parent))
    announce = execution.announcer
    if announce is not SILENT:
        name = getattr(entity, "name", path)
        announce.node_started(execution.name, path, name, parent)
        announce.node_finished(execution.name, path, name, None, parent, cached=True)
    return outputs


def reused(node: Node, path: str, execution: Execution, parent: str | None) -> dict[str, Any] | None:
    """A node's recorded outputs when a resume can skip it (None: it runs): a graph node by its
    row, a child (``parent`` set) from its parent's chunks; either only if what it runs is
    unchanged.
    """
    outputs = recorded(node, path, execution, parent)
    return None if outputs is None else reuse(node.entity, path, outputs, execution, parent)


def recorded(node: Node, path: str, execution: Execution, parent: str | None) -> dict[str, Any] | None:
    """:func:`reused` without announcing or recording the reuse (a map element's outcome is read by
    the recorder from the map's list instead).
    """
    if execution.is_pruned(path):
        return None
    entity = node.entity
    if parent is not None:
        found = execution.children_of(parent).get(path[len(parent) + 1 :])
        if found is None or found[0] != entity_fingerprint(entity):
            return None
        try:
            return _child_outputs(found[1], entity)
        except Exception:  # unreadable, or of other types now: it runs again
            return None
    record = execution.previous.get(path)  # type: ignore[union-attr]
    if record is None or record.outputs_state != STORED or record.entity != entity_name(entity):
        return None
    if record.fingerprint != node_fingerprint(node):
        _say_changed(execution, [(path, entity)], 0)
        execution.prune(path)
        return None
    return _recorded_outputs(record, entity, execution)


def _recorded_outputs(record: Any, entity: Any, execution: Execution) -> dict[str, Any] | None:
    """A node's recorded outputs as Python values, or None when they cannot be read (it runs again)."""
    if record.outputs is None:
        return {}  # it had none
    try:
        return execution.store.read_values(
            execution.name,
            record.outputs,
            output_types(entity),
            entity=repr(entity_name(entity)),
            direction="output",
        )
    except Exception:  # missing, damaged or no longer of the node's types: run the node again
        return None


def _child_outputs(recorded: Any, entity: Any) -> dict[str, Any]:
    """A recorded child's outputs as Python values (``recorded``: plain values, a literal map or None)."""
    from taskloom.extend import TypeEngine  # literals: only where recorded values are read back

    if recorded is None:
        return {}
    types = output_types(entity)
    if isinstance(recorded, PlainValues):
        values = recorded.exact_values(types)
        if values is not None:
            return values
        recorded = recorded.to_literal_map(types)
    return TypeEngine.literal_map_to_kwargs(None, recorded, types, entity=repr(entity_name(entity)), direction="output")


def _say_changed(execution: Execution, changed: list[tuple[str, Any]], dependents: int) -> None:
    """Tell the user that a resume runs nodes again because what they run changed."""
    shown = ", ".join(f"{path} ({entity_name(entity)})" for path, entity in changed)
    more = f", with {dependents} node{'s' if dependents != 1 else ''} downstream" if dependents else ""
    sys.stderr.write(
        f"resuming execution {execution.name}: {shown} changed since the execution ran (code, interface, cache "
        f"version or constant inputs); {'it runs' if len(changed) == 1 else 'they run'} again{more}\n"
    )


def _topological_order(waiting_on: dict[str, set[str]]) -> list[str]:
    """Node ids such that each comes after every node it waits on."""
    remaining = {node_id: len(upstream) for node_id, upstream in waiting_on.items()}
    downstream: dict[str, list[str]] = collections.defaultdict(list)
    for node_id, upstream in waiting_on.items():
        for upstream_id in upstream:
            downstream[upstream_id].append(node_id)
    order = [node_id for node_id, count in remaining.items() if count == 0]
    for node_id in order:  # grows while it is walked
        for child in downstream[node_id]:
            remaining[child] -= 1
            if remaining[child] == 0:
                order.append(child)
    return order
