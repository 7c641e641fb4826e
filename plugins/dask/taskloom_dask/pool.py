"""Task bodies as futures on a Dask cluster: :class:`DaskPool`, a :class:`~taskloom.extend.TaskPool`.

taskloom-local's scheduler hands the pool one attempt of a task body at a time (:meth:`DaskPool.run`),
or a batch of map elements (:meth:`DaskPool.run_many`); each becomes one Dask future, submitted with
``pure=False`` (every attempt runs, none is deduplicated by Dask) and waited for by the scheduling thread
that submitted it. So the order, the retries and the records stay the local executor's, and Dask decides
only which worker runs a body.

Faults end as the local executor expects them:

* the task's own exception comes back as it is, with a note naming the worker;
* a worker lost while running the body (killed, out of memory: Dask's ``KilledWorker``) or a future
  cancelled under it (the scheduler gone, Ctrl-C) is a :class:`WorkerLostError`, a recoverable error: the
  task's retries run it again, on whichever worker Dask picks. The LocalCluster this pool starts tells
  Dask to give up on a task at its first lost worker (``allowed_failures=0``), so the retry is the local
  executor's, counted and recorded, rather than Dask's own rescheduling; a cluster of yours keeps its
  setting (Dask's default reschedules three times before ``KilledWorker``);
* past a task's timeout the future is cancelled and the attempt fails with
  :class:`~taskloom.extend.UserTimeoutError`. A Python body already running in a worker cannot be
  interrupted: it finishes unobserved (its result is dropped) while the retry runs.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import socket
import threading
import uuid
import weakref
from collections.abc import Sequence
from concurrent.futures import CancelledError
from typing import Any

import dask
from distributed import Client, LocalCluster
from distributed.comm.core import connect
from distributed.scheduler import KilledWorker
from taskloom.extend import (
    RecoverableSystemException,
    SystemException,
    UserException,
    UserTimeoutError,
    find_binding,
)
from taskloom_local import capture_enabled, keep_log, note_worked

from taskloom_dask.options import SCHEDULER_ENV
from taskloom_dask.worker import STARTED_TOPIC, run_attempt, run_batch

__all__ = ["CONNECT_TIMEOUT", "SCHEDULER_ENV", "DaskPool", "SchedulerUnreachable", "WorkerLostError", "default_pool"]

#: Seconds to wait for a scheduler to answer before saying it cannot be reached: long enough for a
#: scheduler on a busy machine or across a network, short enough that a wrong address is told at once.
CONNECT_TIMEOUT = 10.0


#: The fewest bodies the local executor keeps submitted (its scheduling threads): a thread per running node
#: waits for its future, and a Dask round trip is long beside a trivial body, so a small cluster is kept fed
#: with more than its threads (a 1,000-node fan-out on two workers: 10-12 s with 4 submitted, 5-6 s with 32,
#: 3-3.5 s for plain Dask submitting them all at once; benchmarks/dask_overhead.py).
MIN_SIZE = 32


class WorkerLostError(RecoverableSystemException):
    """A task body's Dask worker was lost while running it (killed, out of memory), or its future was
    cancelled under it; recoverable, so the task's retries run it again."""


class SchedulerUnreachable(UserException):
    """No Dask scheduler answers at the address given (``--dask-scheduler``, ``$TASKLOOM_DASK_SCHEDULER``,
    ``DaskPool(address)``): a setting of the user's, so the message names it and no traceback follows."""


class DaskPool:
    """Runs task bodies as futures on a Dask cluster, for taskloom-local's scheduler.

    ``client`` is where: a :class:`distributed.Client` (used as it is and left open by :meth:`close`), a
    scheduler's address (``"tcp://10.0.0.5:8786"``: a client connected to it, waiting at most
    ``connect_timeout`` seconds, else :class:`SchedulerUnreachable`), or None: a
    :class:`distributed.LocalCluster` of ``n_workers`` worker processes (default: one per core), one
    thread each, on 127.0.0.1, with no dashboard. Whatever the pool starts, :meth:`close` stops.

    ``size`` is how many bodies the local executor keeps submitted at once (its scheduling threads):
    by default twice the cluster's threads when it connects, and at least :data:`MIN_SIZE`, so that a
    worker finishing a body finds the next one already queued rather than waiting for a round trip to
    this process.
    """

    def __init__(
        self,
        client: Client | str | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        n_workers: int | None = None,
        size: int | None = None,
    ) -> None:
        self._cluster: LocalCluster | None = None
        self._owns_client = not isinstance(client, Client)
        if isinstance(client, Client):
            self._client = client
        elif client is None:
            # Dask gives up on a task at its first lost worker: the local executor's retries run it again.
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self._cluster = LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    scheduler_kwargs={"allowed_failures": 0},
                    # A task's failure reaches the user as taskloom's one line (its traceback with --verbose),
                    # not also as the worker's log record of it.
                    silence_logs=logging.CRITICAL,
                )
            self._client = Client(self._cluster, set_as_default=False)
        else:
            self._client = _connect(client, connect_timeout)
        self._address = str(getattr(self._client.scheduler, "address", None) or client)
        threads = sum(self._client.nthreads().values())
        self._size = size or max(MIN_SIZE, 2 * threads)
        self._running: set[Any] = set()
        self._gatherer = _Gatherer(self._client)
        self._lock = threading.Lock()
        self._closed = False
        # By task, weakly: a task made and dropped (tests do) must not leave its reference to a new one.
        self._references: weakref.WeakKeyDictionary[Any, tuple[str, str | None, str]] = weakref.WeakKeyDictionary()

    @property
    def client(self) -> Client:
        """The :class:`distributed.Client` the bodies are submitted through."""
        return self._client

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return self._address

    @property
    def size(self) -> int:
        """How many bodies the local executor keeps submitted at once."""
        return self._size

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def run(
        self, entity: Any, inputs: dict[str, Any], *, timeout: Any = None, explain: str | None = None, **context: Any
    ) -> Any:
        """Run one attempt of ``entity`` with ``inputs`` as a Dask future; return what ``entity.run`` returns.

        ``context`` holds ``entity.run``'s execution arguments. Raises the task's own exception,
        :class:`WorkerLostError` when its worker is lost, :class:`~taskloom.extend.UserTimeoutError` past
        ``timeout`` (a timedelta), counted from the moment a worker starts the attempt: time queued on a
        busy cluster does not count, the worker's first import of the task's module does.
        """
        reference = self._reference(entity, explain)
        seconds = None if timeout is None else timeout.total_seconds()
        key = self._key(entity.name)
        started = None
        if seconds is not None:
            started = _watch_start(self._client, key)
        capture = capture_enabled()  # the run keeps its nodes' logs (loom run --report): the body's come back too
        future = self._submit(
            run_attempt, entity.name, reference, entity.name, inputs, context, seconds is not None, capture, key=key
        )
        try:
            if started is not None:
                future.add_done_callback(lambda _: started.set())  # done before it said so: failed to start
                started.wait()
            outcome = self._gatherer.wait(future, seconds)
            if outcome is None:
                future.cancel()  # a body already running finishes unobserved: Python code cannot be interrupted
                raise UserTimeoutError(
                    f"task {entity.name!r} did not finish within its timeout of {timeout} on the Dask cluster at "
                    f"{self.address}; its future was cancelled"
                )
            text = None
            try:
                result, worked, text = outcome.value()
            except BaseException as error:
                text = getattr(error, "taskloom_logs", None)
                raise
            finally:
                if text:
                    keep_log(text)
            note_worked(worked)  # the worker's time, not the queue's, for the durability threshold
            return result
        except (KilledWorker, CancelledError) as error:
            raise self._lost(entity.name, error) from error
        finally:
            self._forget(future)
            if started is not None:
                _STARTS.pop(key, None)

    def start(self, entity: Any, inputs: dict[str, Any], **context: Any) -> Any:
        """Start one attempt of ``entity`` as a Dask future, with no thread waiting for it; a
        :class:`concurrent.futures.Future` of ``(what entity.run returns, seconds the worker ran it)``.

        What the local executor uses for a task without a timeout whose logs are not kept: its ready nodes go to
        the cluster at once rather than one per scheduling thread. Fails as :meth:`run` does (the task's own
        exception, :class:`WorkerLostError`); raises at once when the pool is closed or the task cannot be found.
        """
        import concurrent.futures  # loaded with the local executor's pool already

        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future = self._submit(
            run_attempt, entity.name, self._reference(entity), entity.name, inputs, context, False, False
        )

        def then(outcome: _Outcome) -> None:
            self._forget(future)
            try:
                result, worked, _ = outcome.value()
            except (KilledWorker, CancelledError) as error:
                done.set_exception(self._lost(entity.name, error))
            except BaseException as error:
                done.set_exception(error)
            else:
                done.set_result((result, worked))

        self._gatherer.follow(future, then)
        return done

    def run_many(
        self, entity: Any, inputs: Sequence[dict[str, Any]], checkpoints: Sequence[Any], **context: Any
    ) -> list[Any]:
        """Run one attempt of ``entity`` per element of ``inputs`` as one future (one worker runs them one
        after another); return per element its outputs by name, or the exception it raised.

        A lost worker, or a task no worker can find, is every element's outcome.
        """
        try:
            future = self._submit(
                run_batch, entity.name, self._reference(entity), entity.name, inputs, checkpoints, context
            )
        except SystemException as error:
            return [error] * len(inputs)
        try:
            outcome = self._gatherer.wait(future, None)
            assert outcome is not None  # waited for without a deadline
            results: list[Any] = outcome.value()
        except (KilledWorker, CancelledError) as error:
            return [self._lost(entity.name, error)] * len(inputs)
        except Exception as error:  # the batch itself failed (its task not found): each element did
            return [error] * len(inputs)
        finally:
            self._forget(future)
        return results

    def kill(self) -> None:
        """Cancel every future this pool waits for (Ctrl-C, SIGTERM): their attempts fail with
        :class:`WorkerLostError`; bodies already running in a worker finish unobserved.
        """
        with self._lock:
            futures = list(self._running)
        if futures:
            self._client.cancel(futures)

    def close(self) -> None:
        """Cancel what is waited for, and stop the client and the LocalCluster this pool started."""
        if self._closed:
            return
        self._closed = True
        self.kill()
        self._gatherer.stop()
        if self._owns_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    @staticmethod
    def _key(task_name: str) -> str:
        # The key names the task, for the dashboard and Dask's logs.
        return f"{task_name}-{uuid.uuid4().hex}"

    def _submit(self, function: Any, task_name: str, *arguments: Any, key: str | None = None) -> Any:
        if self._closed:
            raise SystemException(f"task {task_name!r}: the Dask pool of {self.address} is closed")
        # pure=False: every attempt runs (Dask would otherwise treat equal arguments as one result).
        future = self._client.submit(function, *arguments, pure=False, key=key or self._key(task_name))
        with self._lock:
            self._running.add(future)
        return future

    def _forget(self, future: Any) -> None:
        with self._lock:
            self._running.discard(future)

    def _lost(self, task_name: str, error: BaseException) -> WorkerLostError:
        if isinstance(error, KilledWorker):
            how = "its worker was lost while running it (killed, out of memory, or a crash in native code)"
        else:
            how = "its future was cancelled (the scheduler lost it, or the run was interrupted)"
        return WorkerLostError(f"task {task_name!r} on the Dask cluster at {self.address}: {how}")

    def _reference(self, entity: Any, explain: str | None = None) -> tuple[str, str | None, str]:
        """(module name, module file, attribute) by which a worker finds ``entity``."""
        found = self._references.get(entity)
        if found is None:
            found = _find_reference(entity, explain)
            self._references[entity] = found
        return found


class _Outcome:
    """What a finished future gave: its value, or the exception it raised (raised again by :meth:`value`)."""

    __slots__ = ("error", "event", "result", "then")

    def __init__(self, then: Any = None) -> None:
        self.then = then  # called with the outcome once it is set (on the gathering thread)
        self.event = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def value(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class _Gatherer:
    """Fetches the results of finished futures in batches, for the threads waiting on them.

    A thread per running node waits for its own future; fetched one by one (``future.result()``), each
    result is a round trip from the client to a worker and back through the client's event loop, and with
    a thread per node that cost as much again as the nodes themselves (a 500-node fan-out on two workers:
    3.9 s with ``result()``, 1.3 s for plain Dask's one ``gather``). Here the futures' done callbacks queue
    them, and one thread gathers whatever has finished meanwhile in one request.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outcomes: dict[Any, _Outcome] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wait(self, future: Any, seconds: float | None) -> _Outcome | None:
        """The outcome of ``future`` once it is done, or None if it is not within ``seconds``."""
        outcome = self.follow(future)
        if outcome.event.wait(seconds):
            return outcome
        with self._lock:
            self._outcomes.pop(future.key, None)
        return None

    def follow(self, future: Any, then: Any = None) -> _Outcome:
        """The outcome of ``future``, set once it is done; ``then(outcome)`` is called then (on this thread)."""
        outcome = _Outcome(then)
        with self._lock:
            self._outcomes[future.key] = outcome
            if self._thread is None:
                self._thread = threading.Thread(target=self._gather, name="taskloom-dask-gather", daemon=True)
                self._thread.start()
        future.add_done_callback(self._finished.put)
        return outcome

    def stop(self) -> None:
        """End the gathering thread (the pool is closed)."""
        if self._thread is not None:
            self._finished.put(None)

    def _gather(self) -> None:
        while True:
            batch = [self._finished.get()]
            while True:  # and whatever else finished meanwhile
                try:
                    batch.append(self._finished.get_nowait())
                except queue.Empty:
                    break
            if None in batch:
                return
            finished = [future for future in batch if future.status == "finished"]
            values: dict[Any, Any] = {}
            if finished:
                try:
                    values = dict(zip([future.key for future in finished], self._client.gather(finished), strict=True))
                except Exception:  # one of them lost meanwhile: each on its own below
                    values = {}
            for future in batch:
                with self._lock:
                    outcome = self._outcomes.pop(future.key, None)
                if outcome is None:  # its waiter gave up (timeout)
                    continue
                if future.key in values:
                    outcome.result = values[future.key]
                else:
                    try:
                        outcome.result = future.result()
                    except BaseException as error:  # the task's, or KilledWorker, CancelledError: the waiter's
                        outcome.error = error
                outcome.event.set()
                if outcome.then is not None:
                    try:
                        outcome.then(outcome)
                    except Exception:  # the follower's to report; this thread gathers for every other
                        logging.getLogger("taskloom_dask").exception("finishing %s failed", future.key)


#: The attempts with a timeout of this process's pools until a worker says it starts them, by future key (a uuid
#: each). Held here, not by each pool: Dask keeps one event handler per topic and client, so a second pool on the
#: same client (two executors on one cluster) took the first one's, whose timeouts then counted from the end.
_STARTS: dict[str, threading.Event] = {}
_listening: weakref.WeakSet[Client] = weakref.WeakSet()
_listening_lock = threading.Lock()


def _watch_start(client: Client, key: str) -> threading.Event:
    """An event set when a worker says it starts the attempt ``key`` (run_attempt's ``announce``)."""
    started = _STARTS[key] = threading.Event()
    with _listening_lock:
        if client not in _listening:
            client.subscribe_topic(STARTED_TOPIC, _on_start)
            _listening.add(client)
    return started


def _on_start(event: tuple[float, Any]) -> None:
    started = _STARTS.get(event[1])
    if started is not None:
        started.set()


def _find_reference(entity: Any, explain: str | None = None) -> tuple[str, str | None, str]:
    found = find_binding(entity)
    if found is None:
        raise SystemException(
            f"task {entity.name!r} cannot run on a Dask cluster: it is not bound to a name at the top level of a "
            "module, so a worker cannot find it; " + (explain or "define it at module level")
        )
    module, attribute = found
    name = module.__name__
    spec_name = getattr(getattr(module, "__spec__", None), "name", None)
    if name == "__main__" and spec_name and spec_name != "__main__":
        name = spec_name  # `python -m pkg.flows`: workers import pkg.flows, as the task's name says
    return name, getattr(module, "__file__", None), attribute


def _connect(address: str, timeout: float) -> Client:
    def unreachable(why: str) -> SchedulerUnreachable:
        return SchedulerUnreachable(
            f"no Dask scheduler answers at {address} ({why}); check --dask-scheduler or ${SCHEDULER_ENV}"
        )

    # Dask's client retries a refused connection until its timeout: a plain TCP connection first says at
    # once that nothing listens there (a port closed, a host down), and the client's timeout is left to
    # bound a scheduler that accepts but does not answer.
    scheme, _, location = address.rpartition("://")
    if scheme in ("", "tcp", "tls"):
        host, _, port = location.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
                pass
        except ValueError:
            raise unreachable("it is not host:port") from None
        except OSError as error:
            raise unreachable(error.strerror or type(error).__name__) from None
    # A client waits without end for a server that accepts but never answers (not a scheduler, a scheduler
    # hung): one request the scheduler answers at once, bounded by the timeout, comes first.
    try:
        _ask_identity(address, timeout)
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "timed out"
        raise unreachable(f"no answer within {timeout:g} seconds: {first_line}") from None


def _ask_identity(address: str, timeout: float) -> None:
    """Ask the scheduler at ``address`` who it is, waiting at most ``timeout`` seconds (TimeoutError)."""

    async def ask() -> None:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            await comm.read()
        finally:
            comm.abort()

    outcome: list[BaseException] = []

    def run() -> None:
        # On a thread of its own: the caller may be inside a running event loop (a workflow called from
        # async code), where asyncio.run cannot start another.
        try:
            asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, name="taskloom-dask-connect", daemon=True)
    thread.start()
    thread.join()
    if outcome:
        raise outcome[0]


_default: DaskPool | None = None
_default_lock = threading.Lock()


def default_pool() -> DaskPool:
    """The pool of ``--executor dask`` in this process: connected to ``$TASKLOOM_DASK_SCHEDULER``, or on a
    LocalCluster when it is unset; made on first use, shared by the runs of the process, closed at exit.
    """
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            address = os.environ.get(SCHEDULER_ENV, "").strip()
            _default = DaskPool(address or None)
            atexit.register(_default.close)
        return _default
