"""The thread pool the local executor runs nodes on: daemon threads, so that a task body abandoned
after Ctrl-C or a timeout never keeps the process alive.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, which is what
most programs want and exactly what an interrupted run must not do: a body that sleeps for an hour
would hold ``loom run`` open for that hour after the user pressed Ctrl-C. This pool gives the same
``submit``/``shutdown`` and the same futures (``concurrent.futures.wait`` works on them), with
threads that end with the process.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


class DaemonThreadPool:
    """At most ``max_workers`` daemon threads (started as work comes, kept while idle) running
    submitted calls in order.
    """

    def __init__(self, max_workers: int | None = None, thread_name_prefix: str = "taskloom") -> None:
        self._max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._prefix = thread_name_prefix
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``function(*args, **kwargs)`` on a thread of the pool; return its future."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._work.put((future, function, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(target=self._serve, name=f"{self._prefix}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _serve(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, function, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = function(*args, **kwargs)
                except BaseException as error:  # handed to whoever waits on the future
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, function, args, kwargs, item
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Start nothing more once the queued calls ran (``cancel_futures``: cancel those too);
        ``wait`` for the threads to finish what they run.
        """
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()
