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
and the timeout; its thread is abandoned, not killed (threads cannot be). The workflow's failure policy
decides what happens next: ``FAIL_IMMEDIATELY`` starts no further node and raises when the running
ones are done; ``FAIL_AFTER_EXECUTABLE_NODES_COMPLETE`` runs every node that does not depend on a
failed one, then raises. The error raised is the first failing task's own exception, with notes
naming the node and the workflow.

Executions are recorded in the execution store (:mod:`taskloom_local.store`, written by
:mod:`taskloom_local.recorder` off the hot path) unless ``TASKLOOM_RECORD=0`` or
``LocalExecutor(record=False)``. :meth:`LocalExecutor.resume` runs a recorded execution again under
the same id and with the same inputs, skipping every node whose outputs were recorded (found by path:
``n3``, ``n1-n0`` in a subworkflow, ``n2-5`` for a map element), and the nodes that only they needed.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import inspect
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from taskloom.core.checkpointer import Checkpoint
from taskloom.core.context_manager import new_execution_name
from taskloom.core.events import SILENT, listeners
from taskloom.core.executor import PROCESSES_ENV, running
from taskloom.core.node import Node, node_id_for
from taskloom.core.promise import START_NODE, Promise
from taskloom.core.workflow import WorkflowBase, WorkflowFailurePolicy
from taskloom.exceptions import RecoverableException
from taskloom.exceptions.user import UserException, UserTimeoutError
from taskloom.storage import raw_output_prefix as raw_output_prefix_from_environment

from taskloom_local.recorder import NODE_FAILED as _NODE_FAILED
from taskloom_local.recorder import NODE_RETRIED as _NODE_RETRIED
from taskloom_local.recorder import NODE_STARTED as _NODE_STARTED
from taskloom_local.recorder import NODE_SUCCEEDED as _NODE_SUCCEEDED

_clock = time.time  # when recorded events happened (a module global: read once per event)


if TYPE_CHECKING:
    from taskloom_local.cache import LocalCache


class LocalExecutor:
    """Runs workflows in this process; ``max_workers`` bounds the threads of one workflow run.

    ``record`` says whether executions are recorded (default: unless ``TASKLOOM_RECORD=0``) in
    ``store`` (default: the :class:`~taskloom_local.store.ExecutionStore` of the data directory).
    """

    def __init__(
        self,
        max_workers: int | None = None,
        cache: LocalCache | None = None,
        raw_output_prefix: str | None = None,
        processes: int | None = None,
        record: bool | None = None,
        store: Any = None,
    ) -> None:
        from taskloom_local.store import recording_enabled

        self._max_workers = max_workers
        self._cache = cache
        # Whether executions are recorded (default: unless TASKLOOM_RECORD=0), and where.
        self._record = recording_enabled() if record is None else record
        self._store = store
        self._raw_output_prefix = (raw_output_prefix or raw_output_prefix_from_environment() or "").rstrip("/") or None
        self._processes = processes or _processes_from_environment()
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
        ``entity`` is what the execution ran (default: loaded from the module or file it came from).
        An execution that already succeeded runs nothing and gives its recorded outputs.

        Raises :class:`~taskloom_local.store.ResumeError` for an unknown id, another entity, other
        inputs, or an execution still running in a live process.
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
        if record.state == "running":
            raise ResumeError(
                f"execution {execution_id} is still running (process {record.pid} on {record.host}); "
                "resume it once that process has ended"
            )
        inputs = _recorded_inputs(store, record, entity, inputs or {})
        graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
        if record.status == "succeeded":
            if record.outputs is None and graph.python_interface.outputs:
                raise ResumeError(f"execution {execution_id} succeeded, but its outputs were not recorded ({record.note})")
            outputs = {}
            if record.outputs is not None:
                outputs = store.read_values(
                    execution_id, record.outputs, graph.python_interface.outputs, entity=f"execution {execution_id}", direction="output"
                )
            sys.stderr.write(f"execution {execution_id} already succeeded: nothing to run\n")
            return graph.python_interface.shape_outputs(outputs)
        previous = {node.path: node for node in store.nodes(execution_id) if node.status == "succeeded"}
        execution = self._new_execution(entity, record=True, execution_id=execution_id, previous=previous, started=record.started)
        return self._execute(entity, inputs, execution, resumed=True)

    def _new_execution(
        self,
        entity: Any,
        *,
        record: bool,
        execution_id: str | None = None,
        previous: dict[str, Any] | None = None,
        started: float | None = None,
    ) -> _Execution:
        overwrite_cache = bool(entity.overwrite_cache) if getattr(entity, "is_launch_plan", False) else False
        execution = _Execution(overwrite_cache, execution_id, previous, started)
        if record:
            from taskloom_local.recorder import recorder_for

            execution.recorder = recorder_for(self.store)
            execution.record = execution.recorder.put
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
            if record is not None:
                self._record_finish(execution, None, None, error)
                error.add_note(
                    f"execution {execution.name} is recorded: `loom run ... --resume {execution.name}` "
                    f"(or LocalExecutor().resume({execution.name!r})) runs only what did not finish"
                )
            announce.execution_finished(execution.name, entity.name, kind, error, nodes)
            raise
        finally:
            self.close()
            _gates_of(execution, cancel=False)
        interface = (graph or entity).python_interface
        if record is not None:
            self._record_finish(execution, outputs, interface.outputs, None)
        announce.execution_finished(execution.name, entity.name, kind, None, nodes)
        return interface.shape_outputs(outputs)

    @staticmethod
    def _record_finish(execution: _Execution, outputs: Any, types: Any, error: BaseException | None) -> None:
        from taskloom_local.recorder import EXECUTION_FINISHED, execution_ended

        execution_ended()
        execution.record((EXECUTION_FINISHED, execution.name, _clock(), outputs, types, error))  # type: ignore[misc]
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
                    node_id = ready.popleft()
                    if waiting_on.pop(node_id, None) is None:  # dropped after a failure
                        continue
                    node = nodes[node_id]
                    if finished is not None and node_id in finished:
                        finish(node, self._reuse(node.entity, f"{prefix}{node_id}", finished[node_id], execution, None), None)
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
                        import concurrent.futures

                        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_parallelism or self._max_workers)
                    running[pool.submit(self._run_node, node, values, execution, prefix)] = node
                if not running:
                    break
                import concurrent.futures

                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    node = running.pop(future)
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
        except BaseException:  # interrupted (Ctrl-C): gates waiting in the pool must not hold it open
            _gates_of(execution, cancel=True)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        if failures:
            node, error = failures[0]
            error.add_note(f"in node {node.id} of workflow {workflow.name!r}")
            if len(failures) > 1:
                error.add_note(f"{len(failures) - 1} more node(s) failed: {', '.join(other.id for other, _ in failures[1:])}")
            raise error
        return {name: resolve(value, values) for name, value in workflow.output_bindings.items()}

    def _finished_nodes(
        self, workflow: WorkflowBase, waiting_on: dict[str, set[str]], execution: _Execution, prefix: str
    ) -> dict[str, dict[str, Any]]:
        """The nodes of ``workflow`` a resume skips, with their outputs: those recorded as succeeded
        whose outputs can be read back, and those whose outputs were not written because every
        consumer had finished, if every consumer is skipped too (so nobody reads them).
        """
        from taskloom_local.recorder import OUTPUTS, consumers_of, entity_name
        from taskloom_local.store import STORED, SUPERSEDED

        previous = execution.previous or {}
        consumers = consumers_of(workflow)
        nodes = {node.id: node for node in workflow.nodes}
        finished: dict[str, dict[str, Any]] = {}
        for node_id in reversed(_topological_order(waiting_on)):  # consumers are decided first
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
                execution.name, record.outputs, output_types(entity), entity=repr(entity_name(entity)), direction="output"
            )
        except Exception:  # missing, damaged or no longer of the node's types: run the node again
            return None

    def _reuse(
        self, entity: Any, path: str, outputs: dict[str, Any], execution: _Execution, parent: str | None
    ) -> dict[str, Any]:
        """Give a node's recorded ``outputs`` in place of running it (announced as a cached node)."""
        from taskloom_local.recorder import NODE_REUSED

        execution.record((NODE_REUSED, execution.name, path))  # type: ignore[misc]
        announce = execution.announcer
        if announce is not SILENT:
            name = getattr(entity, "name", path)
            announce.node_started(execution.name, path, name, parent)
            announce.node_finished(execution.name, path, name, None, parent, cached=True)
        return outputs

    def _reused(self, entity: Any, path: str, execution: _Execution, parent: str | None) -> dict[str, Any] | None:
        """A child's recorded outputs when a resume can skip it (None: it runs)."""
        from taskloom_local.recorder import entity_name
        from taskloom_local.store import STORED

        record = execution.previous.get(path)  # type: ignore[union-attr]
        if record is None or record.outputs_state != STORED or record.entity != entity_name(entity):
            return None
        outputs = self._recorded_outputs(record, entity, execution)
        return None if outputs is None else self._reuse(entity, path, outputs, execution, parent)

    def _run_node(
        self, node: Node, values: dict[str, dict[str, Any]], execution: _Execution, prefix: str, parent: str | None = None
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
        its recorded outputs given back instead of running it).
        """
        path, entity = f"{prefix}{node.id}", node.entity
        if execution.previous is not None:
            reused = self._reused(entity, path, execution, parent)
            if reused is not None:
                return reused
        record, key, announce = execution.record, execution.name, execution.announcer
        if announce is not SILENT:
            announce.node_started(key, path, getattr(entity, "name", node.id), parent)
        record((_NODE_STARTED, key, path, parent, entity, _clock()))  # type: ignore[misc]
        try:
            outputs = self._run_node_body(node, values, execution, prefix, parent)
        except BaseException as error:
            record((_NODE_FAILED, key, path, parent, entity, _clock(), error))  # type: ignore[misc]
            if announce is not SILENT:
                announce.node_finished(key, path, getattr(entity, "name", node.id), error, parent)
            raise
        record((_NODE_SUCCEEDED, key, path, parent, entity, _clock(), outputs))  # type: ignore[misc]
        if announce is not SILENT:
            announce.node_finished(key, path, getattr(entity, "name", node.id), None, parent, cached=type(outputs) is _CachedOutputs)
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
        key: tuple[str, str, str],
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
        attempt = 0
        while True:
            runner = LocalRunner(self, execution, path)  # for map, dynamic and eager bodies
            try:
                with running(runner):
                    if self._processes and not entity.starts_children:
                        result = self._process_pool().run(
                            entity,
                            inputs,
                            timeout=timeout,  # a worker past its timeout is killed, not abandoned
                            execution_id=execution.name,
                            execution_date=execution.date,
                            attempt=attempt,
                            checkpoint=checkpoint(),
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
                        )
                break
            except UserTimeoutError as error:
                runner.abandon()  # the attempt's thread still runs: do not wait for its children
                if attempt >= retries:
                    raise
                attempt += 1
                execution.announcer.node_retried(execution.name, path, entity.name, attempt, error, parent)
                if execution.record is not None:
                    execution.record((_NODE_RETRIED, execution.name, path, attempt))
            except Exception as error:
                # Flyte retries recoverable errors (and timeouts, above); a task may list more (retry_on).
                retryable = isinstance(error, (RecoverableException, *entity.retry_on))
                if not retryable or attempt >= retries:
                    raise
                attempt += 1
                execution.announcer.node_retried(execution.name, path, entity.name, attempt, error, parent)
                if execution.record is not None:
                    execution.record((_NODE_RETRIED, execution.name, path, attempt))
            finally:
                if runner.used:
                    runner.close()
        if inspect.isawaitable(result):  # an async body run on a thread whose event loop is running
            result = _run_to_completion(result)
        outputs = entity.python_interface.outputs_by_name(result)
        if self._raw_output_prefix is not None:
            from taskloom.types.blob import offload

            outputs = offload(outputs, entity.python_interface.outputs, f"{self._raw_output_prefix}/{execution.name}/{path}")
        return outputs


    def _run_branch(self, branch: Any, values: dict[str, dict[str, Any]], execution: _Execution, prefix: str) -> dict[str, Any]:
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

    __slots__ = ("_executor", "_execution", "_parent", "_pool", "used")

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
        if self._parent is not None:
            self._execution.announcer.node_expanded(
                self._execution.name, self._parent, getattr(entity, "name", str(entity)), count
            )
        limit = self._executor._max_workers or min(32, (os.cpu_count() or 1) + 4)
        lanes = min(concurrency or count, count, limit)
        if self._batchable(entity):
            return self._map_in_batches(entity, inputs, lanes, on_done)
        run_one = self._element_runner(entity)
        indices = iter(range(count))  # shared by the lanes: next() on it is atomic under the GIL
        stop = False

        def lane() -> None:
            nonlocal stop
            for index in indices:
                if stop:
                    return
                try:
                    outcome = run_one(inputs[index], str(index))
                except Exception as error:
                    outcome = error
                outcomes[index] = outcome
                if on_done is not None and on_done(index, outcome):
                    stop = True

        if lanes == 1:
            lane()
            return outcomes
        import contextvars

        threads = [
            threading.Thread(target=contextvars.Context().run, args=(lane,), name=f"taskloom-lane-{number}", daemon=True)
            for number in range(lanes - 1)
        ]
        for thread in threads:
            thread.start()
        contextvars.Context().run(lane)  # this thread is a lane too (its own context, as the others)
        for thread in threads:
            thread.join()
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

    def _map_in_batches(self, entity: Any, inputs: Any, lanes: int, on_done: Any) -> list[Any]:
        # Elements go to the workers in batches (one round trip each, not one per element); each
        # lane keeps one worker busy.
        count = len(inputs)
        outcomes: list[Any] = [None] * count
        execution, prefix = self._execution, self._prefix
        record, parent = execution.record, self._parent
        stop = False
        indices: list[int] | range = range(count)
        if execution.previous is not None:  # a resume: elements recorded as succeeded are not sent
            indices = []
            for index in range(count):
                reused = self._executor._reused(entity, f"{prefix}{index}", execution, parent)
                if reused is None:
                    indices.append(index)
                    continue
                outcomes[index] = reused
                if on_done is not None and on_done(index, reused):
                    stop = True
        size = max(1, min(256, len(indices) // (lanes * 4)))
        batches = iter([indices[start : start + size] for start in range(0, len(indices), size)])
        pool = self._executor._process_pool()

        def lane() -> None:
            nonlocal stop
            for batch in batches:
                if stop:
                    return
                started = _clock()
                results = pool.run_many(
                    entity,
                    [inputs[index] for index in batch],
                    [execution.checkpoint(f"{prefix}{index}") for index in batch],
                    execution_id=execution.name,
                    execution_date=execution.date,
                    attempt=0,
                )
                ended = _clock()
                for index, outcome in zip(batch, results):  # outputs by name, or the exception
                    outcomes[index] = outcome
                    if record is not None:  # the batch's times stand for each element's
                        path = f"{prefix}{index}"
                        record((_NODE_STARTED, execution.name, path, parent, entity, started))
                        if isinstance(outcome, BaseException):
                            record((_NODE_FAILED, execution.name, path, parent, entity, ended, outcome))
                        else:
                            record((_NODE_SUCCEEDED, execution.name, path, parent, entity, ended, outcome))
                    if on_done is not None and on_done(index, outcome):
                        stop = True

        threads = [threading.Thread(target=lane, name=f"taskloom-batch-{number}", daemon=True) for number in range(lanes - 1)]
        for thread in threads:
            thread.start()
        lane()
        for thread in threads:
            thread.join()
        return outcomes

    def _element_runner(self, entity: Any) -> Any:
        """How :meth:`map` runs one element: as any child, or, for a plain task that needs none of
        the executor's per-node services (no retries, timeout, cache, storage or listeners), by
        calling it directly: the same context, checks and outputs, without the node bookkeeping.
        """
        execution = self._execution
        if self._executor._processes is not None or not self._plain(entity):
            return lambda inputs, name: self.run(entity, inputs, name=name)
        prefix = self._prefix
        direct = self._direct_call(entity)
        if execution.record is not None:
            return self._recorded_element_runner(entity, prefix, direct)
        return lambda inputs, name: direct(inputs, prefix + name)

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

    def _recorded_element_runner(self, entity: Any, prefix: str, direct: Any) -> Any:
        """:meth:`_element_runner`'s direct call with each element handed to the recorder (and, in a
        resume, its recorded outputs given back instead of running it).
        """
        executor, execution, parent = self._executor, self._execution, self._parent
        record, key = execution.record, execution.name

        def run_recorded(inputs: dict[str, Any], name: str) -> dict[str, Any]:
            path = prefix + name
            if execution.previous is not None:
                reused = executor._reused(entity, path, execution, parent)
                if reused is not None:
                    return reused
            record((_NODE_STARTED, key, path, parent, entity, _clock()))  # type: ignore[misc]
            try:
                outputs = direct(inputs, path)
            except BaseException as error:
                record((_NODE_FAILED, key, path, parent, entity, _clock(), error))  # type: ignore[misc]
                raise
            record((_NODE_SUCCEEDED, key, path, parent, entity, _clock(), outputs))  # type: ignore[misc]
            return outputs

        return run_recorded

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
        import concurrent.futures

        with _POOL_LOCK:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._executor._max_workers, thread_name_prefix="taskloom"
                )


def _call_with_timeout(task_name: str, call_task: Any, timeout: dt.timedelta) -> Any:
    # A thread cannot be killed: past its timeout the call is abandoned (it keeps running until it
    # returns, its result ignored) and the node fails. Process pools, which can kill, come later.
    import contextvars
    import threading

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
    worker.join(timeout.total_seconds())
    if worker.is_alive():
        raise UserTimeoutError(f"task {task_name!r} did not finish within its timeout of {timeout}")
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

    worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="taskloom-async")
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
    # Signals live on the kernel's board: wake the execution's waiting gates (cancel) or forget its
    # signals and cancel when it ends. Nothing to do, and nothing imported, if no gate module is loaded.
    import sys

    gate = sys.modules.get("taskloom.core.gate")
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
        self.date = dt.datetime.fromtimestamp(started, dt.timezone.utc) if started else dt.datetime.now(dt.timezone.utc)
        self.announcer = listeners()  # the plugins listening to lifecycle events, asked once per run
        self.recorder: Any = None
        self.record: Any = None  # the recorder's put (None: not recorded)
        self.previous = previous

    def checkpoint(self, path: str) -> Checkpoint:
        """The checkpoint of the node at ``path`` (the same object for every attempt of it)."""
        import tempfile  # only for tasks that use their checkpoint

        return Checkpoint(os.path.join(tempfile.gettempdir(), f"taskloom-{self.name}", path, "checkpoint"))


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

    from taskloom.run import entities_of, load_module

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
    from taskloom.core.type_engine import TypeEngine

    from taskloom_local.store import ResumeError

    types = entity.python_interface.inputs
    unknown = sorted(set(given) - set(types))
    if unknown:
        raise ResumeError(f"{entity.name!r} has no input {unknown[0]!r}; its inputs are {sorted(types)}")
    label = f"execution {record.id}"
    if record.inputs is None:
        missing = sorted(set(types) - set(given))
        if missing and record.status != "succeeded":
            raise ResumeError(f"{label}: its inputs were not recorded ({record.note}); give them all to resume it, missing {missing}")
        return dict(given)
    try:
        recorded = store.read_literals(record.id, record.inputs, types)
    except (OSError, ValueError) as error:
        raise ResumeError(f"{label}: its recorded inputs cannot be read: {error}") from error
    if given:
        literals = TypeEngine.dict_to_literal_map(None, given, {name: types[name] for name in given}, entity=label).literals
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
