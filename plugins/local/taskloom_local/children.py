"""The children of a running task body on the local executor: map elements, a dynamic graph, eager calls.

:class:`LocalRunner` is the local executor's :class:`~taskloom.core.executor.Runner`, made current
while a task body runs. A child gets the treatment of any node (it goes to the same
:class:`~taskloom_local.runner.NodeRunner`), except where that treatment would be empty: the
elements of a map over a plain task (no retries, timeout, cache, storage or listeners) are called
directly in lanes, or sent to the worker processes in batches, and the recorder reads their outcomes
from the map's list instead of an event per element.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import math
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from taskloom.extend import SILENT, Node, WorkflowBase
from taskloom_local.execution import Checkpoints, Execution
from taskloom_local.recorder import ELEMENTS
from taskloom_local.resume import recorded

if TYPE_CHECKING:
    from taskloom_local.runner import NodeRunner

_clock = time.time  # when recorded events happened (a module global: read once per event)

_POOL_LOCK = threading.Lock()  # pools are made rarely: one lock for every runner


class LocalRunner:
    """Runs the children of a task's body (map elements, a dynamic graph, eager calls) as nodes of
    the same execution, named ``<prefix><name>``; :meth:`submit` uses a thread pool of its own, made
    on first use, so that a child waiting on its own children never starves its parent's pool.
    """

    __slots__ = ("_execution", "_nodes", "_parent", "_pool", "used")

    def __init__(self, nodes: NodeRunner, execution: Execution, parent: str | None) -> None:
        self._nodes = nodes
        self._execution = execution
        self._parent = parent  # the path of the node whose body runs the children (None: top level)
        self._pool: Any = None
        self.used = False  # made for every task attempt; most never start a child

    @property
    def _prefix(self) -> str:
        return f"{self._parent}-" if self._parent else ""

    def run(self, entity: Any, inputs: dict[str, Any], *, name: str) -> dict[str, Any]:
        """Run ``entity`` as the child node ``name``; return its outputs by name."""
        self.used = True
        return self._nodes.run_node(Node(name, entity, inputs), {}, self._execution, self._prefix, self._parent)

    def submit(self, entity: Any, inputs: dict[str, Any], *, name: str) -> Any:
        """Start the child node ``name`` on the pool; return its future."""
        self.used = True
        if self._pool is None:
            self._make_pool()
        # A fresh context: the child must not inherit what the parent's body made current (an
        # eager workflow's call handler); the executor gives the child its own.
        return self._pool.submit(contextvars.Context().run, self.run, entity, inputs, name=name)

    def map(
        self,
        entity: Any,
        inputs: Any,
        *,
        concurrency: int | None = None,
        on_done: Any = None,
    ) -> list[Any]:
        """Run ``entity`` per element of ``inputs`` in lanes: threads (at most ``concurrency``, and
        no more than the pool would have) that each take the next element until none is left.

        One lane runs on this thread. A lane per element would cost a thread hand-off each; lanes
        cost one per lane, so ten thousand trivial elements run at the speed of a loop.
        """
        self.used = True
        count = len(inputs)
        outcomes: list[Any] = [None] * count
        if count == 0:
            return outcomes
        execution = self._execution
        if self._parent is not None:
            execution.announcer.node_expanded(execution.name, self._parent, getattr(entity, "name", str(entity)), count)
        limit = self._nodes.max_workers or min(32, (os.cpu_count() or 1) + 4)
        lanes = min(concurrency or count, count, limit)
        if self._batchable(entity):
            return self._map_in_batches(entity, inputs, outcomes, lanes, on_done)
        run_one, direct = self._element_runner(entity)
        # Elements run directly are not events: the recorder reads what the lanes put in outcomes.
        durable = math.inf
        durations: list[float] | None = None
        if direct and execution.record is not None and self._parent is not None:
            durations = [0.0] * count  # each element's seconds, for the report's histogram
            execution.record((ELEMENTS, execution.name, self._parent, entity, outcomes, _clock(), durations))
            durable = execution.durable_after
        indices = iter(range(count))  # shared by the lanes: next() on it is atomic under the GIL
        stop = False

        def lane() -> None:
            nonlocal stop
            for index in indices:
                if stop or execution.cancelled:
                    return
                began = _clock()
                try:
                    outcome = run_one(inputs[index], str(index))
                except Exception as error:
                    outcome = error
                elapsed = _clock() - began
                if durations is not None:
                    durations[index] = elapsed
                outcomes[index] = outcome
                if elapsed >= durable:
                    # A slow element is written now, without waiting: its only dependent is the map,
                    # whose own end is made durable before anything downstream starts.
                    execution.recorder.write_soon()
                if on_done is not None and on_done(index, outcome):
                    stop = True

        if lanes == 1:
            lane()
        else:
            _run_lanes(lane, lanes, "taskloom-lane", fresh_context=True)
        if execution.cancelled:
            raise KeyboardInterrupt(execution.cancelled)
        return outcomes

    def _plain(self, entity: Any) -> bool:
        """Whether ``entity`` is a task whose elements need none of the executor's per-node services
        (retries, timeout, cache, storage, listeners, decks), so :meth:`map` may run them without the node
        bookkeeping: directly, or in batches on the worker processes.
        """
        metadata = getattr(entity, "metadata", None)
        return bool(
            metadata is not None
            and not isinstance(entity, WorkflowBase)
            and not getattr(entity, "is_launch_plan", False)
            and not getattr(entity, "is_array_node", False)
            and self._execution.announcer is SILENT
            and self._nodes.raw_output_prefix is None
            and getattr(entity, "cache", None) is None
            and metadata.retries == 0
            and metadata.timeout is None
            and not metadata.generates_deck  # each element's deck goes with its node path
        )

    def _batchable(self, entity: Any) -> bool:
        """Whether :meth:`map` sends ``entity``'s elements to worker processes in batches."""
        return bool(self._nodes.processes) and not getattr(entity, "starts_children", True) and self._plain(entity)

    def _map_in_batches(self, entity: Any, inputs: Any, outcomes: list[Any], lanes: int, on_done: Any) -> list[Any]:
        # Elements go to the workers in batches (one round trip each, not one per element); each
        # lane keeps one worker busy. As for direct elements, the recorder reads their outcomes.
        count = len(inputs)
        execution, prefix, parent = self._execution, self._prefix, self._parent
        indices: list[int] | range = range(count)
        stop = False
        if execution.previous is not None:  # a resume: elements recorded as succeeded are not sent
            indices, stop = self._unrecorded_elements(entity, count, outcomes, on_done)
        durable = math.inf
        durations: list[float] | None = None
        if execution.record is not None and parent is not None:
            # Each element's seconds for the report's histogram: a batch runs its elements one after another in one
            # worker, which answers once, so an element of a batch counts the batch's average (a slow element
            # goes alone: batches grow only while their elements are quick).
            durations = [0.0] * count
            execution.record((ELEMENTS, execution.name, parent, entity, outcomes, _clock(), durations))
            durable = execution.durable_after
        most = max(1, min(256, len(indices) // (lanes * 4)))
        # Batches grow from one element to as many as run within the durability threshold (up to
        # ``most``): elements slower than it come back, and are written, one by one; quick ones in
        # batches whose loss to a SIGKILL costs at most about that much work.
        threshold = execution.durable_after if execution.record is not None else math.inf
        cursor = iter(indices)
        take_lock = threading.Lock()
        pool = self._nodes.executor.process_pool()

        def take(size: int) -> list[int]:
            with take_lock:
                return list(itertools.islice(cursor, size))

        def lane() -> None:
            nonlocal stop
            size = 1 if threshold != math.inf else most
            while True:
                if stop or execution.cancelled:
                    return
                batch = take(size)
                if not batch:
                    return
                began = _clock()
                results = pool.run_many(
                    entity,
                    [inputs[index] for index in batch],
                    [execution.checkpoint(f"{prefix}{index}") for index in batch],
                    execution_id=execution.name,
                    execution_date=execution.date,
                    attempt=0,
                )
                took = _clock() - began
                # The worker's own time when the pool says it (TaskPool.run_many): on a cluster kept busier than
                # its workers, the round trip is mostly the queue, and would keep every batch at one element.
                each = getattr(results, "seconds", took) / len(batch)
                for index, outcome in zip(batch, results):  # outputs by name, or the exception
                    if durations is not None:
                        durations[index] = each
                    outcomes[index] = outcome
                if took >= durable:  # written now, not waited for (see map)
                    execution.recorder.write_soon()
                size = most if each <= 0 or threshold == math.inf else max(1, min(most, int(threshold / each)))
                for index, outcome in zip(batch, results):
                    if on_done is not None and on_done(index, outcome):
                        stop = True

        _run_lanes(lane, lanes, "taskloom-batch", fresh_context=False)
        if execution.cancelled:
            raise KeyboardInterrupt(execution.cancelled)
        return outcomes

    def _unrecorded_elements(
        self, entity: Any, count: int, outcomes: list[Any], on_done: Any
    ) -> tuple[list[int], bool]:
        """In a resume, fill ``outcomes`` with the elements recorded as succeeded; give the indices of
        the others, and whether ``on_done`` said to stop.
        """
        prefix, parent, execution = self._prefix, self._parent, self._execution
        indices: list[int] = []
        stop = False
        for index in range(count):
            reused = recorded(Node(str(index), entity, {}), f"{prefix}{index}", execution, parent)
            if reused is None:
                indices.append(index)
                continue
            outcomes[index] = reused
            if on_done is not None and on_done(index, reused):
                stop = True
        return indices, stop

    def _element_runner(self, entity: Any) -> tuple[Any, bool]:
        """How :meth:`map` runs one element, and whether directly: as any child, or, for a plain task
        that needs none of the executor's per-node services (no retries, timeout, cache, storage or
        listeners), by calling it directly: the same context, checks and outputs, without the node
        bookkeeping.
        """
        execution = self._execution
        if self._nodes.processes is not None or not self._plain(entity):
            return (lambda inputs, name: self.run(entity, inputs, name=name)), False
        prefix = self._prefix
        direct = self._direct_call(entity)
        if execution.previous is not None:
            return self._resumed_element_runner(entity, prefix, direct), True
        return (lambda inputs, name: direct(inputs, prefix + name)), True

    def _direct_call(self, entity: Any) -> Any:
        """``call(inputs, path)`` running one element of ``entity`` without node bookkeeping: through
        the task's prepared call (``PythonFunctionTask.prepared``) when it has one and starts no
        children, else through ``entity.run`` with a runner of its own; gives its outputs by name.
        """
        execution = self._execution
        prepared = getattr(entity, "prepared", None)
        # Not for an async task: on a lane run by a thread whose event loop is running (the calling
        # thread in a notebook), its prepared call gives the body's coroutine; run_body awaits it.
        if (
            prepared is not None
            and not getattr(entity, "starts_children", True)
            and not getattr(entity, "is_async", False)
        ):
            call = prepared(execution_id=execution.name, execution_date=execution.date)
            return lambda inputs, path: call(inputs, Checkpoints(execution, path))
        return functools.partial(self._nodes.run_body, entity, execution)

    def _resumed_element_runner(self, entity: Any, prefix: str, direct: Any) -> Any:
        """:meth:`_element_runner`'s direct call giving, in a resume, an element's recorded outputs
        instead of running it.
        """
        execution, parent = self._execution, self._parent
        node = Node("element", entity, {})

        def run_resumed(inputs: dict[str, Any], name: str) -> dict[str, Any]:
            path = prefix + name
            reused = recorded(node, path, execution, parent)
            return direct(inputs, path) if reused is None else reused

        return run_resumed

    def close(self) -> None:
        """Wait for submitted children and stop the pool (a top-level runner also stops the
        executor's worker processes).
        """
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._parent is None:
            self._nodes.executor.close()

    def abandon(self) -> None:
        """Stop the pool without waiting: queued children never start (the attempt timed out)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _make_pool(self) -> None:
        from taskloom_local.threads import DaemonThreadPool  # concurrent.futures, ~6 ms: when a body submits

        with _POOL_LOCK:
            if self._pool is None:
                self._pool = DaemonThreadPool(self._nodes.max_workers, thread_name_prefix="taskloom")


def _run_lanes(lane: Any, lanes: int, name: str, *, fresh_context: bool) -> None:
    """Run ``lane`` on ``lanes`` threads, this one among them, and wait until every one returns;
    with ``fresh_context`` each runs in an empty context (as children do), else the threads in theirs.
    """
    threads = [
        threading.Thread(
            target=contextvars.Context().run if fresh_context else lane,
            args=(lane,) if fresh_context else (),
            name=f"{name}-{number}",
            daemon=True,
        )
        for number in range(lanes - 1)
    ]
    for thread in threads:
        thread.start()
    if fresh_context:
        contextvars.Context().run(lane)  # this thread is a lane too (its own context, as the others)
    else:
        lane()
    for thread in threads:
        thread.join()
