"""The local executor: a workflow's nodes run in this process as soon as their inputs exist.

Scheduling is dataflow, unlike flytekit's local runs (which execute nodes one after another in the
order they were written): a node is submitted to a thread pool when every node it depends on
(through a promise or ``>>``) has finished, so independent nodes run concurrently. A node that is the
only one able to run is run on the scheduling thread itself, which changes nothing about order or
concurrency and saves a thread hand-off per node of a chain. Values stay Python
objects between nodes; each task call checks its inputs and outputs against its interface.

Retries follow a Flyte backend: a task failing with a recoverable error
(:class:`~taskloom.exceptions.RecoverableException`, e.g. ``FlyteRecoverableException``),
exceeding its ``timeout``, or raising one of the task's ``retry_on`` exception classes is run again,
up to its ``retries``; other errors fail the node at once.
A timed-out attempt fails with :class:`~taskloom.exceptions.user.UserTimeoutError` naming the task
and the timeout. A task with a timeout runs in a worker process, killed at the deadline before a
retry starts, so two attempts never run at once; with ``LocalExecutor(timeouts="threads")`` (or
``TASKLOOM_TIMEOUTS=threads``) it runs on a thread instead, which cannot be stopped: a timed-out
attempt keeps running beside its retry, and a warning says so. The workflow's failure policy
decides what happens next: ``FAIL_IMMEDIATELY`` starts no further node and raises when the running
ones are done; ``FAIL_AFTER_EXECUTABLE_NODES_COMPLETE`` runs every node that does not depend on a
failed one, then raises. The error raised is the first failing task's own exception, with notes
naming the node and the workflow.

Executions are recorded in the execution store (:mod:`taskloom_local.store`, written by
:mod:`taskloom_local.recorder` off the hot path) unless ``TASKLOOM_RECORD=0`` or
``LocalExecutor(record=False)``. :meth:`LocalExecutor.resume` runs a recorded execution again under
the same id and with the same inputs, skipping every node whose outputs were recorded (found by path:
``n3``, ``n1-n0`` in a subworkflow, ``n2-5`` for a map element), and the nodes that only they needed,
unless what the node runs changed since (:mod:`taskloom_local.fingerprints`): then it runs again,
with every node that depends on it.

Ctrl-C and SIGTERM (when an execution runs on the main thread) stop a run: nothing new starts, worker
processes are killed, task bodies running on threads are abandoned (and named), the execution is
recorded as ``interrupted`` and :class:`KeyboardInterrupt` is raised; a second signal exits the
process at once (status 130).
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import inspect
import itertools
import math
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    PROCESSES_ENV,
    SILENT,
    START_NODE,
    Checkpoint,
    Node,
    Promise,
    RecoverableException,
    UserException,
    UserTimeoutError,
    WorkflowBase,
    WorkflowFailurePolicy,
    listeners,
    new_execution_name,
    node_id_for,
    running,
)
from taskloom.extend import raw_output_prefix as raw_output_prefix_from_environment
from taskloom_local.recorder import ELEMENTS as _ELEMENTS
from taskloom_local.recorder import NODE_FAILED as _NODE_FAILED
from taskloom_local.recorder import NODE_RETRIED as _NODE_RETRIED
from taskloom_local.recorder import NODE_STARTED as _NODE_STARTED
from taskloom_local.recorder import NODE_SUCCEEDED as _NODE_SUCCEEDED
from taskloom_local.store import host_name

_clock = time.time  # when recorded events happened (a module global: read once per event)

#: Where tasks with a timeout run: ``processes`` (default: a worker killed at the deadline) or ``threads``.
TIMEOUTS_ENV = "TASKLOOM_TIMEOUTS"


if TYPE_CHECKING:
    from taskloom_local.cache import CacheKey, LocalCache


class LocalExecutor:
    """Runs workflows in this process; ``max_workers`` bounds the threads of one workflow run.

    ``record`` says whether executions are recorded (default: unless ``TASKLOOM_RECORD=0``) in
    ``store`` (default: the :class:`~taskloom_local.store.ExecutionStore` of the data directory).
    ``timeouts`` says where tasks with a timeout run: ``"processes"`` (default, or
    ``TASKLOOM_TIMEOUTS``), in a worker process killed at the deadline, or ``"threads"``, where a
    timed-out attempt cannot be stopped and keeps running beside its retry.
    """

    def __init__(
        self,
        max_workers: int | None = None,
        cache: LocalCache | None = None,
        raw_output_prefix: str | None = None,
        processes: int | None = None,
        record: bool | None = None,
        store: Any = None,
        timeouts: str | None = None,
    ) -> None:
        from taskloom_local.store import recording_enabled

        self._max_workers = max_workers
        self._cache = cache
        # Whether executions are recorded (default: unless TASKLOOM_RECORD=0), and where.
        self._record = recording_enabled() if record is None else record
        self._store = store
        self._raw_output_prefix = (raw_output_prefix or raw_output_prefix_from_environment() or "").rstrip("/") or None
        self._processes = processes or _processes_from_environment()
        self._timeouts = _timeouts_setting(timeouts)
        self._pool: Any = None
        if self._processes and max_workers is None:
            self._max_workers = max(self._processes, 1)  # as many scheduling threads as workers

    @property
    def processes(self) -> int | None:
        """How many worker processes run task bodies (None: they run on this process's threads)."""
        return self._processes

    def _process_pool(self) -> Any:
        if self._pool is None:
            from taskloom_local.processes import shared_pool

            self._pool = shared_pool(self._processes)  # workers outlive a run: the next one reuses them
        return self._pool

    def _timeout_pool(self) -> Any:
        """The workers that run tasks with a timeout when bodies otherwise run on threads."""
        from taskloom_local.processes import shared_pool

        return shared_pool(self._max_workers or min(32, (os.cpu_count() or 1) + 4))

    def close(self) -> None:
        """Let go of the worker processes (they stay for the next run; they stop when Python exits)."""
        self._pool = None

    @property
    def raw_output_prefix(self) -> str | None:
        """Where files and directories returned by tasks are stored (None: passed by local path)."""
        return self._raw_output_prefix

    @property
    def cache(self) -> LocalCache:
        """The task cache (``$TASKLOOM_CACHE_PATH`` or the user cache directory)."""
        if self._cache is None:
            from taskloom_local.cache import LocalCache  # sqlite3 and hashlib: when a task is cached

            self._cache = LocalCache()
        return self._cache

    @property
    def store(self) -> Any:
        """The :class:`~taskloom_local.store.ExecutionStore` (``$TASKLOOM_DATA_DIR`` or the user data directory)."""
        if self._store is None:
            from taskloom_local.store import ExecutionStore

            self._store = ExecutionStore()
        return self._store

    def runner(self) -> LocalRunner:
        """A runner for work started outside any execution (a map task called directly)."""
        return LocalRunner(self, _Execution(), None)

    def execute(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Run ``entity`` with ``inputs`` and return its outputs as a call returns them."""
        return self._execute(entity, inputs, self._new_execution(entity, record=self._record))

    def resume(self, execution_id: str, entity: Any = None, inputs: dict[str, Any] | None = None) -> Any:
        """Run again what the recorded execution ``execution_id`` had not finished; return its outputs
        as :meth:`execute` does.

        The run keeps the execution's id and recorded inputs (``inputs`` given must equal them; they
        may be left out), reads back the outputs of every node recorded as succeeded instead of
        running it, and runs everything else; it is recorded as it goes, whatever ``record`` says.
        A node whose task (its code, interface or cache version) or constant inputs changed since
        runs again, with every node that depends on it, and a line on standard error says so.
        ``entity`` is what the execution ran (default: loaded from the module or file it came from).
        An execution that already succeeded runs nothing and gives its recorded outputs.

        Raises :class:`~taskloom_local.store.ResumeError` for an unknown id, another entity, other
        inputs, a workflow whose graph changed, or an execution being run now (by another process
        or another resume: :class:`~taskloom_local.store.ExecutionBusy` names it).
        """
        from taskloom_local.recorder import flush_all, graph_fingerprint
        from taskloom_local.store import ResumeError

        flush_all()  # this process's own records of it, if any, are written first
        store = self.store
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
            inputs = _recorded_inputs(store, record, entity, inputs or {})
            graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
            if record.status == "succeeded":
                if record.outputs is None and graph.python_interface.outputs:
                    raise ResumeError(
                        f"execution {execution_id} succeeded, but its outputs were not recorded ({record.note})"
                    )
                outputs = {}
                if record.outputs is not None:
                    outputs = store.read_values(
                        execution_id,
                        record.outputs,
                        graph.python_interface.outputs,
                        entity=f"execution {execution_id}",
                        direction="output",
                    )
                sys.stderr.write(f"execution {execution_id} already succeeded: nothing to run\n")
                lock.release()
                return graph.python_interface.shape_outputs(outputs)
            previous = {node.path: node for node in store.nodes(execution_id) if node.status == "succeeded"}
            execution = self._new_execution(
                entity, record=True, execution_id=execution_id, previous=previous, started=record.started, lock=lock
            )
        except BaseException:
            lock.release()
            raise
        return self._execute(entity, inputs, execution, resumed=True)

    def _new_execution(
        self,
        entity: Any,
        *,
        record: bool,
        execution_id: str | None = None,
        previous: dict[str, Any] | None = None,
        started: float | None = None,
        lock: Any = None,
    ) -> _Execution:
        overwrite_cache = bool(entity.overwrite_cache) if getattr(entity, "is_launch_plan", False) else False
        execution = _Execution(overwrite_cache, execution_id, previous, started)
        if record:
            from taskloom_local.recorder import durable_after, recorder_for

            store = self.store
            execution.store = store
            execution.recorder = recorder_for(store)
            execution.record = execution.recorder.put
            execution.durable_after = durable_after()
            # A resume holds its execution's lock from here; a fresh execution's is taken by the
            # recorder with its first row (off the hot path: nobody can resume it before that row).
            execution.lock = lock
        return execution

    def _execute(self, entity: Any, inputs: dict[str, Any], execution: _Execution, resumed: bool = False) -> Any:
        if getattr(entity, "is_launch_plan", False):
            kind, graph = "launch plan", entity.workflow
        elif isinstance(entity, WorkflowBase):
            kind, graph = "workflow", entity
        else:
            kind, graph = "task", None
        announce = execution.announcer
        record = execution.record
        nodes = len(graph.nodes) if graph is not None else 0
        if record is not None:
            from taskloom_local.recorder import EXECUTION_STARTED, execution_began

            record((EXECUTION_STARTED, execution.name, entity, kind, inputs, _clock(), resumed))
            execution_began()
        announce.execution_started(execution.name, entity.name, kind, nodes)
        stopping = _Interrupts.watch(execution)
        try:
            if graph is None:  # a task: a one-node execution
                node = Node(node_id_for(entity.name.rsplit(".", 1)[-1]), entity, inputs)
                outputs = self._run_node(node, {}, execution, "")
            elif kind == "launch plan":
                outputs = self.run_workflow(
                    graph, entity.workflow_inputs(inputs), execution, max_parallelism=entity.max_parallelism
                )
            else:
                outputs = self.run_workflow(graph, inputs, execution)
        except BaseException as error:
            interrupted = execution.cancelled or isinstance(error, KeyboardInterrupt)
            if interrupted:
                if not isinstance(error, KeyboardInterrupt):  # a node's error caused by the interruption
                    error = KeyboardInterrupt(execution.cancelled or "interrupted").with_traceback(error.__traceback__)
                _report_abandoned(execution)
            if record is not None:
                self._record_finish(execution, None, None, error, "interrupted" if interrupted else "failed")
                error.add_note(
                    f"execution {execution.name} is recorded: `loom run ... --resume {execution.name}` "
                    f"(or LocalExecutor().resume({execution.name!r})) runs only what did not finish"
                )
            announce.execution_finished(execution.name, entity.name, kind, error, nodes)
            if interrupted:
                raise error from None
            raise
        finally:
            stopping.end()
            self.close()
            _gates_of(execution, cancel=False)
            if execution.lock is not None:
                execution.lock.release()
        interface = (graph or entity).python_interface
        if record is not None:
            self._record_finish(execution, outputs, interface.outputs, None)
        announce.execution_finished(execution.name, entity.name, kind, None, nodes)
        return interface.shape_outputs(outputs)

    @staticmethod
    def _record_finish(
        execution: _Execution, outputs: Any, types: Any, error: BaseException | None, status: str = "succeeded"
    ) -> None:
        from taskloom_local.recorder import EXECUTION_FINISHED, execution_ended

        execution_ended()
        execution.record((EXECUTION_FINISHED, execution.name, _clock(), outputs, types, error, status))  # type: ignore[misc]
        if status == "interrupted":
            # The process is likely to end soon, perhaps by a second signal: make it durable now.
            execution.recorder.flush(timeout=0.8)
            return
        # Written now, not after the recorder's delay, but not waited for: the program goes on
        # meanwhile (exit, and reading the store, wait for it).
        execution.recorder.write_soon()

    def run_workflow(
        self,
        workflow: WorkflowBase,
        inputs: dict[str, Any],
        execution: _Execution,
        prefix: str = "",
        max_parallelism: int | None = None,
    ) -> dict[str, Any]:
        """Run every node of ``workflow`` within ``execution``; return its outputs by name.

        ``prefix`` tells apart the nodes of a subworkflow (the id of the node that runs it);
        ``max_parallelism`` bounds how many of its nodes run at once (a launch plan's setting).
        """
        values: dict[str, dict[str, Any]] = {START_NODE: dict(inputs)}
        nodes = {node.id: node for node in workflow.nodes}
        waiting_on = {node_id: {upstream.id for upstream in node.upstream_nodes} for node_id, node in nodes.items()}
        downstream: dict[str, list[str]] = collections.defaultdict(list)
        for node_id, upstream_ids in waiting_on.items():
            for upstream_id in upstream_ids:
                downstream[upstream_id].append(node_id)
        failures: list[tuple[Node, BaseException]] = []
        keep_going = workflow.failure_policy is WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
        finished: dict[str, dict[str, Any]] | None = None  # a resume: outputs of the nodes it skips
        if execution.record is not None:
            from taskloom_local.recorder import GRAPH

            execution.record((GRAPH, execution.name, prefix, workflow))
            if execution.previous is not None:
                finished = self._finished_nodes(workflow, waiting_on, execution, prefix)

        ready = collections.deque(node_id for node_id, upstream in waiting_on.items() if not upstream)

        def finish(node: Node, result: dict[str, Any] | None, error: BaseException | None) -> None:
            if error is None:
                values[node.id] = result  # type: ignore[assignment]
                for child in downstream[node.id]:
                    upstream = waiting_on.get(child)
                    if upstream is not None:
                        upstream.discard(node.id)
                        if not upstream:
                            ready.append(child)
                return
            failures.append((node, error))
            for child in _descendants(node.id, downstream):  # they can never run
                waiting_on.pop(child, None)
            if not keep_going:
                waiting_on.clear()
                ready.clear()

        # The pool (and concurrent.futures, ~6 ms to import) is made when two nodes can run at once.
        pool: Any = None
        running: dict[Any, Node] = {}
        cancelled_waits = False
        try:
            while True:
                while ready:
                    if execution.cancelled:  # Ctrl-C or SIGTERM: nothing new starts
                        raise KeyboardInterrupt(execution.cancelled)
                    node_id = ready.popleft()
                    if waiting_on.pop(node_id, None) is None:  # dropped after a failure
                        continue
                    node = nodes[node_id]
                    if finished is not None and node_id in finished:
                        finish(
                            node,
                            self._reuse(node.entity, f"{prefix}{node_id}", finished[node_id], execution, None),
                            None,
                        )
                        continue
                    if not ready and not running:
                        # The only node that can run now: nothing can start before it ends, so run it
                        # here and spare the thread hand-off (long chains run at function-call speed).
                        try:
                            result = self._run_node(node, values, execution, prefix)
                        except Exception as error:
                            finish(node, None, error)
                        else:
                            finish(node, result, None)
                        continue
                    if pool is None:
                        from taskloom_local.threads import DaemonThreadPool

                        pool = DaemonThreadPool(max_parallelism or self._max_workers)
                    future = pool.submit(self._run_node, node, values, execution, prefix)
                    running[future] = node
                    execution.running[future] = f"{prefix}{node_id}"
                if not running:
                    break
                import concurrent.futures

                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    node = running.pop(future)
                    execution.running.pop(future, None)
                    if future.cancelled():  # queued behind a failure: never started
                        continue
                    error = future.exception()
                    finish(node, None if error is not None else future.result(), error)
                if failures and not keep_going:
                    for future in running:  # nodes queued but not started do not start
                        future.cancel()
                    if not cancelled_waits:  # gates waiting for a signal stop waiting: the run is failing
                        _gates_of(execution, cancel=True)
                        cancelled_waits = True
                if execution.cancelled and not running:
                    raise KeyboardInterrupt(execution.cancelled)
        except BaseException:  # interrupted (Ctrl-C): gates waiting in the pool must not hold it open
            _gates_of(execution, cancel=True)
            if pool is not None:  # what still runs on a thread is abandoned, not waited for
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
            raise
        finally:
            for future in running:
                execution.running.pop(future, None)
            if pool is not None:
                pool.shutdown(wait=True)
        if failures:
            node, error = failures[0]
            error.add_note(f"in node {node.id} of workflow {workflow.name!r}")
            if len(failures) > 1:
                error.add_note(
                    f"{len(failures) - 1} more node(s) failed: {', '.join(other.id for other, _ in failures[1:])}"
                )
            raise error
        return {name: resolve(value, values) for name, value in workflow.output_bindings.items()}

    def _finished_nodes(
        self, workflow: WorkflowBase, waiting_on: dict[str, set[str]], execution: _Execution, prefix: str
    ) -> dict[str, dict[str, Any]]:
        """The nodes of ``workflow`` a resume skips, with their outputs: those recorded as succeeded
        whose outputs can be read back, and those whose outputs were not written because every
        consumer had finished, if every consumer is skipped too (so nobody reads them). A node
        whose fingerprint changed, and every node downstream of it, is not skipped (and what was
        recorded under it is forgotten).
        """
        from taskloom_local.fingerprints import node_fingerprint
        from taskloom_local.recorder import OUTPUTS, consumers_of, entity_name
        from taskloom_local.store import STORED, SUPERSEDED

        previous = execution.previous or {}
        consumers = consumers_of(workflow)
        nodes = {node.id: node for node in workflow.nodes}
        order = _topological_order(waiting_on)
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
        finished: dict[str, dict[str, Any]] = {}
        for node_id in reversed(order):  # consumers are decided first
            if node_id in invalid:
                continue
            record = previous.get(f"{prefix}{node_id}")
            entity = nodes[node_id].entity
            if record is None or record.entity != entity_name(entity):
                continue
            if record.outputs_state == STORED:
                outputs = self._recorded_outputs(record, entity, execution)
                if outputs is not None:
                    finished[node_id] = outputs
            elif record.outputs_state == SUPERSEDED and all(
                consumer != OUTPUTS and consumer in finished for consumer in consumers[node_id]
            ):
                finished[node_id] = {}
        return finished

    def _recorded_outputs(self, record: Any, entity: Any, execution: _Execution) -> dict[str, Any] | None:
        """A node's recorded outputs as Python values, or None when they cannot be read (it runs again)."""
        if record.outputs is None:
            return {}  # it had none
        from taskloom_local.recorder import entity_name, output_types

        try:
            return self.store.read_values(
                execution.name,
                record.outputs,
                output_types(entity),
                entity=repr(entity_name(entity)),
                direction="output",
            )
        except Exception:  # missing, damaged or no longer of the node's types: run the node again
            return None

    def _reuse(
        self, entity: Any, path: str, outputs: dict[str, Any], execution: _Execution, parent: str | None
    ) -> dict[str, Any]:
        """Give a node's recorded ``outputs`` in place of running it (announced as a cached node)."""
        from taskloom_local.recorder import NODE_REUSED

        execution.record((NODE_REUSED, execution.name, path, parent))  # type: ignore[misc]
        announce = execution.announcer
        if announce is not SILENT:
            name = getattr(entity, "name", path)
            announce.node_started(execution.name, path, name, parent)
            announce.node_finished(execution.name, path, name, None, parent, cached=True)
        return outputs

    def _reused(self, node: Node, path: str, execution: _Execution, parent: str | None) -> dict[str, Any] | None:
        """A node's recorded outputs when a resume can skip it (None: it runs): a graph node by its
        row, a child (``parent`` set) from its parent's chunks; either only if what it runs is
        unchanged.
        """
        outputs = self._recorded(node, path, execution, parent)
        return None if outputs is None else self._reuse(node.entity, path, outputs, execution, parent)

    def _recorded(self, node: Node, path: str, execution: _Execution, parent: str | None) -> dict[str, Any] | None:
        from taskloom_local.fingerprints import entity_fingerprint, node_fingerprint
        from taskloom_local.recorder import entity_name
        from taskloom_local.store import STORED

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
        return self._recorded_outputs(record, entity, execution)

    def _run_node(
        self,
        node: Node,
        values: dict[str, dict[str, Any]],
        execution: _Execution,
        prefix: str,
        parent: str | None = None,
    ) -> dict[str, Any]:
        announce = execution.announcer
        if execution.record is not None:
            return self._run_recorded_node(node, values, execution, prefix, parent)
        if announce is SILENT:
            return self._run_node_body(node, values, execution, prefix, parent)
        path, name = f"{prefix}{node.id}", getattr(node.entity, "name", node.id)
        announce.node_started(execution.name, path, name, parent)
        try:
            outputs = self._run_node_body(node, values, execution, prefix, parent)
        except BaseException as error:
            announce.node_finished(execution.name, path, name, error, parent)
            raise
        announce.node_finished(execution.name, path, name, None, parent, cached=type(outputs) is _CachedOutputs)
        return outputs

    def _run_recorded_node(
        self, node: Node, values: dict[str, dict[str, Any]], execution: _Execution, prefix: str, parent: str | None
    ) -> dict[str, Any]:
        """:meth:`_run_node` with the node's start and end handed to the recorder (and, in a resume,
        its recorded outputs given back instead of running it). A node whose body ran longer than
        the durability threshold is written before this returns, so before its dependents start.
        """
        path, entity = f"{prefix}{node.id}", node.entity
        if execution.previous is not None:
            reused = self._reused(node, path, execution, parent)
            if reused is not None:
                return reused
        record, key, announce = execution.record, execution.name, execution.announcer
        if announce is not SILENT:
            announce.node_started(key, path, getattr(entity, "name", node.id), parent)
        began = _clock()
        record((_NODE_STARTED, key, path, parent, entity, began))  # type: ignore[misc]
        try:
            outputs = self._run_node_body(node, values, execution, prefix, parent)
        except BaseException as error:
            record((_NODE_FAILED, key, path, parent, entity, _clock(), error))  # type: ignore[misc]
            if announce is not SILENT:
                announce.node_finished(key, path, getattr(entity, "name", node.id), error, parent)
            raise
        ended = _clock()
        record((_NODE_SUCCEEDED, key, path, parent, entity, ended, outputs))  # type: ignore[misc]
        if ended - began >= execution.durable_after:
            # Written before its dependents start; a child's dependent is its parent, whose own end
            # is, so a child is written without waiting.
            if parent is None:
                execution.recorder.flush()
            else:
                execution.recorder.write_soon()
        if announce is not SILENT:
            announce.node_finished(
                key, path, getattr(entity, "name", node.id), None, parent, cached=type(outputs) is _CachedOutputs
            )
        return outputs

    def _run_node_body(
        self, node: Node, values: dict[str, dict[str, Any]], execution: _Execution, prefix: str, parent: str | None
    ) -> dict[str, Any]:
        inputs = {name: resolve(value, values) for name, value in node.bindings.items()}
        entity = node.entity
        path = f"{prefix}{node.id}"
        if getattr(entity, "is_branch", False):
            return self._run_branch(entity, values, execution, prefix)
        if getattr(entity, "is_gate", False):
            from taskloom_local.gates import run_gate

            return run_gate(node, inputs, execution.name)
        if getattr(entity, "is_launch_plan", False):
            return self.run_workflow(
                entity.workflow,
                entity.workflow_inputs(inputs),
                execution,
                prefix=f"{path}-",
                max_parallelism=entity.max_parallelism,
            )
        if isinstance(entity, WorkflowBase):
            return self.run_workflow(entity, inputs, execution, prefix=f"{path}-")
        if entity.cache is not None and overrides_cache(node):
            return self._run_cached(node, inputs, execution, path, parent)
        return self._run_task(node, inputs, execution, path, parent)

    def _run_cached(
        self, node: Node, inputs: dict[str, Any], execution: _Execution, path: str, parent: str | None
    ) -> dict[str, Any]:
        task = node.entity
        key = self.cache.key(task, inputs)
        if task.cache.serialize:
            with self.cache.lock(key):  # identical calls wait for the first and read its result
                return self._lookup_or_run(node, inputs, execution, path, key, parent)
        return self._lookup_or_run(node, inputs, execution, path, key, parent)

    def _lookup_or_run(
        self,
        node: Node,
        inputs: dict[str, Any],
        execution: _Execution,
        path: str,
        key: CacheKey,
        parent: str | None,
    ) -> dict[str, Any]:
        if not execution.overwrite_cache:
            hit = self.cache.get(node.entity, key)
            if hit is not None:
                return _CachedOutputs(hit)
        outputs = self._run_task(node, inputs, execution, path, parent)
        self.cache.put(node.entity, key, outputs)
        return outputs

    def _run_task(
        self, node: Node, inputs: dict[str, Any], execution: _Execution, path: str, parent: str | None = None
    ) -> dict[str, Any]:
        entity = node.entity
        if getattr(entity, "is_array_node", False):
            # A map task's retries and timeout are those of each element (as on Flyte): its
            # elements are children that get them; the map node itself runs once, unbounded.
            retries, timeout = 0, None
        else:
            overrides = node.overrides if node.has_overrides else _NO_OVERRIDES
            retries = overrides.get("retries", entity.metadata.retries)
            timeout = overrides.get("timeout", entity.metadata.timeout)
        if isinstance(timeout, int):
            timeout = dt.timedelta(seconds=timeout)
        checkpoint = _Checkpoints(execution, path)  # the checkpoint is made when a task first asks for it
        # A task that can be stopped at its deadline runs where it can be: in a worker process.
        pool = None
        if not entity.starts_children:
            if self._processes:
                pool = self._process_pool()
            elif timeout is not None and self._timeouts == "processes":
                pool = self._timeout_pool()
        attempt = 0
        while True:
            if execution.cancelled:
                raise KeyboardInterrupt(execution.cancelled)
            runner = LocalRunner(self, execution, path)  # for map, dynamic and eager bodies
            try:
                with running(runner):
                    if pool is not None:
                        result = pool.run(
                            entity,
                            inputs,
                            timeout=timeout,  # a worker past its timeout is killed, not abandoned
                            execution_id=execution.name,
                            execution_date=execution.date,
                            attempt=attempt,
                            checkpoint=checkpoint(),
                            explain=None if self._processes else _TIMEOUT_IN_PROCESS,
                        )
                    elif timeout is None:
                        result = entity.run(
                            inputs,
                            execution_id=execution.name,
                            execution_date=execution.date,
                            attempt=attempt,
                            checkpoint=checkpoint,
                            checked=True,  # bindings were checked when the workflow was compiled
                        )
                    else:
                        result = _call_with_timeout(
                            entity.name,
                            functools.partial(
                                entity.run,
                                inputs,
                                execution_id=execution.name,
                                execution_date=execution.date,
                                attempt=attempt,
                                checkpoint=checkpoint,
                                checked=True,
                            ),
                            timeout,
                            execution,
                            path,
                        )
                break
            except UserTimeoutError as error:
                runner.abandon()  # a thread that timed out still runs: do not wait for its children
                if attempt >= retries or execution.cancelled:
                    raise
                attempt += 1
                execution.announcer.node_retried(execution.name, path, entity.name, attempt, error, parent)
                if execution.record is not None:
                    execution.record((_NODE_RETRIED, execution.name, path, attempt))
            except Exception as error:
                # Flyte retries recoverable errors (and timeouts, above); a task may list more (retry_on).
                retryable = isinstance(error, (RecoverableException, *entity.retry_on))
                if not retryable or attempt >= retries or execution.cancelled:
                    raise
                attempt += 1
                execution.announcer.node_retried(execution.name, path, entity.name, attempt, error, parent)
                if execution.record is not None:
                    execution.record((_NODE_RETRIED, execution.name, path, attempt))
            finally:
                if runner.used:
                    if execution.cancelled:
                        runner.abandon()
                    else:
                        runner.close()
        if inspect.isawaitable(result):  # an async body run on a thread whose event loop is running
            result = _run_to_completion(result)
        outputs = entity.python_interface.outputs_by_name(result)
        if self._raw_output_prefix is not None:
            from taskloom.extend import offload

            outputs = offload(
                outputs, entity.python_interface.outputs, f"{self._raw_output_prefix}/{execution.name}/{path}"
            )
        return outputs

    def _run_branch(
        self, branch: Any, values: dict[str, dict[str, Any]], execution: _Execution, prefix: str
    ) -> dict[str, Any]:
        """Evaluate the conditions in order and run the first case that holds (or the else case)."""
        for case in branch.cases:
            if case.condition is not None and not case.condition.evaluate(lambda side: resolve(side, values)):
                continue
            if case.error is not None:
                raise UserException(f"conditional {branch.name!r}: {case.error}")
            outputs = self._run_node(case.node, values, execution, prefix)
            return {name: outputs[promise.var] for name, promise in zip(branch.outputs, case.outputs)}
        raise UserException(f"conditional {branch.name!r}: no case holds")  # compile time requires else_


_POOL_LOCK = threading.Lock()  # pools are made rarely: one lock for every runner


class LocalRunner:
    """Runs the children of a task's body (map elements, a dynamic graph, eager calls) as nodes of
    the same execution, named ``<prefix><name>``; :meth:`submit` uses a thread pool of its own, made
    on first use, so that a child waiting on its own children never starves its parent's pool.
    """

    __slots__ = ("_execution", "_executor", "_parent", "_pool", "used")

    def __init__(self, executor: LocalExecutor, execution: _Execution, parent: str | None) -> None:
        self._executor = executor
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
        return self._executor._run_node(Node(name, entity, inputs), {}, self._execution, self._prefix, self._parent)

    def submit(self, entity: Any, inputs: dict[str, Any], *, name: str) -> Any:
        """Start the child node ``name`` on the pool; return its future."""
        import contextvars

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
        limit = self._executor._max_workers or min(32, (os.cpu_count() or 1) + 4)
        lanes = min(concurrency or count, count, limit)
        if self._batchable(entity):
            return self._map_in_batches(entity, inputs, outcomes, lanes, on_done)
        run_one, direct = self._element_runner(entity)
        # Elements run directly are not events: the recorder reads what the lanes put in outcomes.
        durable = math.inf
        if direct and execution.record is not None and self._parent is not None:
            execution.record((_ELEMENTS, execution.name, self._parent, entity, outcomes, _clock()))
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
                outcomes[index] = outcome
                if _clock() - began >= durable:
                    # A slow element is written now, without waiting: its only dependent is the map,
                    # whose own end is made durable before anything downstream starts.
                    execution.recorder.write_soon()
                if on_done is not None and on_done(index, outcome):
                    stop = True

        if lanes == 1:
            lane()
        else:
            import contextvars

            threads = [
                threading.Thread(
                    target=contextvars.Context().run, args=(lane,), name=f"taskloom-lane-{number}", daemon=True
                )
                for number in range(lanes - 1)
            ]
            for thread in threads:
                thread.start()
            contextvars.Context().run(lane)  # this thread is a lane too (its own context, as the others)
            for thread in threads:
                thread.join()
        if execution.cancelled:
            raise KeyboardInterrupt(execution.cancelled)
        return outcomes

    def _plain(self, entity: Any) -> bool:
        """Whether ``entity`` is a task whose elements need none of the executor's per-node services
        (retries, timeout, cache, storage, listeners), so :meth:`map` may run them without the node
        bookkeeping: directly, or in batches on the worker processes.
        """
        executor = self._executor
        metadata = getattr(entity, "metadata", None)
        return bool(
            metadata is not None
            and not isinstance(entity, WorkflowBase)
            and not getattr(entity, "is_launch_plan", False)
            and not getattr(entity, "is_array_node", False)
            and self._execution.announcer is SILENT
            and executor._raw_output_prefix is None
            and getattr(entity, "cache", None) is None
            and metadata.retries == 0
            and metadata.timeout is None
        )

    def _batchable(self, entity: Any) -> bool:
        """Whether :meth:`map` sends ``entity``'s elements to worker processes in batches."""
        return bool(self._executor._processes) and not getattr(entity, "starts_children", True) and self._plain(entity)

    def _map_in_batches(self, entity: Any, inputs: Any, outcomes: list[Any], lanes: int, on_done: Any) -> list[Any]:
        # Elements go to the workers in batches (one round trip each, not one per element); each
        # lane keeps one worker busy. As for direct elements, the recorder reads their outcomes.
        count = len(inputs)
        execution, prefix, parent = self._execution, self._prefix, self._parent
        stop = False
        indices: list[int] | range = range(count)
        if execution.previous is not None:  # a resume: elements recorded as succeeded are not sent
            indices = []
            for index in range(count):
                reused = self._executor._recorded(Node(str(index), entity, {}), f"{prefix}{index}", execution, parent)
                if reused is None:
                    indices.append(index)
                    continue
                outcomes[index] = reused
                if on_done is not None and on_done(index, reused):
                    stop = True
        durable = math.inf
        if execution.record is not None and parent is not None:
            execution.record((_ELEMENTS, execution.name, parent, entity, outcomes, _clock()))
            durable = execution.durable_after
        most = max(1, min(256, len(indices) // (lanes * 4)))
        # Batches grow from one element to as many as run within the durability threshold (up to
        # ``most``): elements slower than it come back, and are written, one by one; quick ones in
        # batches whose loss to a SIGKILL costs at most about that much work.
        threshold = execution.durable_after if execution.record is not None else math.inf
        cursor = iter(indices)
        take_lock = threading.Lock()
        pool = self._executor._process_pool()

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
                for index, outcome in zip(batch, results):  # outputs by name, or the exception
                    outcomes[index] = outcome
                took = _clock() - began
                if took >= durable:  # written now, not waited for (see map)
                    execution.recorder.write_soon()
                each = took / len(batch)
                size = most if each <= 0 else max(1, min(most, int(threshold / each)))
                for index, outcome in zip(batch, results):
                    if on_done is not None and on_done(index, outcome):
                        stop = True

        threads = [
            threading.Thread(target=lane, name=f"taskloom-batch-{number}", daemon=True) for number in range(lanes - 1)
        ]
        for thread in threads:
            thread.start()
        lane()
        for thread in threads:
            thread.join()
        if execution.cancelled:
            raise KeyboardInterrupt(execution.cancelled)
        return outcomes

    def _element_runner(self, entity: Any) -> tuple[Any, bool]:
        """How :meth:`map` runs one element, and whether directly: as any child, or, for a plain task
        that needs none of the executor's per-node services (no retries, timeout, cache, storage or
        listeners), by calling it directly: the same context, checks and outputs, without the node
        bookkeeping.
        """
        execution = self._execution
        if self._executor._processes is not None or not self._plain(entity):
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
        executor, execution = self._executor, self._execution
        prepared = getattr(entity, "prepared", None)
        if prepared is not None and not getattr(entity, "starts_children", True):
            call = prepared(execution_id=execution.name, execution_date=execution.date)
            return lambda inputs, path: call(inputs, _Checkpoints(execution, path))
        interface = entity.python_interface

        def run_directly(inputs: dict[str, Any], path: str) -> dict[str, Any]:
            runner = LocalRunner(executor, execution, path)
            try:
                with running(runner):
                    result = entity.run(
                        inputs,
                        execution_id=execution.name,
                        execution_date=execution.date,
                        attempt=0,
                        checkpoint=_Checkpoints(execution, path),
                        checked=True,
                    )
            finally:
                if runner.used:
                    runner.close()
            if inspect.isawaitable(result):
                result = _run_to_completion(result)
            return interface.outputs_by_name(result)

        return run_directly

    def _resumed_element_runner(self, entity: Any, prefix: str, direct: Any) -> Any:
        """:meth:`_element_runner`'s direct call giving, in a resume, an element's recorded outputs
        instead of running it.
        """
        executor, execution, parent = self._executor, self._execution, self._parent
        node = Node("element", entity, {})

        def run_resumed(inputs: dict[str, Any], name: str) -> dict[str, Any]:
            path = prefix + name
            reused = executor._recorded(node, path, execution, parent)
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
            self._executor.close()

    def abandon(self) -> None:
        """Stop the pool without waiting: queued children never start (the attempt timed out)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _make_pool(self) -> None:
        from taskloom_local.threads import DaemonThreadPool

        with _POOL_LOCK:
            if self._pool is None:
                self._pool = DaemonThreadPool(self._executor._max_workers, thread_name_prefix="taskloom")


_TIMEOUT_IN_PROCESS = (
    "it has a timeout, so it runs in a worker process that is killed at the deadline; define it at the top "
    f"level of a module, or let timed-out attempts keep running on threads ({TIMEOUTS_ENV}=threads)"
)
_warned_timeouts: set[str] = set()


def _call_with_timeout(
    task_name: str, call_task: Any, timeout: dt.timedelta, execution: Any = None, path: str = ""
) -> Any:
    # A thread cannot be killed: past its timeout the call is abandoned (it keeps running until it
    # returns, its result ignored) and the node fails. Only with timeouts="threads": by default a task
    # with a timeout runs in a worker process, which is killed.
    import contextvars

    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["result"] = call_task()
        except BaseException as error:  # handed to the waiting thread, which raises it
            outcome["error"] = error

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(call,), name=f"taskloom-{task_name}", daemon=True
    )
    worker.start()
    if execution is not None:
        execution.threads[worker] = path
    try:
        worker.join(timeout.total_seconds())
    finally:
        if execution is not None and not worker.is_alive():
            execution.threads.pop(worker, None)
    if worker.is_alive():
        if task_name not in _warned_timeouts:
            _warned_timeouts.add(task_name)
            import warnings

            warnings.warn(
                f"task {task_name!r} timed out after {timeout} on a thread ({TIMEOUTS_ENV}=threads): the attempt "
                "cannot be stopped and keeps running, beside any retry",
                RuntimeWarning,
                stacklevel=2,
            )
        raise UserTimeoutError(
            f"task {task_name!r} did not finish within its timeout of {timeout} (its thread keeps running)"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _run_to_completion(awaitable: Any) -> Any:
    # This thread's event loop is busy running the caller (a workflow called from async code): run
    # the task's coroutine to completion on a thread of its own and wait for it, as a sync call must.
    import asyncio
    import contextvars

    async def wait() -> Any:
        return await awaitable

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = asyncio.run(wait())
        except BaseException as error:  # raised again on the calling thread
            outcome["error"] = error

    worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="taskloom-async", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class _Checkpoints:
    """Gives the node's checkpoint, made on first use (the same for every attempt of the node)."""

    __slots__ = ("_execution", "_path", "_value")

    def __init__(self, execution: _Execution, path: str) -> None:
        self._execution = execution
        self._path = path
        self._value: Any = None

    def __call__(self) -> Any:
        if self._value is None:
            self._value = self._execution.checkpoint(self._path)
        return self._value


_NO_OVERRIDES: dict[str, Any] = {}


def overrides_cache(node: Node) -> bool:
    """Whether the node runs cached: the task's setting unless ``with_overrides(cache=False)``."""
    return bool(node.overrides.get("cache", True))


def _processes_from_environment() -> int | None:
    # The pool's module (and its imports) is loaded only when processes are asked for.
    if not os.environ.get(PROCESSES_ENV, "").strip():
        return None
    from taskloom_local.processes import processes_from_environment

    return processes_from_environment()


def _gates_of(execution: Any, *, cancel: bool) -> None:
    # Signals live on the board of taskloom_local.gates: wake the execution's waiting gates (cancel) or
    # forget its signals and cancel when it ends. Nothing to do, and nothing imported, if it is not loaded.
    import sys

    gate = sys.modules.get("taskloom_local.gates")
    if gate is None:
        return
    if cancel:
        gate.cancel_waits(execution.name)
    else:
        gate.clear_signals(execution.name)


class _CachedOutputs(dict):  # type: ignore[type-arg]
    """Outputs read from the cache (so that the node's finished event says so)."""


class _Execution:
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
        self.previous = previous
        #: Why the run stops (``"SIGINT"``, ``"SIGTERM"``), once it was interrupted; checked before
        #: anything starts.
        self.cancelled: str | None = None
        self.running: dict[Any, str] = {}  # futures of nodes running on pool threads -> their paths
        self.threads: dict[threading.Thread, str] = {}  # attempts on threads of their own -> paths
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


def _child_outputs(recorded: Any, entity: Any) -> dict[str, Any]:
    """A recorded child's outputs as Python values (``recorded``: plain values, a literal map or None)."""
    from taskloom.extend import TypeEngine
    from taskloom_local.recorder import entity_name, output_types
    from taskloom_local.store import PlainValues

    if recorded is None:
        return {}
    types = output_types(entity)
    if isinstance(recorded, PlainValues):
        values = recorded.exact_values(types)
        if values is not None:
            return values
        recorded = recorded.to_literal_map(types)
    return TypeEngine.literal_map_to_kwargs(None, recorded, types, entity=repr(entity_name(entity)), direction="output")


def _say_changed(execution: _Execution, changed: list[tuple[str, Any]], dependents: int) -> None:
    """Tell the user that a resume runs nodes again because what they run changed."""
    from taskloom_local.recorder import entity_name

    shown = ", ".join(f"{path} ({entity_name(entity)})" for path, entity in changed)
    more = f", with {dependents} node{'s' if dependents != 1 else ''} downstream" if dependents else ""
    sys.stderr.write(
        f"resuming execution {execution.name}: {shown} changed since the execution ran (code, interface, cache "
        f"version or constant inputs); {'it runs' if len(changed) == 1 else 'they run'} again{more}\n"
    )


def _report_abandoned(execution: _Execution) -> None:
    """Name the task bodies an interrupted run leaves running on threads (threads cannot be stopped)."""
    paths = sorted(
        set(execution.running.values())
        | {path for thread, path in list(execution.threads.items()) if thread.is_alive()}
    )
    if paths:
        shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
        sys.stderr.write(
            f"taskloom: interrupted; abandoned {len(paths)} task bod{'ies' if len(paths) != 1 else 'y'} still running "
            f"on threads ({shown}): threads cannot be stopped, so their side effects may still happen\n"
        )


def _timeouts_setting(given: str | None) -> str:
    value = (given or os.environ.get(TIMEOUTS_ENV, "") or "processes").strip().lower()
    if value not in ("processes", "threads"):
        from taskloom.extend import UserValueError

        raise UserValueError(f"timeouts must be 'processes' or 'threads' ({TIMEOUTS_ENV}), got {value!r}")
    return value


class _Interrupts:
    """Ctrl-C and SIGTERM while executions run on the main thread: the first signal cancels every
    running execution of this process (nothing new starts, worker processes are killed, waiting
    gates wake) and raises :class:`KeyboardInterrupt` where the main thread is; a second exits at once.

    Installed by the outermost execution of the main thread, restored when it ends, unless it was
    interrupted: the process is then on its way out, and a second Ctrl-C must still end it at once.
    """

    _lock = threading.Lock()
    _active: set[_Execution] = set()
    _previous: dict[int, Any] = {}  # the handlers ours replaced, while installed
    _count = 0  # executions running on the main thread
    _signals_seen = 0

    def __init__(self, execution: _Execution) -> None:
        self._execution = execution

    @classmethod
    def watch(cls, execution: _Execution) -> _Interrupts:
        main = threading.current_thread() is threading.main_thread()
        with cls._lock:
            cls._active.add(execution)
            if main:
                cls._count += 1
                if cls._count == 1 and not cls._previous:
                    try:
                        for number in (signal.SIGINT, signal.SIGTERM):
                            cls._previous[number] = signal.signal(number, cls._handle)
                    except ValueError:  # not the main interpreter's main thread
                        cls._previous.clear()
        return cls(execution)

    def end(self) -> None:
        cls = type(self)
        with cls._lock:
            cls._active.discard(self._execution)
            if threading.current_thread() is not threading.main_thread():
                return
            cls._count -= 1
            if cls._count == 0 and cls._previous and not cls._signals_seen:
                for number, handler in cls._previous.items():
                    signal.signal(number, handler)
                cls._previous.clear()

    @classmethod
    def _handle(cls, number: int, frame: Any) -> None:
        # A signal handler runs between two bytecodes of the main thread, which may hold any lock
        # (stderr's buffer, a gate board's, the process pool's): it writes with os.write and leaves
        # the stopping to a thread of its own.
        name = signal.Signals(number).name
        cls._signals_seen += 1
        if cls._signals_seen > 1:
            os.write(2, f"\ntaskloom: {name} again: exiting now\n".encode())
            _kill_workers()
            os._exit(130)
        os.write(
            2,
            f"\ntaskloom: {name}: stopping (nothing new starts; worker processes are killed); again to exit at once\n".encode(),
        )
        executions = list(cls._active)
        for execution in executions:
            execution.cancelled = name
        threading.Thread(target=cls._stop, args=(executions,), name="taskloom-interrupt", daemon=True).start()
        raise KeyboardInterrupt(name)

    @staticmethod
    def _stop(executions: list[_Execution]) -> None:
        _kill_workers()
        for execution in executions:
            _gates_of(execution, cancel=True)


def _kill_workers() -> None:
    processes = sys.modules.get("taskloom_local.processes")
    if processes is not None:
        processes.kill_all_workers()


def resolve(value: Any, values: dict[str, dict[str, Any]]) -> Any:
    """The Python value of a binding: promises replaced by the outputs they name (following their path)."""
    if isinstance(value, Promise):
        result = values[value.node_id][value.var]
        for step in value.attr_path:
            result = result[step] if isinstance(step, int) or isinstance(result, dict) else getattr(result, step)
        return result
    if isinstance(value, list):
        return [resolve(item, values) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, values) for key, item in value.items()}
    return value


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


def _same_entity(recorded: str, module: str | None, name: str) -> bool:
    # A script run as __main__ names its entities "__main__.wf"; loaded by `loom run` they are "flows.wf".
    if recorded == name:
        return True
    short = recorded.rsplit(".", 1)[-1]
    return (module == "__main__" or name.startswith("__main__.")) and name.rsplit(".", 1)[-1] == short


def _load_entity(record: Any) -> Any:
    """The entity an execution ran, from its module (imported) or its file (loaded as ``loom run`` does)."""
    import importlib

    from taskloom.extend import entities_of, load_module
    from taskloom_local.store import ResumeError

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


def _recorded_inputs(store: Any, record: Any, entity: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The inputs a resume runs with: the recorded ones, which ``given`` must match where it has a value."""
    from taskloom.extend import TypeEngine
    from taskloom_local.store import ResumeError

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


def _descendants(node_id: str, downstream: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    pending = list(downstream[node_id])
    while pending:
        child = pending.pop()
        if child not in found:
            found.add(child)
            pending.extend(downstream[child])
    return found
