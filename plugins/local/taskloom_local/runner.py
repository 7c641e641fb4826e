"""Running one node on the local executor: its events, its record, its cache and its attempts.

:class:`NodeRunner` is what the scheduler (:mod:`taskloom_local.scheduler`) and the children of a
running body (:mod:`taskloom_local.children`) hand each node to. It announces the node to the
listeners, hands its start and end to the recorder (or, in a resume, gives back its recorded outputs:
:mod:`taskloom_local.resume`), dispatches on what the node runs (a branch, a gate, a subworkflow or
launch plan, given back to the scheduler, a cached task, a task), and runs a task's attempts: on this
thread, in a worker process (every task when the executor has processes; a task with a timeout
unless timeouts run on threads), or on a thread of its own with a deadline, retrying as a Flyte
backend does.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import inspect
import threading
import time
import typing
import warnings
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    SILENT,
    ConditionFailedError,
    Node,
    Promise,
    RecoverableException,
    UserException,
    UserTimeoutError,
    WorkflowBase,
    running,
)
from taskloom_local.children import LocalRunner
from taskloom_local.execution import Checkpoints, Execution
from taskloom_local.logs import begin as begin_log
from taskloom_local.logs import end as end_log
from taskloom_local.recorder import NODE_FAILED, NODE_RETRIED, NODE_STARTED, NODE_SUCCEEDED
from taskloom_local.resume import reused

if TYPE_CHECKING:
    import concurrent.futures

    from taskloom_local.cache import CacheKey
    from taskloom_local.executor import LocalExecutor
    from taskloom_local.scheduler import Scheduler

_clock = time.time  # when recorded events happened (a module global: read once per event)

_worked = threading.local()  # .seconds: how long a pool's workers ran the node on this thread (note_worked)


def note_worked(seconds: float) -> None:
    """Say, from a pool's ``run`` on the scheduling thread, how long its worker ran the attempt: the time the
    durability threshold is compared with, instead of the wall time around the call, which on a pool that queues
    (a cluster kept busier than its workers) is mostly the queue, and would make every node's end wait for a write.
    """
    _worked.seconds = (getattr(_worked, "seconds", None) or 0.0) + seconds


#: Where tasks with a timeout run: ``processes`` (default: a worker killed at the deadline) or ``threads``.
TIMEOUTS_ENV = "TASKLOOM_TIMEOUTS"


class CachedOutputs(dict):
    """Outputs read from the cache (so that the node's finished event says so)."""


_NO_OVERRIDES: dict[str, Any] = {}


def overrides_cache(node: Node) -> bool:
    """Whether the node runs cached: the task's setting unless ``with_overrides(cache=False)``."""
    return bool(node.overrides.get("cache", True))


def _producer_types(node: Node) -> dict[str, Any] | None:
    """The ``Annotated`` types of the outputs bound to ``node``'s inputs, by input (None: none is):
    a producer's ``HashMethod`` gives a value's cache hash, as in flytekit.
    """
    found = None
    for name, value in node.bindings.items():
        if type(value) is Promise and typing.get_origin(value.python_type) is typing.Annotated:
            found = found or {}
            found[name] = value.python_type
    return found


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


class NodeRunner:
    """Runs a node of an execution per call (from any thread), for the scheduler and for the children of bodies.

    Made by the :class:`~taskloom_local.scheduler.Scheduler` it gives subworkflows back to, with the
    :class:`~taskloom_local.executor.LocalExecutor` whose settings it follows (copied here, since
    every node reads them; they are fixed for the executor's life) and whose cache and worker
    pools it uses.
    """

    def __init__(self, executor: LocalExecutor, scheduler: Scheduler) -> None:
        self.executor = executor
        self.scheduler = scheduler
        #: Threads of one workflow run, and of a running body's children (None: the pool's default).
        self.max_workers = executor.max_workers
        #: Worker processes that run task bodies (None: they run on threads).
        self.processes = executor.processes
        #: Where tasks with a timeout run: ``"processes"`` or ``"threads"``.
        self.timeouts = executor.timeouts
        #: Where files and directories returned by tasks are stored (None: passed by local path).
        self.raw_output_prefix = executor.raw_output_prefix

    def run_node(
        self,
        node: Node,
        values: dict[str, dict[str, Any]],
        execution: Execution,
        prefix: str,
        parent: str | None = None,
    ) -> dict[str, Any]:
        """Run ``node`` within ``execution``; return its outputs by name.

        ``values`` holds the outputs of the nodes its bindings read, by node id; ``prefix`` makes
        its path (``<prefix><id>``); ``parent`` is the path of the node whose body started it (a
        child), None for a node of a compiled graph. Raises what the node's task raised.
        """
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
        announce.node_finished(execution.name, path, name, None, parent, cached=type(outputs) is CachedOutputs)
        return outputs

    def start_node(
        self, node: Node, values: dict[str, dict[str, Any]], execution: Execution, prefix: str
    ) -> concurrent.futures.Future[dict[str, Any]] | None:
        """Start ``node`` of a compiled graph on a pool that starts bodies without a thread waiting for each
        (``TaskPool.start``); a future of its outputs by name, or None when the node needs the thread path.

        The scheduler waits for one thread per running node otherwise, and those threads bound what is in
        flight: a pool that queues (a cluster) then sees its work trickle in, and every thread contends for the
        GIL with the cluster's client (see docs/architecture.md). Only task nodes whose every service this
        path gives run so: events, the record and a resume's reuse, retries, the durability threshold (by the
        worker's time the pool gives). Those with a cache, a timeout, children, logs to keep or outputs to
        store take the thread path, as everything does on a pool without ``start``.
        """
        pool = self.starting_pool
        entity = node.entity
        if (
            pool is None
            or execution.cancelled
            or execution.capture_logs
            or self.raw_output_prefix is not None
            # Only tasks say whether they start children: branches, gates, workflows, launch plans are excluded too.
            or getattr(entity, "starts_children", True)
            or (entity.cache is not None and overrides_cache(node))
        ):
            return None
        retries, timeout = _limits(node)
        if timeout is not None:
            return None
        path, name = f"{prefix}{node.id}", getattr(entity, "name", node.id)
        import concurrent.futures  # loaded with the pool already

        done: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        done.set_running_or_notify_cancel()  # started: a failing run lets it end rather than cancel it
        record, key, announce = execution.record, execution.name, execution.announcer
        if record is not None and execution.previous is not None:
            reused_outputs = reused(node, path, execution, None)
            if reused_outputs is not None:
                done.set_result(reused_outputs)
                return done
        try:
            inputs = {input_name: resolve(value, values) for input_name, value in node.bindings.items()}
        except Exception:  # raised again, as the node's failure, by the thread path
            return None
        if announce is not SILENT:
            announce.node_started(key, path, name, None)
        began = _clock()
        if record is not None:
            record((NODE_STARTED, key, path, None, entity, began))
        checkpoint = Checkpoints(execution, path)
        attempt = 0

        def fail(error: BaseException) -> None:
            if record is not None:
                record((NODE_FAILED, key, path, None, entity, _clock(), error))
            if announce is not SILENT:
                announce.node_finished(key, path, name, error, None)
            done.set_exception(error)

        def start_attempt() -> None:
            try:
                started = pool.start(
                    entity,
                    inputs,
                    execution_id=key,
                    execution_date=execution.date,
                    attempt=attempt,
                    checkpoint=checkpoint(),
                    node_path=path,
                )
            except Exception as error:  # the pool's own (closed, the task not found): the node fails
                fail(error)
                return
            started.add_done_callback(attempt_ended)

        def attempt_ended(attempt_future: concurrent.futures.Future[Any]) -> None:
            # On the pool's thread: as short as the thread path's end of a node, a write only for a long body.
            nonlocal attempt
            try:
                result, worked = attempt_future.result()
                outputs = entity.python_interface.outputs_by_name(result)
            except BaseException as error:
                retry = isinstance(error, Exception) and _retryable(error, entity)
                if retry and attempt < retries and not execution.cancelled:
                    attempt += 1
                    _announce_retry(execution, path, entity, attempt, error, None)
                    start_attempt()
                else:
                    fail(error)
                return
            try:
                if record is not None:
                    ended = _clock()
                    record((NODE_SUCCEEDED, key, path, None, entity, ended, outputs))
                    _make_durable(execution, ended - began if worked is None else worked, None)
                if announce is not SILENT:
                    announce.node_finished(key, path, name, None, None)
            except BaseException as error:  # a listener's: the node's end must still reach the scheduler
                done.set_exception(error)
                return
            done.set_result(outputs)

        start_attempt()
        return done

    @functools.cached_property
    def starting_pool(self) -> Any:
        """The pool of task bodies when it starts them without a thread waiting (``TaskPool.start``), else None."""
        if not self.processes:
            return None
        pool = self.executor.process_pool()
        return pool if callable(getattr(pool, "start", None)) else None

    def _run_recorded_node(
        self, node: Node, values: dict[str, dict[str, Any]], execution: Execution, prefix: str, parent: str | None
    ) -> dict[str, Any]:
        """:meth:`run_node` with the node's start and end handed to the recorder (and, in a resume,
        its recorded outputs given back instead of running it). A node whose body ran longer than
        the durability threshold is written before this returns, so before its dependents start.
        """
        path, entity = f"{prefix}{node.id}", node.entity
        if execution.previous is not None:
            outputs = reused(node, path, execution, parent)
            if outputs is not None:
                return outputs
        record, key, announce = execution.record, execution.name, execution.announcer
        if announce is not SILENT:
            announce.node_started(key, path, getattr(entity, "name", node.id), parent)
        began = _clock()
        record((NODE_STARTED, key, path, parent, entity, began))
        _worked.seconds = None  # noted by a pool that runs the body (its attempts add up)
        # What the body prints and logs on this thread, kept for the store when the run asks for it (logs.py).
        token = begin_log() if execution.capture_logs else None
        try:
            outputs = self._run_node_body(node, values, execution, prefix, parent)
        except BaseException as error:
            if token is not None:
                end_log(token, record, key, path)
            record((NODE_FAILED, key, path, parent, entity, _clock(), error))
            if announce is not SILENT:
                announce.node_finished(key, path, getattr(entity, "name", node.id), error, parent)
            raise
        ended = _clock()
        if token is not None:
            end_log(token, record, key, path)
        record((NODE_SUCCEEDED, key, path, parent, entity, ended, outputs))
        worked = _worked.seconds
        _worked.seconds = None
        _make_durable(execution, ended - began if worked is None else worked, parent)
        if announce is not SILENT:
            announce.node_finished(
                key, path, getattr(entity, "name", node.id), None, parent, cached=type(outputs) is CachedOutputs
            )
        return outputs

    def _run_node_body(
        self, node: Node, values: dict[str, dict[str, Any]], execution: Execution, prefix: str, parent: str | None
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
            return self.scheduler.run_workflow(
                entity.workflow,
                entity.workflow_inputs(inputs),
                execution,
                prefix=f"{path}-",
                max_parallelism=entity.max_parallelism,
            )
        if isinstance(entity, WorkflowBase):
            return self.scheduler.run_workflow(entity, inputs, execution, prefix=f"{path}-")
        if entity.cache is not None and overrides_cache(node):
            return self._run_cached(node, inputs, execution, path, parent)
        return self._run_task(node, inputs, execution, path, parent)

    def _run_branch(
        self, branch: Any, values: dict[str, dict[str, Any]], execution: Execution, prefix: str
    ) -> dict[str, Any]:
        """Evaluate the conditions in order and run the first case that holds (or the else case)."""
        for case in branch.cases:
            if case.condition is not None and not case.condition.evaluate(lambda side: resolve(side, values)):
                continue
            if case.error is not None:
                raise ConditionFailedError(f"conditional {branch.name!r}: {case.error}")
            outputs = self.run_node(case.node, values, execution, prefix)
            return {name: outputs[promise.var] for name, promise in zip(branch.outputs, case.outputs)}
        raise UserException(f"conditional {branch.name!r}: no case holds")  # compile time requires else_

    def _run_cached(
        self, node: Node, inputs: dict[str, Any], execution: Execution, path: str, parent: str | None
    ) -> dict[str, Any]:
        task = node.entity
        cache = self.executor.cache
        key = cache.key(task, inputs, _producer_types(node))
        if task.cache.serialize:
            with cache.lock(key):  # identical calls wait for the first and read its result
                return self._lookup_or_run(node, inputs, execution, path, key, parent)
        return self._lookup_or_run(node, inputs, execution, path, key, parent)

    def _lookup_or_run(
        self,
        node: Node,
        inputs: dict[str, Any],
        execution: Execution,
        path: str,
        key: CacheKey,
        parent: str | None,
    ) -> dict[str, Any]:
        cache = self.executor.cache
        if not execution.overwrite_cache:
            hit = cache.get(node.entity, key)
            if hit is not None:
                return CachedOutputs(hit)
        outputs = self._run_task(node, inputs, execution, path, parent)
        cache.put(node.entity, key, outputs)
        return outputs

    def _run_task(
        self, node: Node, inputs: dict[str, Any], execution: Execution, path: str, parent: str | None = None
    ) -> dict[str, Any]:
        """Run the node's task, attempt after attempt while it fails in a way Flyte retries."""
        entity = node.entity
        retries, timeout = _limits(node)
        checkpoint = Checkpoints(execution, path)  # the checkpoint is made when a task first asks for it
        # A task that can be stopped at its deadline runs where it can be: in a worker process.
        pool = None
        if not entity.starts_children:
            if self.processes:
                pool = self.executor.process_pool()
            elif timeout is not None and self.timeouts == "processes":
                pool = self.executor.timeout_pool()
        attempt = 0
        while True:
            if execution.cancelled:
                raise KeyboardInterrupt(execution.cancelled)
            runner = LocalRunner(self, execution, path)  # for map, dynamic and eager bodies
            try:
                with running(runner):
                    if pool is None and timeout is None:
                        result = entity.run(
                            inputs,
                            execution_id=execution.name,
                            execution_date=execution.date,
                            attempt=attempt,
                            checkpoint=checkpoint,
                            checked=True,  # bindings were checked when the workflow was compiled
                            node_path=path,
                        )
                        if inspect.isawaitable(result):  # an async body, run where an event loop is running
                            # Awaited here, inside the attempt: with this runner current (an eager body's
                            # calls are this node's children, recorded and skipped on resume) and retried
                            # as any attempt. Awaited after it, the body ran with no runner of this
                            # execution (a fresh one: its calls ran again on every resume) and its
                            # failures were never retried.
                            result = _run_to_completion(result)
                    else:
                        result = self._run_bounded(entity, inputs, execution, path, attempt, checkpoint, pool, timeout)
                break
            except Exception as error:
                if isinstance(error, UserTimeoutError):
                    runner.abandon()  # a thread that timed out still runs: do not wait for its children
                if not _retryable(error, entity) or attempt >= retries or execution.cancelled:
                    raise
                attempt += 1
                _announce_retry(execution, path, entity, attempt, error, parent)
            finally:
                if runner.used:
                    if execution.cancelled:
                        runner.abandon()
                    else:
                        runner.close()
        outputs = entity.python_interface.outputs_by_name(result)
        if self.raw_output_prefix is not None:
            outputs = self._offload(outputs, entity, execution, path)
        return outputs

    def _offload(self, outputs: dict[str, Any], entity: Any, execution: Execution, path: str) -> dict[str, Any]:
        """``outputs`` with the files and directories among them uploaded under the raw output prefix."""
        from taskloom.extend import offload  # storage: only with a raw output prefix

        return offload(outputs, entity.python_interface.outputs, f"{self.raw_output_prefix}/{execution.name}/{path}")

    def _run_bounded(
        self,
        entity: Any,
        inputs: dict[str, Any],
        execution: Execution,
        path: str,
        attempt: int,
        checkpoint: Checkpoints,
        pool: Any,
        timeout: dt.timedelta | None,
    ) -> Any:
        """One attempt of a task that runs in a worker process (``pool``) or, on a thread of its own,
        against its ``timeout``; its result.
        """
        if pool is not None:
            return pool.run(
                entity,
                inputs,
                timeout=timeout,  # a worker past its timeout is killed, not abandoned
                execution_id=execution.name,
                execution_date=execution.date,
                attempt=attempt,
                checkpoint=checkpoint(),
                explain=None if self.processes else _TIMEOUT_IN_PROCESS,
                node_path=path,
            )
        return _call_with_timeout(
            entity.name,
            functools.partial(
                entity.run,
                inputs,
                execution_id=execution.name,
                execution_date=execution.date,
                attempt=attempt,
                checkpoint=checkpoint,
                checked=True,
                node_path=path,
            ),
            timeout,  # type: ignore[arg-type]
            execution,
            path,
        )

    def run_body(self, entity: Any, execution: Execution, inputs: dict[str, Any], path: str) -> dict[str, Any]:
        """Run ``entity``'s body once as the node at ``path``, without the node's services (events,
        record, retries, timeout, cache, storage), for a map element that needs none of them; give
        its outputs by name. Children its body starts run as children of ``path``.
        """
        runner = LocalRunner(self, execution, path)
        try:
            with running(runner):
                result = entity.run(
                    inputs,
                    execution_id=execution.name,
                    execution_date=execution.date,
                    attempt=0,
                    checkpoint=Checkpoints(execution, path),
                    checked=True,
                    node_path=path,
                )
                if inspect.isawaitable(result):  # as in an attempt: awaited with this runner current
                    result = _run_to_completion(result)
        finally:
            if runner.used:
                runner.close()
        return entity.python_interface.outputs_by_name(result)


def _limits(node: Node) -> tuple[int, dt.timedelta | None]:
    """The node's retries and timeout: its overrides', else its task's."""
    entity = node.entity
    if getattr(entity, "is_array_node", False):
        # A map task's retries and timeout are those of each element (as on Flyte): its
        # elements are children that get them; the map node itself runs once, unbounded.
        return 0, None
    overrides = node.overrides if node.has_overrides else _NO_OVERRIDES
    timeout = overrides.get("timeout", entity.metadata.timeout)
    if isinstance(timeout, int):
        timeout = dt.timedelta(seconds=timeout)
    return overrides.get("retries", entity.metadata.retries), timeout


def _make_durable(execution: Execution, ran: float, parent: str | None) -> None:
    """Write what the recorder holds before the node's dependents start when its body ran ``ran`` seconds, longer
    than the durability threshold. A child's dependent is its parent, whose own end is: a child is written without
    waiting."""
    if ran >= execution.durable_after:
        if parent is None:
            execution.recorder.flush()
        else:
            execution.recorder.write_soon()


def _announce_retry(
    execution: Execution, path: str, entity: Any, attempt: int, error: BaseException, parent: str | None
) -> None:
    """Tell the listeners, and the recorder, that the node at ``path`` starts its ``attempt``-th retry."""
    execution.announcer.node_retried(execution.name, path, entity.name, attempt, error, parent)
    if execution.record is not None:
        execution.record((NODE_RETRIED, execution.name, path, attempt))


def _retryable(error: Exception, entity: Any) -> bool:
    """Whether a failed attempt is run again (retries left): Flyte retries recoverable errors and
    timeouts; a task may list more exception classes (``retry_on``).
    """
    return isinstance(error, (UserTimeoutError, RecoverableException, *entity.retry_on))


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
    import asyncio  # ~10 ms: only for async bodies called from a running event loop

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
