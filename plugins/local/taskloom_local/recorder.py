"""Recording local executions in the execution store, off the executor's hot path.

The executor hands each event (an execution or node starting, retrying, succeeding, failing) to a
:class:`Recorder` as a tuple on a queue: a put, and a clock read, per event. The recorder's thread
does the rest: it turns outputs into literals (plain values it keeps as they are:
:class:`~taskloom_local.store.PlainValues`), writes the literal files and then, in one
transaction, the rows, in batches.

**When things are written.** An execution's start is written within :data:`START_DELAY` (a run
killed in its first second is still listed, and resumable). Other events are written in a batch :data:`WRITE_DELAY`
after the first of them, as soon as their execution ends, or when the executor asks to make them
*durable* (:meth:`Recorder.flush`): it does so when a node's body ran longer than the durability
threshold (:func:`durable_after`, 50 ms unless ``TASKLOOM_DURABLE_AFTER`` says otherwise), before
that node's dependents start. A body run by a pool that says how long its worker took
(:func:`~taskloom_local.runner.note_worked`: taskloom-dask) is measured by that, not by the time it
waited in the cluster's queue; a map's batches likewise (``TaskPool.run_many``'s ``seconds``). The
guarantee is therefore: SIGKILL at any point never makes a node that ran longer than the threshold
run again on resume; quicker nodes that finished in the last
:data:`WRITE_DELAY` may run again (cheap by definition). With the GIL, the thread's work slows
whatever the run does meanwhile, so it makes way: while an execution of this process runs, a batch
waits until it is due (unless someone waits for it or the backlog passes :data:`BACKLOG` events),
and the thread lets go of the GIL every couple of milliseconds of work.

**Memory is bounded by a backlog, not by the run's size.** A map's elements run with no event per
element: the map hands the recorder the list its lanes fill (:data:`ELEMENTS`), and a batch reads
what is new in it. Other children (elements that need the executor's per-node services, eager
calls) are events; when more than :data:`BACKLOG` of them wait, the thread writes without waiting
for the batch to be due.

**What is written.** Nodes of the compiled graphs get a row each (status, attempts, times, error,
fingerprint). Children started by a task body (map elements, eager calls, a dynamic task's graph)
get no row while they succeed: while their parent runs, the outputs of those that finished are
written in chunks (:class:`~taskloom_local.store.ChildRecords`), so that a resume of the parent
skips them; once the parent has finished, nothing of them is needed, nothing is written, and the
parent's row counts them. A failed child gets a row with its error.

Outputs that no one will need to resume are not converted at all. When a batch is written, a
succeeded node whose every *consumer* (the nodes that read its outputs or wait for it, and the
workflow's outputs if they bind it) is already recorded as finished is marked
:data:`~taskloom_local.store.SUPERSEDED`: a resume skips its consumers, so it never reads them.
Consumers come from the compiled graph (:func:`consumers_of`); a node whose consumers are unknown
(a case of a conditional) is always stored. Values are converted on the recorder's thread, after
the node finished: a task that mutates a value it received in place can change what is recorded of
the node that returned it.
"""

from __future__ import annotations

import atexit
import itertools
import json
import math
import os
import queue
import reprlib
import sys
import tempfile
import threading
import time
import traceback
import weakref
from json.encoder import encode_basestring as _json_string
from typing import Any

from taskloom_local.fingerprints import entity_fingerprint, node_fingerprint
from taskloom_local.store import (
    FINISH_EXECUTION,
    INSERT_EXECUTION,
    RESUME_EXECUTION,
    STORED,
    SUPERSEDED,
    TRACEBACK_CHARS,
    UNRECORDED,
    ChildRecords,
    ExecutionStore,
    PlainValues,
    host_name,
)

#: Seconds the recorder waits after the first event of a batch before writing the batch.
WRITE_DELAY = 1.0
#: Seconds after an execution starts by which its start is written (unless it ended before: then
#: start and end are one batch, and a run of many short executions is not slowed by writing each twice).
START_DELAY = 0.1
#: Events waiting past which the recorder writes without waiting for the batch to be due.
BACKLOG = 100_000
DURABLE_AFTER_ENV = "TASKLOOM_DURABLE_AFTER"
#: Seconds of a node's body after which it is written before its dependents start.
DEFAULT_DURABLE_AFTER = 0.05
_MOST_EVENTS = 100_000  # in one batch (one transaction): bounds the memory a batch takes
_PAUSE_EVERY = 0.002  # seconds of work between two moments the thread lets go of the GIL

# Events: tuples whose first item is one of these.
EXECUTION_STARTED = 0  # (kind, id, entity, kind name, inputs, time, resumed)
EXECUTION_FINISHED = 1  # (kind, id, time, outputs by name or None, output types, error or None, status)
GRAPH = 2  # (kind, id, prefix, workflow): the nodes of ``workflow`` run under ``prefix``
NODE_STARTED = 3  # (kind, id, path, parent, entity, time)
NODE_RETRIED = 4  # (kind, id, path, attempt)
NODE_SUCCEEDED = 5  # (kind, id, path, parent, entity, time, outputs by name)
NODE_FAILED = 6  # (kind, id, path, parent, entity, time, error)
NODE_REUSED = 7  # (kind, id, path, parent): a resume read its outputs instead of running it
ELEMENTS = 8  # (kind, id, parent, entity, outcomes, time[, durations]): a map's lanes fill ``outcomes`` (and
# ``durations``, seconds per element, when they time them)
_FLUSH = 9  # (kind, event)
NODE_LOGS = 10  # (kind, id, path, text): what the node's body printed and logged (taskloom_local.logs)

#: The consumer that stands for a workflow's outputs in :func:`consumers_of`.
OUTPUTS = ""


def durable_after() -> float:
    """``$TASKLOOM_DURABLE_AFTER`` in seconds (default :data:`DEFAULT_DURABLE_AFTER`); a node whose
    body ran at least this long is written before its dependents start.
    """
    text = os.environ.get(DURABLE_AFTER_ENV, "").strip()
    if not text:
        return DEFAULT_DURABLE_AFTER
    try:
        seconds = float(text)
    except ValueError:
        from taskloom.extend import UserValueError

        raise UserValueError(f"{DURABLE_AFTER_ENV} must be a number of seconds, got {text!r}") from None
    return max(0.0, seconds)


def consumers_of(workflow: Any) -> dict[str, tuple[str, ...]]:
    """For each node id of ``workflow``, the ids of the nodes that read its outputs or wait for it,
    plus :data:`OUTPUTS` when the workflow's outputs bind one of its outputs.
    """
    return _shape(workflow).consumers


def graph_fingerprint(entity: Any) -> str | None:
    """A digest of the graph an execution of ``entity`` runs: its nodes' ids, what each runs and what
    each waits for (None for a task). A resume refuses a graph that changed since the execution ran:
    nodes are found by path, and a path could now name another call. What each node runs (its code
    and constants) is each node's own fingerprint (:mod:`taskloom_local.fingerprints`): a node
    that changed runs again rather than refusing the resume.
    """
    graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
    if getattr(graph, "nodes", None) is None:
        return None
    return _shape(graph).fingerprint


def graph_shape(entity: Any) -> str | None:
    """The graph an execution of ``entity`` runs, as JSON for reports (None for a task): ``{"nodes": [...]}``,
    each node ``{"id", "entity", "kind", "upstream", "inputs"}`` where ``kind`` is ``task``, ``map``,
    ``workflow``, ``branch`` or ``gate``, ``upstream`` the ids it waits for, and ``inputs`` says where each
    input comes from: ``[node id, output]`` (``start-node`` for a workflow input), or a preview of a constant.
    Worked out once per workflow, on the recorder's thread.
    """
    graph = entity.workflow if getattr(entity, "is_launch_plan", False) else entity
    if getattr(graph, "nodes", None) is None:
        return None
    shape = _shape(graph)
    if shape.layout is None:
        shape.layout = _layout(graph, shape.consumers)
    return shape.layout


def _layout(workflow: Any, consumers: dict[str, tuple[str, ...]]) -> str:
    from taskloom.extend import WorkflowBase, promises_in

    # Each node's upstream ids from the consumers already worked out (a node's upstream_nodes is built
    # from its bindings at every call: twice the time of the rest for a chain).
    upstream: dict[str, list[str]] = {node_id: [] for node_id in consumers}
    for node_id, readers in consumers.items():
        for consumer in readers:
            if consumer in upstream:
                upstream[consumer].append(node_id)
    nodes = []
    for node in workflow.nodes:
        entity = node.entity
        if getattr(entity, "is_array_node", False):
            kind = "map"
        elif getattr(entity, "is_branch", False):
            kind = "branch"
        elif getattr(entity, "is_gate", False):
            kind = "gate"
        elif isinstance(entity, WorkflowBase) or getattr(entity, "is_launch_plan", False):
            kind = "workflow"
        else:
            kind = "task"
        inputs: dict[str, Any] = {}
        for name, value in node.bindings.items():
            found = promises_in(value)
            if len(found) == 1 and found[0] is value:
                inputs[name] = [value.node_id, value.var]
            elif found:
                inputs[name] = [[promise.node_id, promise.var] for promise in found]
            else:
                inputs[name] = preview(value)
        nodes.append(
            {
                "id": node.id,
                "entity": entity_name(entity),
                "kind": kind,
                "upstream": sorted(upstream[node.id]),
                "inputs": inputs,
            }
        )
    return json.dumps({"nodes": nodes}, separators=(",", ":"))


#: Characters of a value's preview (:func:`preview`).
PREVIEW_CHARS = 200
_previews = reprlib.Repr()
_previews.maxstring = _previews.maxother = PREVIEW_CHARS
_previews.maxlist = _previews.maxtuple = _previews.maxset = _previews.maxdict = 10
_previews.maxlevel = 3
_QUICK = frozenset({int, float, bool, type(None)})


def preview(value: Any) -> str:
    """A short text of ``value`` for reports: its ``repr``, cut to about :data:`PREVIEW_CHARS` characters
    (containers cut to their first items), never the whole of a large value; a value whose ``repr`` fails
    says so.
    """
    kind = type(value)
    try:
        if kind in _QUICK:
            text = repr(value)
        elif kind is str:
            text = repr(value[: PREVIEW_CHARS + 1])
        else:
            text = _previews.repr(value)
    except Exception as error:
        return f"<{kind.__name__}: repr failed: {type(error).__name__}>"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


#: Failed elements of one map whose traceback is kept (the others keep their error's text).
TRACED_ELEMENTS = 20
#: Bars of an element histogram (:func:`element_summary`).
HISTOGRAM_BARS = 20


def element_summary(succeeded: list[float], failed: list[float]) -> str | None:
    """The durations (seconds) of a node's children that succeeded and failed as a histogram, JSON:
    ``{"low", "high", "scale", "succeeded": [count per bar], "failed": [...]}``, :data:`HISTOGRAM_BARS` bars from
    the shortest to the longest, of equal width (``scale`` ``"linear"``) or, when the longest is more than ten
    times the shortest, of equal ratio (``"log"``: a few slow elements do not squeeze all the others into one
    bar). A compact form: a map of 100,000 elements is a few hundred bytes. None when no duration is known.
    """
    if not succeeded and not failed:
        return None
    low = min(min(succeeded, default=math.inf), min(failed, default=math.inf))
    high = max(max(succeeded, default=0.0), max(failed, default=0.0))
    last = HISTOGRAM_BARS - 1
    logarithmic = low > 0 and high > 10 * low
    if logarithmic:
        floor, width = math.log(low), math.log(high / low) / HISTOGRAM_BARS
    else:
        floor, width = low, (high - low) / HISTOGRAM_BARS or 1.0
    measure = math.log if logarithmic else float
    counts = []
    for durations in (succeeded, failed):
        bars = [0] * HISTOGRAM_BARS
        for duration in durations:
            bars[max(0, min(last, int((measure(duration) - floor) / width)))] += 1
        counts.append(bars)
    return json.dumps(
        {
            "low": low,
            "high": high,
            "scale": "log" if logarithmic else "linear",
            "succeeded": counts[0],
            "failed": counts[1],
        }
    )


def describe_traceback(error: BaseException) -> str:
    """The traceback of ``error`` as Python prints it, its last :data:`~taskloom_local.store.TRACEBACK_CHARS`."""
    try:
        text = "".join(traceback.format_exception(error))
    except Exception:  # a broken exception (its __str__ raises): the type is what is left
        return type(error).__name__
    return text if len(text) <= TRACEBACK_CHARS else "…" + text[-TRACEBACK_CHARS:]


class _Shape:
    """What the recorder and a resume read of a compiled graph, worked out once per workflow (each
    node's upstream list is built from its bindings on every call).
    """

    __slots__ = ("__weakref__", "consumers", "fingerprint", "layout")

    def __init__(self, workflow: Any) -> None:
        import zlib  # a change detector, not a security hash

        from taskloom.extend import promises_in

        nodes = workflow.nodes
        consumers: dict[str, list[str]] = {node.id: [] for node in nodes}
        lines = []
        for node in nodes:
            upstream = [upstream.id for upstream in node.upstream_nodes]
            for upstream_id in upstream:
                if upstream_id in consumers:
                    consumers[upstream_id].append(node.id)
            lines.append(f"{node.id} {entity_name(node.entity)} <- {' '.join(sorted(upstream))}")
        for value in workflow.output_bindings.values():
            for promise in promises_in(value):
                if promise.node_id in consumers and OUTPUTS not in consumers[promise.node_id]:
                    consumers[promise.node_id].append(OUTPUTS)
        self.consumers = {node_id: tuple(found) for node_id, found in consumers.items()}
        data = "\n".join(lines).encode()
        self.fingerprint = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
        self.layout: str | None = None  # graph_shape's JSON, once asked for


_shapes: weakref.WeakKeyDictionary[Any, _Shape] = weakref.WeakKeyDictionary()


def _shape(workflow: Any) -> _Shape:
    try:
        found = _shapes.get(workflow)
    except TypeError:  # not weakly referable: worked out each time
        return _Shape(workflow)
    if found is None:
        found = _shapes[workflow] = _Shape(workflow)
    return found


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


def child_name(path: str, parent: str) -> str:
    """The name of the child ``path`` under ``parent`` (``"5"`` for ``n2-5`` under ``n2``)."""
    return path[len(parent) + 1 :]


class _Elements:
    """A map's elements as its lanes fill ``outcomes`` (outputs by name, an exception, or None)."""

    __slots__ = ("durations", "entity", "low", "outcomes", "started", "traced", "written")

    def __init__(self, entity: Any, outcomes: list[Any], started: float, durations: list[float] | None = None) -> None:
        self.entity = entity
        self.outcomes = outcomes
        self.durations = durations  # seconds per element, as the lanes fill them (None: not timed)
        self.traced = 0  # failed elements whose traceback was kept (at most TRACED_ELEMENTS)
        self.written = bytearray(len(outcomes))  # 1 once an element's outcome was taken
        self.low = 0  # every element below was taken
        self.started = started

    def take(self) -> list[int]:
        """Indices of the elements done since the last call."""
        outcomes, written, low = self.outcomes, self.written, self.low
        found = [index for index in range(low, len(outcomes)) if outcomes[index] is not None and not written[index]]
        for index in found:
            written[index] = 1
        count = len(outcomes)
        while low < count and written[low]:
            low += 1
        self.low = low
        return found

    def counts(self) -> tuple[int, int, list[int]]:
        """(succeeded, failed, indices of failures not yet taken), over every element."""
        # In C, element by element: a map of 100,000 is counted in a few milliseconds.
        outcomes = self.outcomes
        failures = list(map(type.__instancecheck__, itertools.repeat(BaseException), outcomes))
        failed = sum(failures)
        succeeded = len(outcomes) - outcomes.count(None) - failed
        written = self.written
        untaken = (
            [index for index in itertools.compress(range(len(outcomes)), failures) if not written[index]]
            if failed
            else []
        )
        return succeeded, failed, untaken

    def timed(self) -> tuple[list[float], list[float]]:
        """The durations of the elements that succeeded and of those that failed (none if not timed)."""
        durations = self.durations
        if durations is None:
            return [], []
        succeeded: list[float] = []
        failed: list[float] = []
        for outcome, duration in zip(self.outcomes, durations):
            if outcome is None:
                continue
            (failed if isinstance(outcome, BaseException) else succeeded).append(duration)
        return succeeded, failed


class _Children:
    """What the recorder knows of the children of one node while it runs."""

    __slots__ = ("began", "elements", "failed", "failed_durations", "pending", "succeeded", "succeeded_durations")

    def __init__(self) -> None:
        self.pending: list[tuple[str, Any, Any]] = []  # (name, entity, outputs) finished, not written
        self.succeeded = 0
        self.failed = 0
        self.elements: _Elements | None = None
        self.began: dict[str, float] = {}  # children running, by path: when they started
        self.succeeded_durations: list[float] = []  # seconds, of the children that finished (not the elements')
        self.failed_durations: list[float] = []

    def summary(self) -> str | None:
        """The children's durations as :func:`element_summary` gives them."""
        succeeded, failed = self.succeeded_durations, self.failed_durations
        if self.elements is not None:
            timed = self.elements.timed()
            succeeded, failed = succeeded + timed[0], failed + timed[1]
        return element_summary(succeeded, failed)


class _Recording:
    """What the recorder's thread knows of one execution while it runs."""

    __slots__ = (
        "attempts",
        "children",
        "closed",
        "consumers",
        "done",
        "enclosing",
        "fingerprints",
        "finished_parents",
        "logs",
        "owners",
        "resumed",
        "started",
    )

    def __init__(self, resumed: float | None = None) -> None:
        #: When a resume started (None: not a resume): rows of children that failed before it are
        #: stale once their parent finishes again.
        self.resumed = resumed
        self.consumers: dict[str, tuple[str, ...]] = {}  # path -> paths of its consumers
        self.fingerprints: dict[str, str] = {}  # path -> fingerprint of a graph node
        self.done: set[str] = set()  # paths a resume would skip (and OUTPUTS once the execution succeeded)
        self.started: dict[str, tuple[float, Any, Any]] = {}  # running graph nodes: (start time, parent, entity)
        self.attempts: dict[str, int] = {}  # retried nodes' current attempt
        self.children: dict[str, _Children] = {}  # by parent path, while the parent runs
        self.finished_parents: set[str] = set()  # their children are no longer needed
        self.enclosing: dict[str, str] = {}  # path of a node inside a subworkflow or dynamic graph -> its owner's
        self.owners: set[str] = set()  # paths of the nodes that run a graph of their own
        self.closed: set[str] = set()  # owners that finished: their inner nodes' rows are no longer needed
        self.logs: dict[str, str] = {}  # path -> its log, until its row is written

    def children_of(self, parent: str) -> _Children | None:
        if parent in self.finished_parents:
            return None
        found = self.children.get(parent)
        if found is None:
            found = self.children[parent] = _Children()
        return found


_chunk_numbers = itertools.count(time.time_ns() // 1000)  # increasing across runs and resumes


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
        # Consumers and node fingerprints by workflow (key None: by node id; "": by path at the top level).
        self._graphs: weakref.WeakKeyDictionary[Any, dict[Any, tuple[dict[str, tuple[str, ...]], dict[str, str]]]] = (
            weakref.WeakKeyDictionary()
        )
        self._connection: Any = None
        self._reported = False
        # The locks of fresh executions of this process, taken with their first row and let go of
        # once their last is written (a resume takes its own lock: see LocalExecutor.resume).
        self._locks: dict[str, Any] = {}
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
            try:
                # While a map's elements are followed, look at them every delay even if no event comes.
                first = self._queue.get(timeout=WRITE_DELAY if self._following_elements() else None)
            except queue.Empty:
                first = (_FLUSH, None)
                with self._marks_lock:
                    self._marks += 1
            # Due a delay after its first event (not after it was taken: a thread that fell behind
            # must not fall further behind by waiting again); an execution's start is due soon.
            kind = first[0]
            if kind == _FLUSH:
                self._deadline = time.time()
            elif kind == EXECUTION_STARTED:
                self._deadline = first[5] + START_DELAY
            elif kind == NODE_STARTED:
                self._deadline = first[5] + WRITE_DELAY
            else:
                self._deadline = time.time() + WRITE_DELAY
            while kind != _FLUSH and time.time() < self._deadline and self._queue.qsize() < BACKLOG:
                if self._wake.wait(min(0.05, self._deadline - time.time())):  # a mark cuts it short
                    break
            batch = [first]
            due = time.time() >= self._deadline or self._queue.qsize() >= BACKLOG
            if kind == EXECUTION_STARTED and not self._marks and self._queue.qsize() < BACKLOG:
                # The start of an execution still running: its row alone, now, cheaply; its nodes
                # wait for their own batch, which is due a delay after the first of them.
                due = False
                batch.append((_FLUSH, None))
                with self._marks_lock:
                    self._marks += 1
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

    def _following_elements(self) -> bool:
        return any(
            children.elements is not None
            for recording in self._recordings.values()
            for children in recording.children.values()
        )

    def _report(self, error: BaseException) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None
        if not self._reported:
            self._reported = True
            if isinstance(error, OSError) and error.strerror:
                reason = f"{error.filename or self.store.directory}: {error.strerror}"
            else:  # SQLite's errors name no file
                reason = f"{self.store.path}: {error}"
            sys.stderr.write(
                f"taskloom: cannot record executions ({reason}); runs go on, but what is not recorded cannot be resumed\n"
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
        while _running[0] and not self._waiting and time.time() < self._deadline and self._queue.qsize() < BACKLOG:
            time.sleep(0.01)
        self._paused = time.perf_counter()

    def _recording(self, execution_id: str) -> _Recording:
        recording = self._recordings.get(execution_id)
        if recording is None:
            recording = self._recordings[execution_id] = _Recording()
        return recording

    def _write(self, batch: list[tuple[Any, ...]]) -> None:
        self._pause(now=True)
        pending = _Batch()
        self._read_events(batch, pending)
        for item in pending.finished:
            self._pause(now=True)
            pending.statements.append(self._execution_finished(item))
        self._succeeded_rows(pending)
        # Children of a child that finished (an element that is itself a map or a dynamic task).
        for recording, execution_id, parent in pending.parents_done:
            if recording.resumed is not None:
                pending.stale.append((execution_id, parent, recording.resumed))
            self._children_finished(recording, None, parent, pending.rows, pending.name_of)
        chunks = self._write_children(pending.rows, pending.name_of)
        _running_rows(pending)
        if self._connection is None:
            self._connection = self.store.connect()
        self.store.write_rows(self._connection, pending.statements, pending.rows, chunks, pending.stale)
        for item in pending.finished:
            self._recordings.pop(item[1], None)
            lock = self._locks.pop(item[1], None)
            if lock is not None:
                lock.release()

    def _read_events(self, batch: list[tuple[Any, ...]], pending: _Batch) -> None:
        """Take in the events of ``batch``, in order: what each execution's recording learns, and what
        ``pending`` is to write (executions started, failed nodes; succeeded, running and finished
        ones are written once every event was read).
        """
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
                pending.statements.append(self._execution_started(item))
                last_id = None
                continue
            execution_id = item[1]
            if execution_id != last_id:  # a batch is mostly one execution's: look it up once
                last_id, recording = execution_id, self._recording(execution_id)
            if kind == NODE_SUCCEEDED:
                _node_succeeded(recording, item, pending)
            elif kind == NODE_STARTED:
                _, _, path, parent, entity, when = item
                if parent is None:  # children get no row while they run
                    recording.started[path] = (when, parent, entity)
                    pending.started.append((recording, execution_id, path))
                else:
                    children = recording.children_of(parent)
                    if children is not None:
                        children.began[path] = when
            elif kind == NODE_FAILED:
                pending.rows.append(_failed_row(recording, item, pending))
            elif kind == NODE_RETRIED:
                recording.attempts[item[2]] = item[3]
            elif kind == NODE_LOGS:
                recording.logs[item[2]] = item[3]
            elif kind == GRAPH:
                self._graph_run(recording, item[3], item[2])
            elif kind == NODE_REUSED:
                _, _, path, parent = item
                recording.done.add(path)
                if parent is not None:
                    children = recording.children_of(parent)
                    if children is not None:
                        children.succeeded += 1
            elif kind == ELEMENTS:
                parent, entity, outcomes, when = item[2:6]
                children = recording.children_of(parent)
                if children is not None:
                    children.elements = _Elements(entity, outcomes, when, item[6] if len(item) > 6 else None)
            elif kind == EXECUTION_FINISHED:
                pending.finished.append(item)

    def _graph_run(self, recording: _Recording, workflow: Any, prefix: str) -> None:
        """The nodes of ``workflow`` run under ``prefix``: learn their consumers, fingerprints and owner."""
        consumers, fingerprints = self._graph(workflow, prefix)
        recording.consumers.update(consumers)
        recording.fingerprints.update(fingerprints)
        if prefix:
            owner = prefix[:-1]
            recording.owners.add(owner)
            recording.enclosing.update(dict.fromkeys(fingerprints, owner))

    def _succeeded_rows(self, pending: _Batch) -> None:
        """Add the rows of the graph nodes that succeeded to ``pending``, writing their outputs where a
        resume may need them. A node inside a subworkflow or dynamic graph that finished gets no row:
        nobody resumes inside a finished graph. Its owner's row counts it (as a map counts its elements).
        """
        inner: dict[tuple[int, str], int] = {}
        for recording, item in pending.succeeded:
            owner = recording.enclosing.get(item[2])
            if owner is not None and owner in recording.closed:
                key = (id(recording), owner)
                inner[key] = inner.get(key, 0) + 1
        # Newest first: a node's consumers finished after it, so they are decided before it is.
        for index, (recording, item) in enumerate(reversed(pending.succeeded)):
            if not index & 63:
                self._pause()
            path = item[2]
            owner = recording.enclosing.get(path)
            if owner is not None and owner in recording.closed:
                recording.done.add(path)
                recording.started.pop(path, None)
                recording.attempts.pop(path, None)
                recording.logs.pop(path, None)
                self._children_finished(recording, None, path, pending.rows, pending.name_of)
                continue
            pending.rows.append(self._succeeded_row(recording, item, pending, inner.get((id(recording), path))))

    def _succeeded_row(
        self, recording: _Recording, item: tuple[Any, ...], pending: _Batch, inner: int | None
    ) -> tuple[Any, ...]:
        """The row of a graph node that succeeded (``item``: its event); ``inner`` counts the nodes of
        its own graph that get no row.
        """
        _, execution_id, path, parent, entity, when, outputs = item
        state, note, file = self._outputs_state(recording, item)
        if state != UNRECORDED:
            recording.done.add(path)
        began = recording.started.pop(path, None)
        if recording.resumed is not None and path in recording.children:
            pending.stale.append((execution_id, path, recording.resumed))
        children = recording.children.get(path)
        elements = None if children is None else children.summary()
        counted = self._children_finished(recording, execution_id, path, pending.rows, pending.name_of)
        if inner:
            counted = ((counted[0] or 0) + inner, counted[1] or 0)
        return (
            execution_id,
            path,
            parent,
            pending.name_of(entity),
            "succeeded",
            recording.attempts.pop(path, 0) + 1,
            began[0] if began else None,
            when,
            note,
            file,
            state,
            recording.fingerprints.get(path),
            *counted,
            _cache_state(entity, outputs),
            None,
            _output_previews(outputs),
            elements,
            recording.logs.pop(path, None),
        )

    def _outputs_state(self, recording: _Recording, item: tuple[Any, ...]) -> tuple[str, str | None, str | None]:
        """Whether a succeeded node's outputs are written (``STORED``, with the file), not needed
        (``SUPERSEDED``: every consumer finished) or could not be (``UNRECORDED``, with a note).
        """
        _, execution_id, path, _parent, entity, _when, outputs = item
        consumers = recording.consumers.get(path)
        if consumers is not None and recording.done.issuperset(consumers):
            return SUPERSEDED, None, None
        if not outputs:
            return STORED, None, None  # nothing to write: a resume gives back no outputs
        self._pause()
        store = self.store
        try:
            text = _literal_map(outputs, output_types(entity), entity, data=_data_directory(store, execution_id))
            return STORED, None, store.write_literals(execution_id, store.node_file_name(path), text)
        except Exception as error:
            return UNRECORDED, f"outputs not recorded: {describe_error(error)}", None

    def _children_finished(
        self, recording: _Recording, execution_id: str | None, parent: str, rows: list[tuple[Any, ...]], name_of: Any
    ) -> tuple[int | None, int | None]:
        """The parent ``parent`` finished: forget its children (no longer needed), writing rows for
        failed elements not yet written; give (succeeded, failed) to count on its row.
        """
        children = recording.children.pop(parent, None)
        recording.finished_parents.add(parent)
        if children is None:
            return None, None
        succeeded, failed = children.succeeded, children.failed
        elements = children.elements
        if elements is not None:
            element_succeeded, element_failed, untaken = elements.counts()
            succeeded += element_succeeded
            failed += element_failed
            if execution_id is not None:
                for index in untaken:
                    rows.append(self._failed_element(execution_id, parent, elements, index, name_of))
        return succeeded, failed

    def _failed_element(
        self, execution_id: str, parent: str, elements: _Elements, index: int, name_of: Any
    ) -> tuple[Any, ...]:
        error = elements.outcomes[index]
        traceback_text = None
        if elements.traced < TRACED_ELEMENTS:  # formatting 100,000 alike tracebacks would take seconds
            elements.traced += 1
            traceback_text = describe_traceback(error)
        return (
            execution_id,
            f"{parent}-{index}",
            parent,
            name_of(elements.entity),
            "failed",
            1,
            elements.started,
            None,
            describe_error(error),
            None,
            None,
            entity_fingerprint(elements.entity),
            None,
            None,
            None,
            traceback_text,
            None,
            None,
            None,
        )

    def _write_children(self, rows: list[tuple[Any, ...]], name_of: Any) -> list[tuple[Any, ...]]:
        """Write a chunk per running parent of the children that finished since the last batch;
        give their rows for the ``children`` table.
        """
        store = self.store
        chunks = []
        for execution_id, recording in self._recordings.items():
            for parent, children in recording.children.items():
                names: list[str] = []
                fingerprints: list[str | None] = []
                outputs: list[Any] = []
                for name, entity, values in children.pending:
                    self._pause()
                    recorded = self._recordable(entity, values)
                    if recorded is not _UNRECORDABLE:
                        names.append(name)
                        fingerprints.append(entity_fingerprint(entity))
                        outputs.append(recorded)
                children.pending = []
                elements = children.elements
                if elements is not None:
                    taken = elements.take()
                    if taken:
                        self._pause()
                        chunk = self._element_chunk(execution_id, parent, elements, taken, rows, name_of)
                        if chunk is not None:
                            chunks.append(chunk)
                if not names:
                    continue
                number = next(_chunk_numbers)
                file = store.write_literals(
                    execution_id, store.children_file_name(parent, number), ChildRecords(names, fingerprints, outputs)
                )
                chunks.append((execution_id, parent, number, file, len(names)))
        return chunks

    def _element_chunk(
        self,
        execution_id: str,
        parent: str,
        elements: _Elements,
        taken: list[int],
        rows: list[tuple[Any, ...]],
        name_of: Any,
    ) -> tuple[Any, ...] | None:
        """Write the map elements ``taken`` (failures as rows); give the chunk's row, or None."""
        outcomes, entity = elements.outcomes, elements.entity
        done = []
        for index in taken:
            outcome = outcomes[index]
            if isinstance(outcome, BaseException):
                rows.append(self._failed_element(execution_id, parent, elements, index, name_of))
            else:
                done.append(index)
        if not done:
            return None
        fingerprint = entity_fingerprint(entity)
        types = output_types(entity)
        names = [str(index) for index in done]
        columns = _plain_columns([outcomes[index] for index in done], types)
        if columns is not None:
            records = ChildRecords(names, fingerprint, columns=columns)
        else:
            kept_names, outputs = [], []
            for name, index in zip(names, done):
                self._pause()
                recorded = self._recordable(entity, outcomes[index], types, _data_directory(self.store, execution_id))
                if recorded is not _UNRECORDABLE:
                    kept_names.append(name)
                    outputs.append(recorded)
            if not kept_names:
                return None
            records = ChildRecords(kept_names, fingerprint, outputs)
        number = next(_chunk_numbers)
        file = self.store.write_literals(execution_id, self.store.children_file_name(parent, number), records)
        return (execution_id, parent, number, file, len(records.names))

    @staticmethod
    def _recordable(entity: Any, outputs: Any, types: dict[str, Any] | None = None, data: str | None = None) -> Any:
        if not outputs:
            return None
        try:
            return _literal_map(outputs, types if types is not None else output_types(entity), entity, data=data)
        except Exception:  # not a literal: the child runs again on resume
            return _UNRECORDABLE

    def _graph(self, workflow: Any, prefix: str) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        """The consumers and fingerprints of the nodes of ``workflow`` run under ``prefix``, by path."""
        cached = self._graphs.get(workflow)
        if cached is None:
            cached = self._graphs[workflow] = {}
        if prefix in cached:
            return cached[prefix]
        graph = cached.get(None)
        if graph is None:
            graph = cached[None] = (
                consumers_of(workflow),
                {node.id: node_fingerprint(node) for node in workflow.nodes},
            )
        consumers, fingerprints = graph
        owner = prefix[:-1]  # a subworkflow's outputs are read by its node; the top level's by the execution
        by_path = (
            {
                prefix + node_id: tuple(prefix + consumer if consumer else owner for consumer in found)
                for node_id, found in consumers.items()
            },
            {prefix + node_id: fingerprint for node_id, fingerprint in fingerprints.items()},
        )
        if not prefix:  # kept for the top level only: a graph run under many prefixes would pile up
            cached[prefix] = by_path
        return by_path

    def _execution_started(self, item: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        _, execution_id, entity, kind, inputs, started, resumed = item
        self._recordings[execution_id] = _Recording(started if resumed else None)
        host, pid = host_name(), os.getpid()
        if resumed:
            return RESUME_EXECUTION, (host, pid, execution_id)
        try:
            self._locks[execution_id] = self.store.hold(execution_id)
        except Exception:  # held by nobody else (a fresh id); an unwritable store is reported with the row
            pass
        module = _module_of(entity)
        file = getattr(sys.modules.get(module or ""), "__file__", None)
        note = inputs_file = None
        try:
            inputs_file = self.store.write_literals(
                execution_id,
                "inputs",
                _literal_map(
                    inputs,
                    entity.python_interface.inputs,
                    entity,
                    "input",
                    data=_data_directory(self.store, execution_id),
                ),
            )
        except Exception as error:
            note = f"inputs not recorded: {describe_error(error)}"
        row = (
            execution_id,
            entity_name(entity),
            kind,
            module,
            os.path.abspath(file) if file else None,
            "running",
            started,
            None,
            None,
            inputs_file,
            None,
            note,
            host,
            pid,
            0,
            graph_fingerprint(entity),
            graph_shape(entity),
        )
        return INSERT_EXECUTION, row

    def _execution_finished(self, item: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        _, execution_id, when, outputs, types, error, status = item
        recording = self._recording(execution_id)
        if error is not None:
            return FINISH_EXECUTION, (status, when, describe_error(error), None, None, execution_id)
        note = outputs_file = None
        try:
            outputs_file = self.store.write_literals(
                execution_id,
                "outputs",
                _literal_map(outputs, types, None, data=_data_directory(self.store, execution_id)),
            )
            recording.done.add(OUTPUTS)
        except Exception as unrecorded:  # not `error`: that name holds the execution's error (None here)
            note = f"outputs not recorded: {describe_error(unrecorded)}"
        return FINISH_EXECUTION, ("succeeded", when, None, outputs_file, note, execution_id)


class _Batch:
    """What the recorder's thread gathers from one batch of events before writing it: the statements
    and rows to write (in order: a later row of a path replaces an earlier one), and the events that
    are decided once every event of the batch was read.
    """

    __slots__ = ("_names", "finished", "parents_done", "rows", "stale", "started", "statements", "succeeded")

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []
        self.rows: list[tuple[Any, ...]] = []
        self.succeeded: list[tuple[_Recording, tuple[Any, ...]]] = []  # graph nodes, with their event
        self.started: list[tuple[_Recording, str, str]] = []
        self.finished: list[tuple[Any, ...]] = []  # EXECUTION_FINISHED events
        self.parents_done: list[tuple[_Recording, str, str]] = []  # children that were parents themselves, now done
        self.stale: list[tuple[str, str, float]] = []  # (execution, path, since): rows under a node an earlier run left
        self._names: dict[int, str] = {}  # entity names by id(entity): a batch has few entities, many nodes

    def name_of(self, entity: Any) -> str:
        """The recorded name of ``entity`` (worked out once per batch)."""
        name = self._names.get(id(entity))
        if name is None:
            name = self._names[id(entity)] = entity_name(entity)
        return name


def _node_succeeded(recording: _Recording, item: tuple[Any, ...], pending: _Batch) -> None:
    """Take in a ``NODE_SUCCEEDED`` event: a graph node waits in ``pending`` for its row, a child is
    counted under its parent (its outputs kept for the parent's next chunk).
    """
    execution_id, path, parent = item[1], item[2], item[3]
    if path in recording.owners:
        recording.closed.add(path)
        if recording.resumed is not None:
            pending.stale.append((execution_id, path, recording.resumed))
    if parent is None:
        pending.succeeded.append((recording, item))
        return
    recording.logs.pop(path, None)  # a child that succeeded gets no row
    children = recording.children_of(parent)
    if children is not None:
        children.succeeded += 1
        children.pending.append((child_name(path, parent), item[4], item[6]))
        began = children.began.pop(path, None)
        if began is not None:
            children.succeeded_durations.append(item[5] - began)
    if path in recording.children:
        pending.parents_done.append((recording, execution_id, path))


def _failed_row(recording: _Recording, item: tuple[Any, ...], pending: _Batch) -> tuple[Any, ...]:
    """The row of a ``NODE_FAILED`` event (a child's included: a failed child gets a row)."""
    _, execution_id, path, parent, entity, when, error = item
    began = recording.started.pop(path, None)
    if parent is not None:
        children = recording.children_of(parent)
        if children is not None:
            children.failed += 1
            child_began = children.began.pop(path, None)
            if child_began is not None:
                children.failed_durations.append(when - child_began)
    own = recording.children.get(path)
    if recording.resumed is not None and path in recording.children:
        pending.stale.append((execution_id, path, recording.resumed))
    return (  # a child's start is not kept: its failure's time stands for it
        execution_id,
        path,
        parent,
        pending.name_of(entity),
        "failed",
        recording.attempts.pop(path, 0) + 1,
        began[0] if began else (when if parent is not None else None),
        when,
        describe_error(error),
        None,
        None,
        recording.fingerprints.get(path),
        None,
        None,
        None,
        # A failed child's traceback is kept too: a map's failed elements are few (or all alike).
        describe_traceback(error),
        None,
        None if own is None else own.summary(),
        recording.logs.pop(path, None),
    )


def _running_rows(pending: _Batch) -> None:
    """Add to ``pending`` a row for each graph node that started in the batch and still runs."""
    for recording, execution_id, path in pending.started:
        began = recording.started.get(path)
        if began is not None:  # still running when the batch was written
            when, parent, entity = began
            pending.rows.append(
                (
                    execution_id,
                    path,
                    parent,
                    pending.name_of(entity),
                    "running",
                    recording.attempts.get(path, 0) + 1,
                    when,
                    None,
                    None,
                    None,
                    None,
                    recording.fingerprints.get(path),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    recording.logs.get(path),
                )
            )


def _cache_state(entity: Any, outputs: Any) -> str | None:
    """``hit`` when the outputs came from the task cache, ``miss`` when a cached task ran, else None."""
    # By the class's name: the runner's CachedOutputs cannot be imported here (the runner imports this module).
    if type(outputs).__name__ == "CachedOutputs":
        return "hit"
    return "miss" if getattr(entity, "cache", None) is not None else None


def _output_previews(outputs: Any) -> str | None:
    if not outputs or not isinstance(outputs, dict):
        return None
    # The JSON object written by hand with the json module's C string encoder: json.dumps of a small dict
    # cost a recorded 500-node chain some 4 ms. The usual case, one int, float, bool or None, whose repr
    # needs no escaping, is quicker still.
    if len(outputs) == 1:
        for name, value in outputs.items():
            if type(value) in _QUICK and type(name) is str and name.isidentifier():
                return f'{{"{name}":"{value!r}"}}'
    return (
        "{"
        + ",".join([_json_string(str(name)) + ":" + _json_string(preview(value)) for name, value in outputs.items()])
        + "}"
    )


_UNRECORDABLE = object()
_SCALARS = (int, float, str, bool, bytes)


def _plain_columns(outputs: list[dict[str, Any]], types: dict[str, Any]) -> PlainValues | None:
    """The outputs of many elements as columns, when every output is a scalar of exactly its
    declared type (what :class:`~taskloom_local.store.PlainValues` keeps as it is); else None.
    """
    from taskloom.extend import type_name

    columns = {}
    for name, python_type in types.items():
        if python_type not in _SCALARS:
            return None
        try:
            column = [output[name] for output in outputs]
        except (KeyError, TypeError):
            return None
        if set(map(type, column)) != {python_type}:
            return None
        columns[name] = column
    return PlainValues(columns, {name: type_name(python_type) for name, python_type in types.items()})


def _data_directory(store: ExecutionStore, execution_id: str) -> str:
    """Where values that store data (a table's Parquet) are written when recorded: ``data/`` in the
    execution's directory, which lives (and is pruned) with its records."""
    return os.path.join(store.execution_directory(execution_id), "data")


def _literal_map(
    values: dict[str, Any], types: dict[str, Any], entity: Any, direction: str = "output", *, data: str | None = None
) -> Any:
    """What the store writes of ``values``: plain values as they are (:class:`~taskloom_local.store.PlainValues`,
    which needs no literal contract), else their literal map.

    A value whose literal stores data (a table) writes it under ``data`` (see :func:`_data_directory`), unless
    the run has a raw output prefix of its own: the default prefix is a temporary directory that a resume
    in another process, days later, must not depend on.
    """
    plain = PlainValues.of(values, types)
    if plain is not None:
        return plain
    from taskloom.extend import FileAccessProvider, FlyteContext, FlyteContextManager, TypeEngine, raw_output_prefix

    label = (
        None
        if entity is None
        else f"{'task' if hasattr(entity, 'task_function') else 'entity'} {entity_name(entity)!r}"
    )
    if data is None or raw_output_prefix() is not None:
        return TypeEngine.dict_to_literal_map(None, values, types, entity=label, direction=direction)
    # A context of its own (as the cache's, LocalCache._durable_files): asking for the current one from the
    # recorder's thread would fix the process's context outside tasks with this thread's parameters.
    access = FileAccessProvider(local_sandbox_dir=tempfile.gettempdir(), raw_output_prefix=data)
    with FlyteContextManager.with_context(FlyteContext(file_access=access)):
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
