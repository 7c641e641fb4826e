"""Nodes: one call of a task or workflow inside a compiled workflow."""

from __future__ import annotations

import re
from typing import Any

from taskloom.core.promise import Promise, VoidPromise
from taskloom.exceptions.user import ValidationError

#: The settings ``with_overrides`` accepts (flytekit's names).
OVERRIDABLE = frozenset(
    {
        "node_name",
        "name",
        "resources",
        "requests",
        "limits",
        "retries",
        "timeout",
        "cache",
        "cache_version",
        "cache_serialize",
        "container_image",
        "task_config",
        "interruptible",
        "accelerator",
        "pod_template",
    }
)


class Node:
    """A call of ``entity`` (a task or a workflow) with ``bindings``, inside a workflow.

    ``bindings`` maps each input of the entity to a constant, a :class:`~taskloom.core.promise.Promise`
    of another node's output or workflow input, or a list/dict holding promises. A node runs after
    every node it takes a promise from, and after the nodes set before it with ``>>``.
    """

    def __init__(self, id: str, entity: Any, bindings: dict[str, Any]) -> None:
        self._id = id
        self._entity = entity
        self._bindings = bindings
        self._explicit_upstream: list[Node] = []
        self._inner_upstream: list[Node] = []
        self._overrides: dict[str, Any] = {}

    @property
    def id(self) -> str:
        """The node's id within its workflow (``n0``, ``n1``... or the name given by ``with_overrides``)."""
        return self._id

    @property
    def entity(self) -> Any:
        """The task or workflow this node calls."""
        return self._entity

    @property
    def bindings(self) -> dict[str, Any]:
        """Each input's value: a constant, a promise, or a list/dict holding promises."""
        return dict(self._bindings)

    @property
    def outputs(self) -> dict[str, Promise]:
        """Promises of the node's outputs by name (as the imperative ``Workflow`` API uses them)."""
        return {
            name: Promise(self, name, python_type)
            for name, python_type in self._entity.python_interface.outputs.items()
        }

    @property
    def overrides(self) -> dict[str, Any]:
        """Settings replaced for this node only (``with_overrides``)."""
        return dict(self._overrides)

    @property
    def has_overrides(self) -> bool:
        """Whether ``with_overrides`` replaced anything (executors skip copying :attr:`overrides` otherwise)."""
        return bool(self._overrides)

    @property
    def upstream_nodes(self) -> list[Node]:
        """The nodes that must finish first: producers of its promises, then ``>>`` predecessors."""
        found: dict[str, Node] = {}
        for value in self._bindings.values():
            for promise in promises_in(value):
                if promise.node is not None:
                    found.setdefault(promise.node.id, promise.node)
        for node in self._explicit_upstream:
            found.setdefault(node.id, node)
        for node in self._inner_upstream:
            found.setdefault(node.id, node)
        return list(found.values())

    def waits_for_inner(self, other: Node) -> None:
        """Make this node wait for ``other``, whose outputs a node *inside* it reads (a branch's case).

        Unlike ``>>``, templates do not list such a dependency on this node: the inner node's own
        bindings carry it, as in flytekit's branch nodes.
        """
        if other is not self and other not in self._inner_upstream:
            self._inner_upstream.append(other)

    @property
    def has_explicit_upstream(self) -> bool:
        """Whether ``>>`` made this node wait for another (only such edges can make a cycle)."""
        return bool(self._explicit_upstream)

    @property
    def explicit_upstream_nodes(self) -> list[Node]:
        """The nodes this one waits for through ``>>`` (or ``runs_before``) rather than through data."""
        return list(self._explicit_upstream)

    def runs_before(self, other: Node) -> None:
        """Make ``other`` wait for this node."""
        if other is self:
            raise ValidationError(f"node {self._id} cannot run before itself")
        if self not in other._explicit_upstream:
            other._explicit_upstream.append(self)

    def __rshift__(self, other: Any) -> Any:
        """``a >> b``: ``b`` runs after ``a``; returns ``b`` so that chains read left to right."""
        for target in _nodes_of(other):
            self.runs_before(target)
        return other

    def with_overrides(self, **overrides: Any) -> Node:
        """Replace settings for this call only: ``node_name``, resources, retries, timeout, cache,
        container_image, task_config... Unknown settings are a :class:`ValidationError`.
        """
        # Entities (base_task) import nodes: the task metadata a node overrides is imported when it does.
        from taskloom.core.base_task import TaskMetadata

        unknown = sorted(set(overrides) - OVERRIDABLE)
        if unknown:
            raise ValidationError(
                f"node {self._id}: with_overrides does not know {unknown}; known: {sorted(OVERRIDABLE)}"
            )
        if "retries" in overrides or "timeout" in overrides:
            try:  # the same rules as the task's own settings
                checked = TaskMetadata(retries=overrides.get("retries", 0), timeout=overrides.get("timeout"))
            except ValidationError as error:
                raise ValidationError(f"node {self._id}: with_overrides: {error}") from error
            if "timeout" in overrides:
                overrides = {**overrides, "timeout": checked.timeout}
        if "task_config" in overrides:
            self._entity = _with_task_config(self._id, self._entity, overrides["task_config"])
        if "node_name" in overrides:  # flytekit: the node name becomes the node's id
            self._id = node_id_for(str(overrides["node_name"]))
        self._overrides.update(overrides)
        return self

    def __repr__(self) -> str:
        return f"Node({self._id}, {getattr(self._entity, 'name', self._entity)!r})"


def _with_task_config(node_id: str, entity: Any, config: Any) -> Any:
    # flytekit replaces the config on the task itself, so every other call of the task changes too;
    # here only this node runs a copy of the task with the new config.
    current = getattr(entity, "task_config", None)
    name = getattr(entity, "name", entity)
    if current is None or not hasattr(entity, "with_task_config"):
        raise ValidationError(
            f"node {node_id}: with_overrides(task_config=...) needs a task with a task_config; {name!r} has none"
        )
    if type(config) is not type(current):
        raise ValidationError(
            f"node {node_id}: with_overrides(task_config=...) expects a {type(current).__name__} as task {name!r} "
            f"has, got {type(config).__name__}"
        )
    return entity.with_task_config(config)


#: Item types that hold no promise: a list of only these (``list(range(100_000))`` as a constant) is
#: passed over by its item types, counted in C, not walked item by item.
_SCALARS = frozenset({int, float, str, bool, bytes, type(None)})


def promises_in(value: Any) -> list[Promise]:
    """Every promise inside a binding value (a promise, or lists/tuples/dicts holding them)."""
    if isinstance(value, Promise):
        return [value]
    if isinstance(value, (list, tuple)):
        if len(value) > 8 and _SCALARS.issuperset(map(type, value)):
            return []
        return [promise for item in value for promise in promises_in(item)]
    if isinstance(value, dict):
        return [promise for item in value.values() for promise in promises_in(item)]
    return []


def _nodes_of(value: Any) -> list[Node]:
    if isinstance(value, Node):
        return [value]
    if isinstance(value, VoidPromise):
        return [value.node]
    if isinstance(value, Promise) and value.node is not None:
        return [value.node]
    if isinstance(value, tuple):  # the promises of a call with several outputs
        return list({id(node): node for item in value for node in _nodes_of(item)}.values())
    raise ValidationError(f">> needs a task's output or node on its right, got {value!r}")


def node_id_for(name: str) -> str:
    """A node id made of a user's node name: lower case, ``-`` for anything but letters and digits."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "node"
