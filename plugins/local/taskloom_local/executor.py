"""The local executor: a workflow's nodes run in this process as soon as their inputs exist.

Scheduling is dataflow, unlike flytekit's local runs (which execute nodes one after another in the
order they were written): a node is submitted to a thread pool when every node it depends on
(through a promise or ``>>``) has finished, so independent nodes run concurrently. Values stay Python
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

This module is the facade: :class:`LocalExecutor` holds the settings and starts, records and ends
executions. The work is cut by what it holds, the parts talking through public names only:
:mod:`~taskloom_local.execution` (one run's shared state), :mod:`~taskloom_local.scheduler` (a
workflow's nodes in dataflow order), :mod:`~taskloom_local.runner` (one node: events, record, cache,
attempts), :mod:`~taskloom_local.children` (the children of a running body: map lanes, dynamic and
eager), :mod:`~taskloom_local.resume` (what a resume starts from and skips) and
:mod:`~taskloom_local.interrupts` (Ctrl-C and SIGTERM).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from taskloom.extend import PROCESSES_ENV, Node, WorkflowBase, node_id_for
from taskloom.extend import raw_output_prefix as raw_output_prefix_from_environment
from taskloom_local.children import LocalRunner
from taskloom_local.execution import Execution, gates_of
from taskloom_local.interrupts import Interrupts, report_abandoned
from taskloom_local.logs import capture_enabled
from taskloom_local.logs import install as install_log_capture
from taskloom_local.recorder import (
    EXECUTION_FINISHED,
    EXECUTION_STARTED,
    durable_after,
    execution_began,
    execution_ended,
    flush_all,
    recorder_for,
)
from taskloom_local.resume import start_resume
from taskloom_local.runner import TIMEOUTS_ENV
from taskloom_local.scheduler import Scheduler
from taskloom_local.store import recording_enabled

if TYPE_CHECKING:
    from taskloom.extend import TaskPool
    from taskloom_local.cache import LocalCache

__all__ = ["TIMEOUTS_ENV", "LocalExecutor"]

_clock = time.time  # when recorded events happened (a module global: read once per event)


class LocalExecutor:
    """Runs workflows in this process; ``max_workers`` bounds the threads of one workflow run.

    ``record`` says whether executions are recorded (default: unless ``TASKLOOM_RECORD=0``) in
    ``store`` (default: the :class:`~taskloom_local.store.ExecutionStore` of the data directory).
    ``timeouts`` says where tasks with a timeout run: ``"processes"`` (default, or
    ``TASKLOOM_TIMEOUTS``), in a worker process killed at the deadline, or ``"threads"``, where a
    timed-out attempt cannot be stopped and keeps running beside its retry.
    ``pool`` (a :class:`~taskloom.core.executor.TaskPool`, such as the one a plugin answers
    ``taskloom_task_pool`` with for ``loom run --executor dask``) runs every task body instead of
    this process's threads or worker processes, as ``processes`` would: the scheduling (dataflow
    order, retries, cache, records, resume) stays here. The caller owns it (it is not closed here).
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
        pool: TaskPool | None = None,
    ) -> None:
        self._max_workers = max_workers
        self._cache = cache
        # Whether executions are recorded (default: unless TASKLOOM_RECORD=0), and where.
        self._record = recording_enabled() if record is None else record
        self._store = store
        self._raw_output_prefix = (raw_output_prefix or raw_output_prefix_from_environment() or "").rstrip("/") or None
        # A plugin's pool stands where the worker processes would (its size as their number).
        self._given_pool = pool
        self._processes = pool.size if pool is not None else processes or _processes_from_environment()
        self._timeouts = _timeouts_setting(timeouts)
        self._pool: Any = pool
        if self._processes and max_workers is None:
            self._max_workers = max(self._processes, 1)  # as many scheduling threads as workers
        self._scheduler = Scheduler(self)  # made last: it reads the settings above

    @property
    def max_workers(self) -> int | None:
        """How many threads one workflow run (and one body's children) may use (None: the pool's default)."""
        return self._max_workers

    @property
    def processes(self) -> int | None:
        """How many worker processes run task bodies (None: they run on this process's threads)."""
        return self._processes

    @property
    def timeouts(self) -> str:
        """Where tasks with a timeout run: ``"processes"`` (killed at the deadline) or ``"threads"``."""
        return self._timeouts

    def process_pool(self) -> Any:
        """The worker processes of :attr:`processes` (made on first use; shared with the next run), or
        the pool given.
        """
        if self._pool is None:
            from taskloom_local.processes import shared_pool  # multiprocessing: only when processes run

            assert self._processes is not None  # asked for only when bodies run on processes
            self._pool = shared_pool(self._processes)  # workers outlive a run: the next one reuses them
        return self._pool

    def timeout_pool(self) -> Any:
        """The workers that run tasks with a timeout when bodies otherwise run on threads."""
        from taskloom_local.processes import shared_pool  # multiprocessing: only when processes run

        return shared_pool(self._max_workers or min(32, (os.cpu_count() or 1) + 4))

    def close(self) -> None:
        """Let go of the worker processes (they stay for the next run; they stop when Python exits)."""
        self._pool = self._given_pool

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
        return LocalRunner(self._scheduler.nodes, Execution(), None)

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
        flush_all()  # this process's own records of it, if any, are written first
        point = start_resume(self.store, execution_id, entity, inputs or {})
        if point.outputs is not None:  # it already succeeded
            return point.graph.python_interface.shape_outputs(point.outputs)
        try:
            execution = self._new_execution(
                point.entity,
                record=True,
                execution_id=execution_id,
                previous=point.previous,
                started=point.record.started,
                lock=point.lock,
            )
        except BaseException:
            point.lock.release()
            raise
        return self._execute(point.entity, point.inputs, execution, resumed=True)

    def _new_execution(
        self,
        entity: Any,
        *,
        record: bool,
        execution_id: str | None = None,
        previous: dict[str, Any] | None = None,
        started: float | None = None,
        lock: Any = None,
    ) -> Execution:
        overwrite_cache = bool(entity.overwrite_cache) if getattr(entity, "is_launch_plan", False) else False
        execution = Execution(overwrite_cache, execution_id, previous, started)
        execution.pool = self._given_pool
        if record:
            store = self.store
            execution.store = store
            execution.recorder = recorder_for(store)
            execution.record = execution.recorder.put
            execution.durable_after = durable_after()
            if capture_enabled():  # nodes' logs for reports: only when asked (TASKLOOM_CAPTURE_LOGS)
                install_log_capture()
                execution.capture_logs = True
            # A resume holds its execution's lock from here; a fresh execution's is taken by the
            # recorder with its first row (off the hot path: nobody can resume it before that row).
            execution.lock = lock
        return execution

    def _execute(self, entity: Any, inputs: dict[str, Any], execution: Execution, resumed: bool = False) -> Any:
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
            record((EXECUTION_STARTED, execution.name, entity, kind, inputs, _clock(), resumed))
            execution_began()
        announce.execution_started(execution.name, entity.name, kind, nodes)
        stopping = Interrupts.watch(execution)
        try:
            outputs = self._run(entity, kind, graph, inputs, execution)
        except BaseException as error:
            interrupted = execution.cancelled or isinstance(error, KeyboardInterrupt)
            if interrupted:
                if not isinstance(error, KeyboardInterrupt):  # a node's error caused by the interruption
                    error = KeyboardInterrupt(execution.cancelled or "interrupted").with_traceback(error.__traceback__)
                Interrupts.stopped()  # the workers and the pool killed before the caller sees the interrupt
                report_abandoned(execution)
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
            gates_of(execution, cancel=False)
            if execution.lock is not None:
                execution.lock.release()
        interface = (graph or entity).python_interface
        if record is not None:
            self._record_finish(execution, outputs, interface.outputs, None)
        announce.execution_finished(execution.name, entity.name, kind, None, nodes)
        return interface.shape_outputs(outputs)

    def _run(self, entity: Any, kind: str, graph: Any, inputs: dict[str, Any], execution: Execution) -> dict[str, Any]:
        """Run ``entity`` (a ``kind``: task, workflow or launch plan, whose ``graph`` is its workflow)."""
        if graph is None:  # a task: a one-node execution
            node = Node(node_id_for(entity.name.rsplit(".", 1)[-1]), entity, inputs)
            return self._scheduler.nodes.run_node(node, {}, execution, "")
        if kind == "launch plan":
            return self._scheduler.run_workflow(
                graph, entity.workflow_inputs(inputs), execution, max_parallelism=entity.max_parallelism
            )
        return self._scheduler.run_workflow(graph, inputs, execution)

    @staticmethod
    def _record_finish(
        execution: Execution, outputs: Any, types: Any, error: BaseException | None, status: str = "succeeded"
    ) -> None:
        execution_ended()
        execution.record((EXECUTION_FINISHED, execution.name, _clock(), outputs, types, error, status))
        if status == "interrupted":
            # The process is likely to end soon, perhaps by a second signal: make it durable now.
            execution.recorder.flush(timeout=0.8)
            return
        # Written now, not after the recorder's delay, but not waited for: the program goes on
        # meanwhile (exit, and reading the store, wait for it).
        execution.recorder.write_soon()


def _timeouts_setting(given: str | None) -> str:
    value = (given or os.environ.get(TIMEOUTS_ENV, "") or "processes").strip().lower()
    if value not in ("processes", "threads"):
        from taskloom.extend import UserValueError

        raise UserValueError(f"timeouts must be 'processes' or 'threads' ({TIMEOUTS_ENV}), got {value!r}")
    return value


def _processes_from_environment() -> int | None:
    # The pool's module (and its imports) is loaded only when processes are asked for.
    if not os.environ.get(PROCESSES_ENV, "").strip():
        return None
    from taskloom_local.processes import processes_from_environment

    return processes_from_environment()
