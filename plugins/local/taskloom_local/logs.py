"""A node's logs: what a task body printed and logged, captured per node for the execution store (reports).

On only when asked (``TASKLOOM_CAPTURE_LOGS=1``; ``loom run --report`` sets it), so that other runs pay
nothing: no stream is wrapped and no handler added until a recorded execution asks for it. Then (at the start
of each such execution, if they are not already) ``sys.stdout`` and ``sys.stderr`` are wrapped in :class:`_Tee` (each write still goes to the stream,
and is also kept for the node that runs on this thread) and a handler on the root logger keeps each record that
reaches the root's handlers (so the loggers' levels apply: ``logging``'s default level is WARNING), formatted
as ``LEVEL name: message``.

What a node's log holds: the writes and records made on the thread that runs its body, in the context of its
attempts (all of them, in order), at most :data:`NODE_LOG_CHARS` characters: the end is kept, and the text
says how much was left out. A body run in a worker process (``--processes``) is captured there the same way
and its text sent back with its outputs (:func:`run_capturing`, :func:`keep_log`). Not captured: bodies run on Dask or in
Kubernetes Pods, threads a body starts itself, output written without ``sys.stdout``/``sys.stderr`` (``os.write``, a
subprocess), and map elements run without per-node services.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from typing import Any, TextIO

CAPTURE_ENV = "TASKLOOM_CAPTURE_LOGS"
#: Characters of a node's log kept (its end).
NODE_LOG_CHARS = 64 * 1024


def capture_enabled() -> bool:
    """Whether recorded executions capture their nodes' logs: ``TASKLOOM_CAPTURE_LOGS`` is ``1``, ``true``, ``yes``
    or ``on``."""
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


class NodeLog:
    """The log of one node, bounded: appended to by :class:`_Tee` and the logging handler."""

    __slots__ = ("_lock", "dropped", "parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0  # characters left out at the start
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        """Keep ``text`` (the oldest text goes once the log passes :data:`NODE_LOG_CHARS`)."""
        with self._lock:
            self.parts.append(text)
            self.size += len(text)
            if self.size > 2 * NODE_LOG_CHARS:  # trimmed now and then, not at every write
                self._trim()

    def _trim(self) -> None:
        joined = "".join(self.parts)
        cut = max(0, len(joined) - NODE_LOG_CHARS)
        self.dropped += cut
        self.parts = [joined[cut:]]
        self.size = len(self.parts[0])

    def text(self) -> str | None:
        """What was kept, with a first line saying how much was left out; None when nothing was written."""
        with self._lock:
            if self.size > NODE_LOG_CHARS:
                self._trim()
            if not self.parts and not self.dropped:
                return None
            kept = "".join(self.parts)
            return f"[{self.dropped} earlier characters left out]\n{kept}" if self.dropped else kept


_current: contextvars.ContextVar[NodeLog | None] = contextvars.ContextVar("taskloom_node_log", default=None)


class _Tee:
    """A stream that writes through to ``stream`` and keeps each write for the node running on this thread."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        log = _current.get()
        if log is not None:
            log.add(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_handler: Any = None  # the root logger's handler, once added
_install_lock = threading.Lock()


def install() -> None:
    """Wrap the standard streams (again, if something replaced them since: a test's capture, a progress
    display) and add the root logger's handler, once; called when a run that captures logs starts."""
    # logging is imported here: every run imports this module, and logging costs ~5 ms that runs which do not
    # capture (most) need not pay.
    import logging

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log = _current.get()
            if log is not None:
                try:
                    log.add(self.format(record) + "\n")
                except Exception:
                    self.handleError(record)

    global _handler
    with _install_lock:
        if not isinstance(sys.stdout, _Tee):
            sys.stdout = _Tee(sys.stdout)
        if not isinstance(sys.stderr, _Tee):
            sys.stderr = _Tee(sys.stderr)
        if _handler is None:
            _handler = _Handler()
            _handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logging.getLogger().addHandler(_handler)


def begin() -> contextvars.Token[NodeLog | None]:
    """Start keeping this thread's output for a node (a log of its own, nested in an enclosing node's)."""
    return _current.set(NodeLog())


def end(token: contextvars.Token[NodeLog | None], record: Any, execution_id: str, path: str) -> None:
    """Stop keeping this thread's output for the node ``path``; hand what was kept to the recorder (``record``,
    its put) as a ``NODE_LOGS`` event, unless the node wrote nothing."""
    # Here, not at the top: worker processes import this module, and the recorder (with the store) costs ~10 ms.
    from taskloom_local.recorder import NODE_LOGS

    log = _current.get()
    _current.reset(token)
    text = None if log is None else log.text()
    if text is not None:
        record((NODE_LOGS, execution_id, path, text))


def taken(token: contextvars.Token[NodeLog | None]) -> str | None:
    """Stop keeping this thread's output (:func:`begin`'s ``token``) and return what was kept: what a worker
    process sends back with a body's outputs."""
    log = _current.get()
    _current.reset(token)
    return None if log is None else log.text()


def keep_log(text: str) -> None:
    """Add ``text`` (a worker process's capture of a body) to the log of the node running on this thread."""
    log = _current.get()
    if log is not None:
        log.add(text)


def run_capturing(function: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """``function(*args, **kwargs)`` keeping what it prints and logs on this thread: its result and the text
    (None when it wrote nothing). An exception it raises carries the text as ``taskloom_logs`` (it pickles with
    the exception). What a process that runs bodies for a scheduler elsewhere uses: taskloom-local's worker
    processes, taskloom-dask's workers; the scheduler adds the text to the node's log with :func:`keep_log`.
    """
    install()
    token = begin()
    try:
        result = function(*args, **kwargs)
    except BaseException as error:
        text = taken(token)
        if text is not None:
            error.taskloom_logs = text  # type: ignore[attr-defined]
        raise
    return result, taken(token)
