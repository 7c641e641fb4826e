"""Ctrl-C and SIGTERM while local executions run: stop them, and say what is left running.

The first signal cancels every running execution of this process (nothing new starts, worker
processes are killed, waiting gates wake) and raises :class:`KeyboardInterrupt` where the main thread
is; a second exits the process at once (status 130).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from taskloom_local.execution import Execution, gates_of


class Interrupts:
    """Ctrl-C and SIGTERM while executions run on the main thread: the first signal cancels every
    running execution of this process (nothing new starts, worker processes are killed, waiting
    gates wake) and raises :class:`KeyboardInterrupt` where the main thread is; a second exits at once.

    Installed by the outermost execution of the main thread, restored when it ends, unless it was
    interrupted: the process is then on its way out, and a second Ctrl-C must still end it at once.
    """

    _lock = threading.Lock()
    _active: set[Execution] = set()
    _previous: dict[int, Any] = {}  # the handlers ours replaced, while installed
    _count = 0  # executions running on the main thread
    _signals_seen = 0
    _stopping: threading.Thread | None = None  # the thread that stops what the last signal stopped

    def __init__(self, execution: Execution) -> None:
        self._execution = execution

    @classmethod
    def watch(cls, execution: Execution) -> Interrupts:
        """Stop ``execution`` on Ctrl-C or SIGTERM until :meth:`end` is called."""
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
        """The execution ended: stop watching it (and restore the handlers after the last one)."""
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
        cls._stopping = threading.Thread(target=cls._stop, args=(executions,), name="taskloom-interrupt", daemon=True)
        cls._stopping.start()
        raise KeyboardInterrupt(name)

    @classmethod
    def stopped(cls, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` seconds) until what the signal stopped is stopped: the worker processes and
        the plugins' pools killed. An interrupted execution waits so before it raises, so that a caller that
        catches the :class:`KeyboardInterrupt` (or a process about to exit) finds nothing of it still running:
        under load the stopping thread ran after the caller had moved on."""
        stopping = cls._stopping
        if stopping is not None and stopping is not threading.current_thread():
            stopping.join(timeout)

    @staticmethod
    def _stop(executions: list[Execution]) -> None:
        _kill_workers()
        for execution in executions:
            if execution.pool is not None:  # a plugin's pool (taskloom_task_pool): what runs there stops
                execution.pool.kill()
            gates_of(execution, cancel=True)


def _kill_workers() -> None:
    # Only if the pool's module was loaded: then it may have workers to kill.
    processes = sys.modules.get("taskloom_local.processes")
    if processes is not None:
        processes.kill_all_workers()


def report_abandoned(execution: Execution) -> None:
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
