"""Recording local executions in the execution store, off the executor's hot path.

The executor hands each event (an execution or node starting, retrying, succeeding, failing) to a
:class:`Recorder` as a tuple on a queue: a put, and a clock read, per event. The recorder's thread
does the rest: it turns outputs into literals (plain values it keeps as they are:
:class:`~taskloom_local.store.PlainValues`), writes the literal files and then, in one
transaction, the rows, in batches. A batch starts with the first event not yet taken and is written
:data:`WRITE_DELAY` after it, or as soon as its execution ends (the executor marks the end and does
not wait). With the GIL, that thread's work slows whatever the run does meanwhile, so it makes way:
while another execution of this process runs, a batch waits until it is :data:`WRITE_DELAY` old
(unless someone waits for it), and the thread lets go of the GIL every couple of milliseconds of
work. A batch already due takes every event queued, so that a thread that fell behind catches up.
Every recorder is flushed when Python exits, and reading the store
(:class:`~taskloom_local.store.ExecutionStore`) first flushes this process's recorder for it.

The trade-off: a process killed with SIGKILL loses what was not yet written, about the last
:data:`WRITE_DELAY` of finished nodes (more if the thread had fallen behind a stream of trivial
nodes, and the end of an execution that had just returned); a resume runs them again. In return a
node costs the executor about a microsecond and a half.

Outputs that no one will need to resume are not converted at all. When a batch is written, a
succeeded node whose every *consumer* (the nodes that read its outputs or wait for it, and the
workflow's outputs if they bind it) is already recorded as finished is marked
:data:`~taskloom_local.store.SUPERSEDED`: a resume skips its consumers, so it never reads them.
Consumers come from the compiled graph (:func:`consumers_of`); a child started by a task body (a
map element, a dynamic graph, an eager call) has its parent as consumer; a node whose consumers are
unknown (a case of a conditional) is always stored. In a chain of fast tasks, most nodes are
superseded by the time their batch is written, so converting values costs next to nothing; a wide
graph whose nodes feed one slow node keeps them all. Values are converted on the recorder's thread,
after the node finished: a task that mutates a value it received in place can change what is
recorded of the node that returned it.
"""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import time
import weakref
from typing import Any

from taskloom_local.store import (
    FINISH_EXECUTION,
    INSERT_EXECUTION,
    RESUME_EXECUTION,
    STORED,
    SUPERSEDED,
    UNRECORDED,
    ExecutionStore,
    PlainValues,
    host_name,
)

#: Seconds the recorder waits after the first event of a batch before writing the batch.
WRITE_DELAY = 1.0
_MOST_EVENTS = 200_000  # in one batch (one transaction)
_PAUSE_EVERY = 0.002  # seconds of work between two moments the thread lets go of the GIL

# Events: tuples whose first item is one of these.
EXECUTION_STARTED = 0  # (kind, id, entity, kind name, inputs, time, resumed)
EXECUTION_FINISHED = 1  # (kind, id, time, outputs by name or None, output types, error or None)
GRAPH = 2  # (kind, id, prefix, workflow): the nodes of ``workflow`` run under ``prefix``
NODE_STARTED = 3  # (kind, id, path, parent, entity, time)
NODE_RETRIED = 4  # (kind, id, path, attempt)
NODE_SUCCEEDED = 5  # (kind, id, path, parent, entity, time, outputs by name)
NODE_FAILED = 6  # (kind, id, path, parent, entity, time, error)
NODE_REUSED = 7  # (kind, id, path): a resume read its outputs instead of running it
_FLUSH = 8  # (kind, event)

#: The consumer that stands for a workflow's outputs in :func:`consumers_of`.
OUTPUTS = ""


def consumers_of(workflow: Any) -> dict[str, tuple[str, ...]]:
    """For each node id of ``workflow``, the ids of the nodes that read its outputs or wait for it,
    plus :data:`OUTPUTS` when the workflow's outputs bind one of its outputs.
    """
    from taskloom.core.node import promises_in

    consumers: dict[str, list[str]] = {node.id: [] for node in workflow.nodes}
    for node in workflow.nodes:
        for upstream in node.upstream_nodes:
            if upstream.id in consumers:
                consumers[upstream.id].append(node.id)
    for value in workflow.output_bindings.values():
        for promise in promises_in(value):
            if promise.node_id in consumers and OUTPUTS not in consumers[promise.node_id]:
                consumers[promise.node_id].append(OUTPUTS)
    return {node_id: tuple(found) for node_id, found in consumers.items()}


def graph_fingerprint(entity: Any) -> str | None:
    """A digest of the graph an execution of ``entity`` runs: its nodes' ids, what each runs and what
    each waits for (None for a task). A resume refuses a graph that changed since the execution ran:
    nodes are found by path, and a path could now name another call. Constants are left out: a
    graph whose shape is kept but whose constants changed is not told apart.
    """
    graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
    nodes = getattr(graph, "nodes", None)
    if nodes is None:
        return None
    import zlib  # a change detector, not a security hash: hashlib would cost every run ~3 ms to import

    lines = [
        f"{node.id} {entity_name(node.entity)} <- {' '.join(sorted(upstream.id for upstream in node.upstream_nodes))}"
        for node in nodes
    ]
    data = "\n".join(lines).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"


def output_types(entity: Any) -> dict[str, Any]:
    """The output types of what a node runs, by name (a conditional's are its ``outputs``)."""
    if getattr(entity, "is_branch", False):
        return dict(entity.outputs)
    return entity.python_interface.outputs


def entity_name(entity: Any) -> str:
    """The name recorded for what a node runs."""
    return str(getattr(entity, "name", None) or type(entity).__name__)


def describe_error(error: BaseException) -> str:
    """``Type: message`` and the error's notes, one per line (what rows store)."""
    text = f"{type(error).__name__}: {error}"
    for note in getattr(error, "__notes__", ()):
        text += f"\n{note}"
    return text


class _Recording:
    """What the recorder's thread knows of one execution while it runs."""

    __slots__ = ("attempts", "consumers", "done", "started")

    def __init__(self) -> None:
        self.consumers: dict[str, tuple[str, ...]] = {}  # path -> paths of its consumers
        self.done: set[str] = set()  # paths a resume would skip (and OUTPUTS once the execution succeeded)
        self.started: dict[str, tuple[float, Any, Any]] = {}  # running nodes: (start time, parent, entity)
        self.attempts: dict[str, int] = {}  # retried nodes' current attempt


class Recorder:
    """The thread that writes the events of this process's executions to ``store``.

    :attr:`put` takes an event tuple (see the constants of this module); :meth:`flush` waits until
    every event put before it is written. Get one with :func:`recorder_for`.
    """

    def __init__(self, store: ExecutionStore) -> None:
        self.store = store
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.put = self._queue.put
        self._wake = threading.Event()  # set while flush marks wait in the queue
        self._marks = 0
        self._waiting = 0  # threads waiting in flush()
        self._marks_lock = threading.Lock()
        self._deadline = 0.0  # when the batch being written is due (time.time()), executions running or not
        self._paused = 0.0  # when the thread last let go of the GIL (perf_counter)
        self._recordings: dict[str, _Recording] = {}
        # Consumers by workflow (key None: by node id; "": by path at the top level).
        self._consumers: weakref.WeakKeyDictionary[Any, dict[Any, dict[str, tuple[str, ...]]]] = weakref.WeakKeyDictionary()
        self._connection: Any = None
        self._reported = False
        self._thread = threading.Thread(target=self._run, name="taskloom-recorder", daemon=True)
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything put so far is written (or ``timeout`` seconds); False on timeout."""
        if not self._thread.is_alive() or threading.current_thread() is self._thread:
            return False
        done = threading.Event()
        with self._marks_lock:
            self._waiting += 1  # someone waits: the thread stops yielding to running executions
        try:
            self._mark(done)
            return done.wait(timeout)
        finally:
            with self._marks_lock:
                self._waiting -= 1

    def write_soon(self) -> None:
        """Write what was put so far now rather than after :data:`WRITE_DELAY`, without waiting for it."""
        self._mark(None)

    def _mark(self, done: threading.Event | None) -> None:
        with self._marks_lock:  # counted before it is queued: the thread never sees a mark uncounted
            self._marks += 1
        self.put((_FLUSH, done))
        self._wake.set()

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            # Due a delay after its first event (not after it was taken: a thread that fell behind
            # must not fall further behind by waiting again).
            self._deadline = first[5] if first[0] in (EXECUTION_STARTED, NODE_STARTED) else time.time()
            self._deadline += WRITE_DELAY
            if first[0] != _FLUSH and time.time() < self._deadline:
                self._wake.wait(self._deadline - time.time())  # let a batch gather; a mark cuts it short
            batch = [first]
            due = time.time() >= self._deadline
            # A fresh batch ends at the first flush mark (the end of an execution): the next
            # execution's nodes are written once it ends too, when most of them no longer need
            # their outputs written. A batch that is due takes everything queued (up to a bound):
            # one transaction for many executions, so that a thread behind catches up.
            while (due or batch[-1][0] != _FLUSH) and len(batch) < _MOST_EVENTS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            marks = sum(1 for item in batch if item[0] == _FLUSH)
            with self._marks_lock:
                self._marks -= marks
                if not self._marks:
                    self._wake.clear()
            try:
                self._write(batch)
            except Exception as error:  # never let recording break or stop: say so once, go on
                self._report(error)
            finally:
                for item in batch:
                    if item[0] == _FLUSH and item[1] is not None:
                        item[1].set()

    def _report(self, error: BaseException) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None
        if not self._reported:
            self._reported = True
            sys.stderr.write(
                f"taskloom: cannot record executions in {self.store.directory} ({type(error).__name__}: {error}); "
                "runs go on, but what is not recorded cannot be resumed\n"
            )

    def _pause(self, now: bool = False) -> None:
        """Make way for the executions of this process while the batch can wait.

        The GIL is let go of at once (a thread of a run waiting for it, a lane reading a worker's
        result, would otherwise wait out a switch interval, 5 ms); then, while an execution runs,
        nobody waits in :meth:`flush` and the batch is younger than :data:`WRITE_DELAY`, the
        thread sleeps: the writing happens between executions, or once a delay has passed.
        ``now`` checks at once (before converting a value, which can take long), else at most
        every :data:`_PAUSE_EVERY` seconds.
        """
        if not now and time.perf_counter() - self._paused < _PAUSE_EVERY:
            return
        time.sleep(0)
        while _running[0] and not self._waiting and time.time() < self._deadline:
            time.sleep(0.01)
        self._paused = time.perf_counter()

    def _recording(self, execution_id: str) -> _Recording:
        recording = self._recordings.get(execution_id)
        if recording is None:
            recording = self._recordings[execution_id] = _Recording()
        return recording

    def _write(self, batch: list[tuple[Any, ...]]) -> None:
        self._pause(now=True)
        store = self.store
        statements: list[tuple[str, tuple[Any, ...]]] = []
        rows: list[tuple[Any, ...]] = []  # in order: a later row of a path replaces an earlier one
        succeeded: list[tuple[_Recording, tuple[Any, ...]]] = []
        started: list[tuple[_Recording, str, str]] = []
        finished: list[tuple[Any, ...]] = []
        names: dict[int, str] = {}  # entity names by id(entity): a batch has few entities, many nodes

        def name_of(entity: Any) -> str:
            name = names.get(id(entity))
            if name is None:
                name = names[id(entity)] = entity_name(entity)
            return name

        last_id: Any = None
        recording: Any = None
        for index, item in enumerate(batch):
            if not index & 63:
                self._pause()
            kind = item[0]
            if kind == _FLUSH:
                continue
            if kind == EXECUTION_STARTED:
                self._pause(now=True)
                statements.append(self._execution_started(item))
                last_id = None
                continue
            execution_id = item[1]
            if execution_id != last_id:  # a batch is mostly one execution's: look it up once
                last_id, recording = execution_id, self._recording(execution_id)
            if kind == NODE_STARTED:
                _, _, path, parent, entity, when = item
                recording.started[path] = (when, parent, entity)
                started.append((recording, execution_id, path))
            elif kind == NODE_SUCCEEDED:
                succeeded.append((recording, item))
            elif kind == NODE_FAILED:
                _, _, path, parent, entity, when, error = item
                began = recording.started.pop(path, None)
                rows.append((
                    execution_id, path, parent, name_of(entity), "failed", recording.attempts.pop(path, 0) + 1,
                    began[0] if began else None, when, describe_error(error), None, None,
                ))
            elif kind == NODE_RETRIED:
                recording.attempts[item[2]] = item[3]
            elif kind == GRAPH:
                recording.consumers.update(self._graph_consumers(item[3], item[2]))
            elif kind == NODE_REUSED:
                recording.done.add(item[2])
            elif kind == EXECUTION_FINISHED:
                finished.append(item)
        for item in finished:
            self._pause(now=True)
            statements.append(self._execution_finished(item))
        # Newest first: a node's consumers finished after it, so they are decided before it is.
        for index, (recording, item) in enumerate(reversed(succeeded)):
            if not index & 63:
                self._pause()
            _, execution_id, path, parent, entity, when, outputs = item
            consumers = recording.consumers.get(path)
            if consumers is None and parent is not None:
                consumers = (parent,)
            note = file = None
            if consumers is not None and recording.done.issuperset(consumers):
                state = SUPERSEDED
            elif not outputs:
                state = STORED  # nothing to write: a resume gives back no outputs
            else:
                self._pause()
                try:
                    text = _literal_map(outputs, output_types(entity), entity)
                    file = store.write_literals(execution_id, store.node_file_name(path), text)
                    state = STORED
                except Exception as error:
                    state, note = UNRECORDED, f"outputs not recorded: {describe_error(error)}"
            if state != UNRECORDED:
                recording.done.add(path)
            began = recording.started.pop(path, None)
            rows.append((
                execution_id, path, parent, name_of(entity), "succeeded", recording.attempts.pop(path, 0) + 1,
                began[0] if began else None, when, note, file, state,
            ))
        for recording, execution_id, path in started:
            began = recording.started.get(path)
            if began is not None:  # still running when the batch was written
                when, parent, entity = began
                rows.append((
                    execution_id, path, parent, name_of(entity), "running", recording.attempts.get(path, 0) + 1,
                    when, None, None, None, None,
                ))
        if self._connection is None:
            self._connection = store.connect()
        store.write_rows(self._connection, statements, rows)
        for item in finished:
            self._recordings.pop(item[1], None)

    def _graph_consumers(self, workflow: Any, prefix: str) -> dict[str, tuple[str, ...]]:
        """The consumers of the nodes of ``workflow`` run under ``prefix``, by path."""
        cached = self._consumers.get(workflow)
        if cached is None:
            cached = self._consumers[workflow] = {}
        if prefix in cached:
            return cached[prefix]
        graph = cached.get(None)
        if graph is None:
            graph = cached[None] = consumers_of(workflow)
        owner = prefix[:-1]  # a subworkflow's outputs are read by its node; the top level's by the execution
        by_path = {
            prefix + node_id: tuple(prefix + consumer if consumer else owner for consumer in found)
            for node_id, found in graph.items()
        }
        if not prefix:  # kept for the top level only: a graph run under many prefixes would pile up
            cached[prefix] = by_path
        return by_path

    def _execution_started(self, item: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        _, execution_id, entity, kind, inputs, started, resumed = item
        self._recordings[execution_id] = _Recording()
        host, pid = host_name(), os.getpid()
        if resumed:
            return RESUME_EXECUTION, (host, pid, execution_id)
        module = _module_of(entity)
        file = getattr(sys.modules.get(module or ""), "__file__", None)
        note = inputs_file = None
        try:
            inputs_file = self.store.write_literals(
                execution_id, "inputs", _literal_map(inputs, entity.python_interface.inputs, entity, "input")
            )
        except Exception as error:
            note = f"inputs not recorded: {describe_error(error)}"
        row = (
            execution_id, entity_name(entity), kind, module, os.path.abspath(file) if file else None, "running",
            started, None, None, inputs_file, None, note, host, pid, 0, graph_fingerprint(entity),
        )
        return INSERT_EXECUTION, row

    def _execution_finished(self, item: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        _, execution_id, when, outputs, types, error = item
        recording = self._recording(execution_id)
        if error is not None:
            return FINISH_EXECUTION, ("failed", when, describe_error(error), None, None, execution_id)
        note = outputs_file = None
        try:
            outputs_file = self.store.write_literals(execution_id, "outputs", _literal_map(outputs, types, None))
            recording.done.add(OUTPUTS)
        except Exception as error:
            note = f"outputs not recorded: {describe_error(error)}"
        return FINISH_EXECUTION, ("succeeded", when, None, outputs_file, note, execution_id)


def _literal_map(values: dict[str, Any], types: dict[str, Any], entity: Any, direction: str = "output") -> Any:
    """What the store writes of ``values``: plain values as they are (:class:`~taskloom_local.store.PlainValues`,
    which needs no literal contract), else their literal map.
    """
    plain = PlainValues.of(values, types)
    if plain is not None:
        return plain
    from taskloom.core.type_engine import TypeEngine

    label = None if entity is None else f"{'task' if hasattr(entity, 'task_function') else 'entity'} {entity_name(entity)!r}"
    return TypeEngine.dict_to_literal_map(None, values, types, entity=label, direction=direction)


def _module_of(entity: Any) -> str | None:
    # Entities are named "<module>.<name>" (the launch plan of a workflow may be named otherwise).
    for candidate in (entity, getattr(entity, "workflow", None)):
        name = getattr(candidate, "name", None)
        if isinstance(name, str) and "." in name:
            module = name.rsplit(".", 1)[0]
            if module in sys.modules:
                return module
    return None


_running = [0]  # executions of this process being recorded now (a list: updated in place under the lock)
_running_lock = threading.Lock()


def execution_began() -> None:
    """Note that a recorded execution started in this process (recorders write around it)."""
    with _running_lock:
        _running[0] += 1


def execution_ended() -> None:
    """Note that a recorded execution of this process ended."""
    with _running_lock:
        _running[0] -= 1


_recorders: dict[str, Recorder] = {}
_recorders_lock = threading.Lock()


def recorder_for(store: ExecutionStore) -> Recorder:
    """This process's recorder for ``store``'s directory (one thread per directory, made on first use)."""
    recorder = _recorders.get(store.directory)
    if recorder is None:
        with _recorders_lock:
            recorder = _recorders.get(store.directory)
            if recorder is None:
                if not _recorders:
                    atexit.register(flush_all)
                recorder = _recorders[store.directory] = Recorder(store)
    return recorder


def flush_directory(directory: str, timeout: float = 60.0) -> None:
    """Wait until this process's recorder for ``directory`` (if any) has written what it was given."""
    recorder = _recorders.get(directory)
    if recorder is not None:
        recorder.flush(timeout)


def flush_all(timeout: float = 60.0) -> None:
    """Wait until every recorder of this process has written what it was given (called at exit)."""
    deadline = time.monotonic() + timeout
    for recorder in list(_recorders.values()):
        recorder.flush(max(0.0, deadline - time.monotonic()))


def _forget_recorders() -> None:
    # A forked child has none of the parent's threads: it starts recorders of its own.
    _recorders.clear()


os.register_at_fork(after_in_child=_forget_recorders)
