"""One run of the local executor: the state that its scheduler, runner and resume share.

An :class:`Execution` is made per run of a top-level entity (:meth:`LocalExecutor.execute`,
:meth:`LocalExecutor.resume`) and handed to every part that works for the run. It holds values, not
behaviour: the run's name and date, where its events go (listeners, the recorder), what a resume
may reuse, whether and why the run was interrupted, and what still runs on threads (so that an
interrupted run can name it).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import threading
from typing import Any

from taskloom.extend import Checkpoint, listeners, new_execution_name


class Execution:
    """One run of a top-level workflow: its name (unique), start date, scratch directory (for checkpoints),
    whether cached outputs are recomputed (``overwrite_cache``), the recorder its events go to (None:
    not recorded) and, when it resumes a recorded run, that run's succeeded nodes by path.
    """

    def __init__(
        self,
        overwrite_cache: bool = False,
        execution_id: str | None = None,
        previous: dict[str, Any] | None = None,
        started: float | None = None,
    ) -> None:
        self.overwrite_cache = overwrite_cache
        # Tasks get the name, and make the identifier (a contract) only if they ask for it.
        self.name: str = execution_id or new_execution_name()
        # A resume keeps the first run's date: a body that reads it builds the same graph again.
        self.date = dt.datetime.fromtimestamp(started, dt.UTC) if started else dt.datetime.now(dt.UTC)
        self.announcer = listeners()  # the plugins listening to lifecycle events, asked once per run
        self.recorder: Any = None
        self.record: Any = None  # the recorder's put (None: not recorded)
        self.store: Any = None
        self.lock: Any = None  # the execution store's lock on this execution, while it runs
        #: Seconds of a node's body after which it is written before its dependents start.
        self.durable_after = math.inf
        #: A resume: the recorded run's succeeded nodes by path (None: not a resume).
        self.previous = previous
        #: Why the run stops (``"SIGINT"``, ``"SIGTERM"``), once it was interrupted; checked before
        #: anything starts.
        self.cancelled: str | None = None
        self.running: dict[Any, str] = {}  # futures of nodes running on pool threads -> their paths
        self.threads: dict[threading.Thread, str] = {}  # attempts on threads of their own -> paths
        self.pool: Any = None  # a plugin's pool running the task bodies: stopped with the run (Ctrl-C)
        #: Whether nodes' logs are kept for the store (taskloom_local.logs; recorded runs that ask only).
        self.capture_logs = False
        self._pruned: set[str] = set()  # paths a resume runs again, with all they started
        self._children: dict[str, dict[str, Any]] = {}  # recorded children by parent path (a resume)

    def checkpoint(self, path: str) -> Checkpoint:
        """The checkpoint of the node at ``path`` (the same object for every attempt of it)."""
        import tempfile  # only for tasks that use their checkpoint

        return Checkpoint(os.path.join(tempfile.gettempdir(), f"taskloom-{self.name}", path, "checkpoint"))

    def prune(self, path: str) -> None:
        """A resume runs the node ``path`` again: forget what was recorded of it and under it."""
        self._pruned.add(path)
        if self.previous:
            below = path + "-"
            for recorded in [key for key in self.previous if key == path or key.startswith(below)]:
                del self.previous[recorded]

    def is_pruned(self, path: str) -> bool:
        """Whether ``path`` is, or is under, a node this resume runs again."""
        if not self._pruned:
            return False
        return any(path == pruned or path.startswith(pruned + "-") for pruned in self._pruned)

    def children_of(self, parent: str) -> dict[str, Any]:
        """The recorded children of ``parent``, by name (read from the store once)."""
        found = self._children.get(parent)
        if found is None:
            found = self._children[parent] = self.store.children(self.name, parent) if self.store is not None else {}
        return found


class Checkpoints:
    """Gives the node's checkpoint, made on first use (the same for every attempt of the node)."""

    __slots__ = ("_execution", "_path", "_value")

    def __init__(self, execution: Execution, path: str) -> None:
        self._execution = execution
        self._path = path
        self._value: Any = None

    def __call__(self) -> Any:
        if self._value is None:
            self._value = self._execution.checkpoint(self._path)
        return self._value


def gates_of(execution: Any, *, cancel: bool) -> None:
    """Wake the gates of ``execution`` waiting for a signal (``cancel``), or forget its signals (its end)."""
    # Signals live on the board of taskloom_local.gates: wake the execution's waiting gates (cancel) or
    # forget its signals and cancel when it ends. Nothing to do, and nothing imported, if it is not loaded.
    gate = sys.modules.get("taskloom_local.gates")
    if gate is None:
        return
    if cancel:
        gate.cancel_waits(execution.name)
    else:
        gate.clear_signals(execution.name)
