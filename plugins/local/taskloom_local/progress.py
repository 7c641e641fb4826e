"""The standard progress display of ``loom run`` (the answer to ``taskloom_progress_display``).

The display listens to lifecycle events. Nodes of the compiled graph (and of subworkflows) are shown
one by one; children started by a running task (map elements, the nodes of a dynamic graph, the
calls of an eager workflow) are counted under the shown node that started them, never listed one
by one, so that a map over 10,000 elements prints a handful of lines.

* Plain (a log file, a pipe): time-stamped lines for each shown node started, finished, retried or
  failed; for a node with children, a progress line per tenth of them when it announced how many
  (``taskloom_node_expanded``, as a map does), else at most every ``progress_seconds``; the first
  few failures and retries of its children; a summary when the execution ends.
* Live (a terminal): a status block redrawn in place at most ten times a second (elapsed time,
  top-level nodes done/running/failed, the children of each running node, the names of running
  nodes), failures printed above it, a summary line that stays. While the block is drawn, output
  written through ``sys.stdout``/``sys.stderr`` to the same terminal first erases the block (it is
  redrawn below on the next tick), so that lines a task prints are never overwritten. Output that
  bypasses them (a subprocess, ``os.write``, a logging handler made before the run) can be.

Events arrive on the executor's worker threads: one lock guards the state and the writes.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from typing import Any, TextIO

from taskloom.extend import hookimpl

#: Seconds between two redraws of the live status.
REDRAW_SECONDS = 0.1
#: How many failures and retries of the children of one node are printed; the rest are counted.
CHILD_LINES = 3
#: How many nodes with children the live status details, one line each.
DETAILED_NODES = 4


class _Shown:
    """A node shown on its own, with the counts of the children it started."""

    __slots__ = (
        "done",
        "entity",
        "expected",
        "failed",
        "lines",
        "path",
        "reported",
        "reported_tenth",
        "retries",
        "running",
        "started",
        "top_level",
    )

    def __init__(self, path: str, entity: str, started: dt.datetime, top_level: bool) -> None:
        self.path = path
        self.entity = entity
        self.started = started
        self.top_level = top_level
        self.running = self.done = self.failed = self.retries = 0
        self.lines = 0  # failures and retries of children printed so far
        self.reported = started  # when its last progress line was printed
        self.expected: int | None = None  # how many children it announced (a map's elements)
        self.reported_tenth = 0  # with ``expected``: the last tenth of it a progress line was printed for

    @property
    def name(self) -> str:
        return f"{self.path} {self.entity}"

    def counts(self) -> str:
        retries = f", {self.retries} retried" if self.retries else ""
        of = f" of {self.expected}" if self.expected is not None else ""
        return f"{self.done}{of} done, {self.failed} failed, {self.running} running{retries}"


class ProgressDisplay:
    """Draws the progress of one execution on ``stream`` from lifecycle events (a run-time plugin).

    ``interactive`` chooses the live status over plain lines; ``progress_seconds`` is how often, at
    most, a plain progress line is printed for a node whose children run; ``width`` fixes the
    terminal width (default: asked at each redraw). Events of an execution started while another
    is shown (a workflow run from inside a task) are ignored.
    """

    def __init__(
        self, stream: TextIO, interactive: bool, *, progress_seconds: float = 5.0, width: int | None = None
    ) -> None:
        self._stream = stream
        self._interactive = interactive
        self._progress_seconds = progress_seconds
        self._width = width
        self._lock = threading.RLock()
        self._execution: str | None = None
        self._drawn = 0  # lines of the live status on screen (the cursor ends its last line)
        self._ticker: threading.Thread | None = None
        self._guards: list[tuple[str, _Guard]] = []
        self._at_line_start = True  # the last output through a guard ended its line
        self._reset(None)

    def _reset(self, event: Any) -> None:
        self._execution = event.execution_id if event is not None else None
        self._kind = event.kind if event is not None else ""
        self._entity = event.entity if event is not None else ""
        self._started = event.time if event is not None else dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()  # the live status's elapsed time, whatever the wall clock does
        self._total = event.nodes if event is not None else 0
        self._shown: dict[str, _Shown] = {}  # running shown nodes, in start order
        self._owners: dict[str, str] = {}  # running child -> the shown node it is counted under
        self._done = self._failed = self._cached = 0  # top-level nodes
        self._children = self._children_failed = 0  # children finished

    # --- lifecycle hooks -------------------------------------------------------------------

    @hookimpl
    def taskloom_execution_started(self, event: Any) -> None:
        with self._lock:
            if self._execution is not None:
                return
            self._reset(event)
            self._at_line_start = True
            if not self._interactive:
                nodes = f" ({_count(event.nodes, 'node')})" if event.nodes else ""
                self._print(event.time, f"{event.kind} {event.entity} started{nodes}")
                return
            self._guard_outputs()
            self._draw()
            self._ticker = threading.Thread(target=self._tick, name="taskloom-progress", daemon=True)
            self._ticker.start()

    @hookimpl
    def taskloom_execution_finished(self, event: Any) -> None:
        with self._lock:
            if event.execution_id != self._execution:
                return
            summary = self._summary(event)
            if self._interactive:
                self._ticker = None  # the ticking thread sees it and stops
                self._unguard_outputs()
                self._write(self._home() + ("" if self._at_line_start else "\n") + summary + "\n")
                self._drawn = 0
            else:
                self._print(event.time, summary)
            self._execution = None

    @hookimpl
    def taskloom_node_started(self, event: Any) -> None:
        with self._lock:
            if event.execution_id != self._execution:
                return
            owner, top_level = self._place(event.path, event.parent)
            if owner is not None:
                self._owners[event.path] = owner.path
                owner.running += 1
                return
            self._shown[event.path] = _Shown(event.path, event.entity, event.time, top_level)
            if not self._interactive:
                self._print(event.time, f"{event.path} {event.entity} started")

    @hookimpl
    def taskloom_node_expanded(self, event: Any) -> None:
        with self._lock:
            if event.execution_id != self._execution:
                return
            owner = self._shown.get(event.path)
            if owner is not None:
                owner.expected = (owner.expected or 0) + event.children

    @hookimpl
    def taskloom_node_retried(self, event: Any) -> None:
        with self._lock:
            if event.execution_id != self._execution:
                return
            text = f"retry {event.attempt}: {_describe(event.error)}"
            owner = self._shown.get(self._owners.get(event.path, ""))
            if owner is not None:
                owner.retries += 1
                self._child_line(owner, event, text)
            elif event.path in self._shown:
                self._log(event.time, f"{event.path} {event.entity} {text}")

    @hookimpl
    def taskloom_node_finished(self, event: Any) -> None:
        with self._lock:
            if event.execution_id != self._execution:
                return
            owner_path = self._owners.pop(event.path, None)
            if owner_path is not None:
                self._child_finished(self._shown.get(owner_path), event)
                return
            node = self._shown.pop(event.path, None)
            if node is None:
                return
            if node.top_level:
                if event.error is not None:
                    self._failed += 1
                else:
                    self._done += 1
                    self._cached += event.cached
            if event.error is not None:
                self._log(event.time, f"{node.name} failed: {_describe(event.error)}")
            elif not self._interactive:
                finished = node.done + node.failed
                children = f", {_count(finished, 'child')} ({node.failed} failed)" if finished else ""
                cached = " (cached)" if event.cached else ""
                duration = _duration(event.time - node.started)
                self._print(event.time, f"{node.name} finished in {duration}{cached}{children}")

    # --- state -----------------------------------------------------------------------------

    def _place(self, path: str, parent: str | None) -> tuple[_Shown | None, bool]:
        """The shown node a new node is counted under (None: it is shown itself), and whether it is top level."""
        if parent is not None:
            return self._owner(parent), False
        # A node of a subworkflow has no parent but its path extends the subworkflow node's path:
        # the nearest running node whose path is a prefix encloses it.
        end = path.rfind("-")
        while end > 0:
            enclosing = path[:end]
            if enclosing in self._shown:
                return None, False
            if enclosing in self._owners:  # a subworkflow run as a child: its nodes are children too
                return self._shown.get(self._owners[enclosing]), False
            end = path.rfind("-", 0, end)
        return None, True

    def _owner(self, path: str) -> _Shown | None:
        return self._shown.get(path) or self._shown.get(self._owners.get(path, ""))

    def _child_finished(self, owner: _Shown | None, event: Any) -> None:
        self._children += 1
        if event.error is not None:
            self._children_failed += 1
        if owner is None:
            return
        owner.running -= 1
        if event.error is not None:
            owner.failed += 1
            self._child_line(owner, event, f"failed: {_describe(event.error)}")
        else:
            owner.done += 1
        if self._interactive:
            return
        if owner.expected:  # a line per tenth of the announced children
            tenth = (owner.done + owner.failed) * 10 // owner.expected
            if tenth > owner.reported_tenth:
                owner.reported_tenth = tenth
                owner.reported = event.time
                self._print(event.time, f"{owner.name}: {owner.counts()}")
        elif (event.time - owner.reported).total_seconds() >= self._progress_seconds:
            owner.reported = event.time
            self._print(event.time, f"{owner.name}: {owner.counts()}")

    def _child_line(self, owner: _Shown, event: Any, text: str) -> None:
        if owner.lines < CHILD_LINES:
            owner.lines += 1
            more = " (further ones are counted, not shown)" if owner.lines == CHILD_LINES else ""
            self._log(event.time, f"{event.path} {event.entity} {text}{more}")

    def _summary(self, event: Any) -> str:
        total = max(self._total, self._done + self._failed, 1)
        parts = [f"{self._done} of {_count(total, 'node')} done"]
        if self._cached:
            parts.append(f"{self._cached} cached")
        if self._failed:
            parts.append(f"{self._failed} failed")
        if self._children:
            parts.append(f"{_count(self._children, 'child')} ({self._children_failed} failed)")
        # The error is not repeated: the failed node's line gave it, and ``loom run`` prints it next.
        verdict = "succeeded" if event.error is None else "failed"
        return f"{event.kind} {event.entity} {verdict} in {_duration(event.time - self._started)}: {', '.join(parts)}"

    # --- output ----------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not fail the run
            pass

    def _print(self, when: dt.datetime, text: str) -> None:
        """A plain line."""
        self._write(f"[{when.astimezone():%H:%M:%S}] {text}\n")

    def _log(self, when: dt.datetime, text: str) -> None:
        """A line that stays: plain, or printed above the live status."""
        if not self._interactive:
            self._print(when, text)
        else:
            self._write(self._home() + ("" if self._at_line_start else "\n"))  # after a task's unfinished line
            self._drawn, self._at_line_start = 0, True
            self._print(when, text)
            self._draw()

    def _tick(self) -> None:
        me = threading.current_thread()
        while True:
            time.sleep(REDRAW_SECONDS)
            with self._lock:
                if self._ticker is not me:
                    return
                if self._at_line_start:  # not in the middle of a line a task is printing
                    self._draw()

    def _home(self) -> str:
        """Escapes that erase the live status and put the cursor where it started."""
        if not self._drawn:
            return ""
        up = f"\x1b[{self._drawn - 1}A" if self._drawn > 1 else ""
        return f"\r{up}\x1b[J"

    def _draw(self) -> None:
        width = max((self._width or _terminal_width(self._stream)) - 1, 20)  # never fill the last column: it wraps
        lines = [line if len(line) <= width else line[: width - 3] + "..." for line in self._status_lines()]
        self._write(self._home() + "\n".join(lines))
        self._drawn = len(lines)

    def status_lines(self) -> list[str]:
        """The live status as it would be drawn now, before fitting it to the terminal's width."""
        with self._lock:
            return self._status_lines()

    def _status_lines(self) -> list[str]:
        elapsed = _duration(dt.timedelta(seconds=time.monotonic() - self._clock))
        running = [node for node in self._shown.values() if node.top_level]
        total = max(self._total, self._done + self._failed + len(running), 1)
        counts = f"nodes: {self._done}/{total} done, {len(running)} running, {self._failed} failed"
        lines = [f"{elapsed}  {counts}  ({self._kind} {self._entity})"]
        parents = [node for node in self._shown.values() if node.running or node.done or node.failed]
        lines += [f"  {node.name}: {node.counts()}" for node in parents[:DETAILED_NODES]]
        if len(parents) > DETAILED_NODES:
            lines.append(f"  ... and {len(parents) - DETAILED_NODES} more nodes with children")
        if self._shown:
            lines.append("  running: " + ", ".join(node.name for node in self._shown.values()))
        return lines

    # --- the standard streams, while the live status is drawn where they write ----------------

    def _guard_outputs(self) -> None:
        for name in ("stdout", "stderr"):
            current = getattr(sys, name)
            if current is not self._stream and not _same_file(current, self._stream):
                continue
            guard = _Guard(self, current)
            setattr(sys, name, guard)
            self._guards.append((name, guard))

    def _unguard_outputs(self) -> None:
        for name, guard in self._guards:
            guard.release()
            if getattr(sys, name) is guard:  # someone replaced it after us: leave theirs in place
                setattr(sys, name, guard.stream)
        self._guards = []

    def write_output(self, stream: TextIO, text: str) -> int:
        """Write the program's ``text`` to ``stream`` after erasing the live status (redrawn on the next
        tick); give what ``stream.write`` gave. The guards standing for ``sys.stdout`` and
        ``sys.stderr`` send every write here.
        """
        with self._lock:
            if self._drawn:
                self._write(self._home())
                self._drawn = 0
            written = stream.write(text)
            stream.flush()
            if text:
                self._at_line_start = text.endswith("\n")
            return written


class _Guard:
    """Stands for ``sys.stdout`` (or ``sys.stderr``) while the live status is drawn where it writes:
    each write erases the status first; everything else is the stream's.
    """

    def __init__(self, display: ProgressDisplay, stream: TextIO) -> None:
        self.stream = stream
        self._display: ProgressDisplay | None = display

    def write(self, text: str) -> int:
        display = self._display
        if display is None:
            return self.stream.write(text)
        return display.write_output(self.stream, text)

    def release(self) -> None:
        """Pass writes straight through from now on (the execution ended)."""
        self._display = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _same_file(one: Any, other: Any) -> bool:
    """Whether two streams write to the same terminal (or pipe, or file)."""
    try:
        return os.path.samestat(os.fstat(one.fileno()), os.fstat(other.fileno()))
    except (AttributeError, OSError, ValueError):
        return False


def _terminal_width(stream: Any) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    import shutil  # only for live displays (~3 ms to import)

    return columns or shutil.get_terminal_size().columns  # a new pseudo-terminal says 0 columns


def _duration(delta: dt.timedelta) -> str:
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _count(number: int, noun: str) -> str:
    plural = "children" if noun == "child" else f"{noun}s"
    return f"{number} {noun if number == 1 else plural}"


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
