"""Lifecycle events: what executors announce to the plugins listening (progress displays, metrics).

An executor asks :func:`listeners` once per execution for an :class:`Announcer`, then reports each
execution and node as it starts, retries and finishes. When no plugin implements the lifecycle
hooks the announcer is :data:`SILENT`, whose methods do nothing, so that announcing costs a method
call per event and builds no event object.

Events are frozen dataclasses rather than attrs classes like the contracts: ``loom run`` listens to
them (its progress display), and attrs alone costs a run ~15 ms to import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from taskloom.plugins import get_plugin_manager


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """An execution starting or finishing.

    ``execution_id`` is unique per run; ``entity`` is the name of what runs and ``kind`` what it is
    (``"workflow"``, ``"launch plan"``, ``"task"``); ``nodes`` the number of nodes of the top-level
    graph (0 for a task run alone); ``error`` the exception that ended it, or None.
    """

    execution_id: str
    entity: str
    kind: str
    nodes: int = 0
    time: dt.datetime = dataclasses.field(default_factory=_now)
    error: BaseException | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeEvent:
    """A node starting, retrying or finishing.

    ``path`` identifies the node in the execution (``n1``; a subworkflow's nodes ``n1-n0``; a map
    element ``n2-3``); ``parent`` is the path of the node whose body started it (None for nodes of
    the compiled graph); ``entity`` the task or workflow it runs; ``attempt`` the attempt number;
    ``error`` the failure, or None; ``cached`` whether its outputs came from the cache;
    ``children`` how many children the node is about to start (its ``taskloom_node_expanded`` event).
    """

    execution_id: str
    path: str
    entity: str
    parent: str | None = None
    attempt: int = 0
    time: dt.datetime = dataclasses.field(default_factory=_now)
    error: BaseException | None = dataclasses.field(default=None, compare=False)
    cached: bool = False
    children: int | None = None


class Announcer:
    """Calls the plugins listening to lifecycle events, through pluggy; made by :func:`listeners`."""

    def __init__(self, callers: dict[str, Any]) -> None:
        # hook name -> pluggy's caller, for the hooks somebody implements; a failing listener is
        # isolated by the plugin manager (reported, unregistered), so a call never raises for it.
        self._callers = callers

    @property
    def silent(self) -> bool:
        """True when nobody listens (executors may skip preparing events)."""
        return not self._callers

    def _announce(self, hook: str, event: Any) -> None:
        self._callers[hook](event=event)

    def execution_started(self, execution_id: str, entity: str, kind: str, nodes: int = 0) -> None:
        """Announce an execution starting."""
        if self._callers.get("taskloom_execution_started"):
            self._announce("taskloom_execution_started", ExecutionEvent(execution_id, entity, kind, nodes))

    def execution_finished(
        self, execution_id: str, entity: str, kind: str, error: BaseException | None = None, nodes: int = 0
    ) -> None:
        """Announce an execution ending (``error`` None on success)."""
        if self._callers.get("taskloom_execution_finished"):
            self._announce(
                "taskloom_execution_finished", ExecutionEvent(execution_id, entity, kind, nodes, error=error)
            )

    def node_started(self, execution_id: str, path: str, entity: str, parent: str | None = None) -> None:
        """Announce a node's first attempt starting."""
        if self._callers.get("taskloom_node_started"):
            self._announce("taskloom_node_started", NodeEvent(execution_id, path, entity, parent))

    def node_expanded(
        self, execution_id: str, path: str, entity: str, children: int, parent: str | None = None
    ) -> None:
        """Announce that the running node ``path`` is about to start ``children`` children (a map's elements)."""
        if self._callers.get("taskloom_node_expanded"):
            self._announce("taskloom_node_expanded", NodeEvent(execution_id, path, entity, parent, children=children))

    def node_retried(
        self, execution_id: str, path: str, entity: str, attempt: int, error: BaseException, parent: str | None = None
    ) -> None:
        """Announce a node running again after its attempt ``attempt - 1`` failed with ``error``."""
        if self._callers.get("taskloom_node_retried"):
            self._announce("taskloom_node_retried", NodeEvent(execution_id, path, entity, parent, attempt, error=error))

    def node_finished(
        self,
        execution_id: str,
        path: str,
        entity: str,
        error: BaseException | None = None,
        parent: str | None = None,
        attempt: int = 0,
        cached: bool = False,
    ) -> None:
        """Announce a node ending (``error`` None on success)."""
        if self._callers.get("taskloom_node_finished"):
            self._announce(
                "taskloom_node_finished",
                NodeEvent(execution_id, path, entity, parent, attempt, error=error, cached=cached),
            )


LIFECYCLE_HOOKS = (
    "taskloom_execution_started",
    "taskloom_execution_finished",
    "taskloom_node_started",
    "taskloom_node_retried",
    "taskloom_node_finished",
    "taskloom_node_expanded",
)

#: The announcer when nobody listens.
SILENT = Announcer({})


def listeners() -> Announcer:
    """An :class:`Announcer` for the plugins that implement lifecycle hooks now (:data:`SILENT` if none).

    Loads every enabled plugin (their hook modules are small), so call it once per execution.
    """
    relay = get_plugin_manager().hook
    callers = {hook: getattr(relay, hook) for hook in LIFECYCLE_HOOKS}
    callers = {hook: caller for hook, caller in callers.items() if caller.get_hookimpls()}
    return Announcer(callers) if callers else SILENT
