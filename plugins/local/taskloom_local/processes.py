"""Task bodies in worker processes: ``loom run --processes N`` or ``LocalExecutor(processes=N)``.

The scheduler stays in this process (its threads decide what runs when); each task attempt's body is
sent to one of ``N`` worker processes, so CPU-bound tasks use every core. Unlike threads, a worker can
be stopped: an attempt that exceeds its task's timeout has its worker killed (SIGKILL) and replaced,
and fails with :class:`~taskloom.exceptions.user.UserTimeoutError`. A worker that dies on its own
(killed, a segfault, the out-of-memory killer) fails the attempt with :class:`WorkerDiedError`, a
recoverable error: the task's retries apply, then the workflow's failure policy; the pool replaces
the worker and the run goes on.

A worker finds the task by reference (the module that defines it and its name there), so the task
must be defined at the top level of an importable module or of the file given to ``loom run``.
Inputs and outputs cross the process boundary pickled (:func:`send`, :func:`receive`): with protocol 5,
large buffers (numpy arrays, so pandas columns; Arrow buffers) out of band, so a table is copied once
through the pipe rather than into a pickle and out of it again. Workers are started with the
``forkserver`` method (safe with the scheduler's threads) and import the task's module once.

Task types whose body starts children through the runner (map tasks, dynamic and eager workflows:
``PythonTask.starts_children``) run in this process, where the runner lives; their children run in
workers like any task.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import io
import os
import pickle
import signal
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from taskloom.extend import (
    PROCESSES_ENV,  # the number of worker processes (loom run --processes)
    RecoverableSystemException,
    SystemException,
    UserTimeoutError,
)
from taskloom_local.logs import capture_enabled


class WorkerDiedError(RecoverableSystemException):
    """A task's worker process ended while running it (killed, crashed, out of memory)."""


class TaskNotImportable(SystemException):
    """A task cannot run in a worker process because a worker cannot find it by reference."""


def processes_from_environment() -> int | None:
    """``$TASKLOOM_PROCESSES`` as a positive number, or None when unset."""
    text = os.environ.get(PROCESSES_ENV, "").strip()
    if not text:
        return None
    try:
        count = int(text)
    except ValueError:
        raise SystemException(f"{PROCESSES_ENV} must be a number of processes, got {text!r}") from None
    if count < 1:
        raise SystemException(f"{PROCESSES_ENV} must be at least 1, got {count}")
    return count


_shared: dict[int, ProcessPool] = {}
_shared_lock = threading.Lock()

#: Seconds a worker may take to load a task with a timeout (import its module, unpickle its inputs) before
#: it is killed, when the task's timeout is shorter; the timeout itself starts once the task is loaded.
LOAD_TIMEOUT = 60.0
#: What a worker sends when it has loaded the task of a job and starts running it.
LOADED = ("loaded", None)


def shared_pool(size: int) -> ProcessPool:
    """The pool of ``size`` workers this process shares between runs (made on first use, its workers
    stopped when the interpreter exits): a second run does not pay for starting workers again.
    """
    with _shared_lock:
        pool = _shared.get(size)
        if pool is None or pool.closed:
            pool = _shared[size] = ProcessPool(size)
            if len(_shared) == 1:
                import atexit

                atexit.register(_close_shared)
        return pool


def _close_shared() -> None:
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


class ProcessPool:
    """``size`` worker processes, started on first use, each running one task attempt at a time."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise SystemException(f"a process pool needs at least one process, got {size}")
        self._size = size
        self._slots = threading.Semaphore(size)
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        # By task, weakly: a task made and dropped (tests do) must not leave its id to a new one.
        self._references: weakref.WeakKeyDictionary[Any, tuple[str, str | None, str]] = weakref.WeakKeyDictionary()

    @property
    def size(self) -> int:
        """The number of worker processes."""
        return self._size

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def run(
        self, entity: Any, inputs: dict[str, Any], *, timeout: Any = None, explain: str | None = None, **context: Any
    ) -> Any:
        """Run one attempt of ``entity`` with ``inputs`` in a worker; return what ``entity.run`` returns.

        ``context`` holds ``entity.run``'s execution arguments (execution id and date, attempt,
        checkpoint). ``timeout`` (a timedelta) kills the worker when exceeded. The task's own
        exception is raised as it is (its notes say which process ran it). ``explain`` says why the
        task runs in a process, for the error when a worker cannot find it.
        """
        answer = self._exchange(
            entity, ("one", self._reference(entity, explain), entity.name, inputs, context, settings()), timeout
        )
        status, payload = answer[0], answer[1]
        logs: tuple[Any, ...] = answer[2:]
        if logs and logs[0]:  # what the body printed and logged there, when the run captures logs
            from taskloom_local.logs import keep_log

            keep_log(logs[0])
        if status == "error":
            raise payload
        return payload

    def run_many(self, entity: Any, inputs: list[dict[str, Any]], checkpoints: list[Any], **context: Any) -> list[Any]:
        """Run one attempt of ``entity`` per element of ``inputs`` in one worker, one after another;
        return per element its outputs by name, or the exception it raised.

        One round trip for the whole batch: what makes a process-pool map of small elements fast.
        A worker that dies fails every element of the batch with :class:`WorkerDiedError`.
        """
        try:
            job = (
                "many",
                self._reference(entity),
                entity.name,
                inputs,
                {**context, "checkpoints": checkpoints},
                settings(),
            )
            status, payload = self._exchange(entity, job, None)
        except (SystemException, UserTimeoutError) as error:
            return [error] * len(inputs)
        if status == "error":
            return [payload] * len(inputs)
        return payload

    def _exchange(self, entity: Any, job: tuple[Any, ...], timeout: Any) -> tuple[Any, ...]:
        """Send ``job`` to an idle worker and return its answer ``(status, payload)``, or
        ``(status, payload, logs)`` for a job run capturing its body's output.

        Raises :class:`WorkerDiedError` when the worker dies, :class:`UserTimeoutError` (after
        killing it) past ``timeout``, and :class:`SystemException` for inputs that do not pickle.
        """
        seconds = None if timeout is None else timeout.total_seconds()
        with self._slots:
            worker = self._take()
            try:
                try:
                    send(worker.connection, job)
                except (BrokenPipeError, EOFError, OSError):
                    raise self._died(entity.name, worker) from None
                except Exception as error:  # an input that does not pickle
                    raise SystemException(
                        f"task {entity.name!r}: its inputs cannot be sent to a worker process: {type(error).__name__}: {error}"
                    ) from error
                # First the worker says it has the task loaded (its module imported, the inputs
                # unpickled), then it runs it: the timeout bounds the run, as it does in a thread,
                # not the import of the user's module by a fresh process, which a busy machine can
                # stretch past a short timeout. Loading is bounded too, by LOAD_TIMEOUT or the
                # timeout when that is longer, so that a module whose import hangs cannot stall the run.
                loading = None if seconds is None else max(seconds, LOAD_TIMEOUT)
                answer = self._answer(entity, worker, loading, timeout, "load it")
                if answer[0] != "loaded":
                    return answer  # the task could not be loaded: the worker says why
                return self._answer(entity, worker, seconds, timeout, "finish")
            finally:
                self._give_back(worker)

    def _answer(self, entity: Any, worker: _Worker, seconds: float | None, timeout: Any, what: str) -> tuple[Any, ...]:
        """The worker's next message, waiting at most ``seconds`` (then it is killed)."""
        from multiprocessing.connection import wait

        ready = wait([worker.connection, worker.process.sentinel], seconds)
        if not ready:
            worker.kill()
            if what == "finish":
                raise UserTimeoutError(
                    f"task {entity.name!r} did not finish within its timeout of {timeout}; its worker process was killed"
                )
            raise UserTimeoutError(
                f"task {entity.name!r}: its worker process could not load it within {seconds:g} seconds (importing "
                "its module, unpickling its inputs); the worker process was killed"
            )
        if worker.connection not in ready:
            raise self._died(entity.name, worker)
        try:
            answer: tuple[Any, ...] = receive(worker.connection)
        except (EOFError, OSError):
            raise self._died(entity.name, worker) from None
        return answer

    def close(self) -> None:
        """Stop every worker (each finishes nothing more)."""
        with self._lock:
            self._closed = True
            workers, self._workers, self._idle = list(self._workers), set(), []
        for worker in workers:
            worker.stop()

    # --- workers -----------------------------------------------------------------------------

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise SystemException("the process pool is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                self._workers.discard(worker)
        worker = _Worker.start()
        with self._lock:
            self._workers.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker.process.is_alive() and not self._closed:
                self._idle.append(worker)
                return
            self._workers.discard(worker)
        worker.stop()

    def _died(self, task_name: str, worker: _Worker) -> WorkerDiedError:
        # Its forkserver reports a dead worker's status within milliseconds; a busy machine can take longer.
        worker.process.join(5)
        code = worker.process.exitcode
        if code is None:  # its end of the pipe closed, yet it runs on: nobody can give it a task again
            worker.kill()
            return WorkerDiedError(
                f"task {task_name!r}: its worker process (pid {worker.process.pid}) closed its pipe to the scheduler "
                "while running it and was killed (the task's body closed file descriptors it did not open?)"
            )
        if code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return WorkerDiedError(
            f"task {task_name!r}: its worker process (pid {worker.process.pid}) {how} while running it "
            "(out of memory, a crash in native code, or killed from outside)"
        )

    def _reference(self, entity: Any, explain: str | None = None) -> tuple[str, str | None, str]:
        """(module name, module file, attribute) by which a worker finds ``entity``."""
        found = self._references.get(entity)
        if found is None:
            found = _find_reference(entity, explain)
            self._references[entity] = found
        return found

    def kill(self) -> None:
        """Kill every worker now (Ctrl-C, SIGTERM): attempts running in them fail with
        :class:`WorkerDiedError`; the pool starts new workers if it is used again.
        """
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            if worker.process.is_alive():
                worker.process.kill()


def kill_all_workers() -> None:
    """Kill the workers of every pool of this process (see :meth:`ProcessPool.kill`)."""
    for pool in list(_shared.values()):
        pool.kill()


def _find_reference(entity: Any, explain: str | None = None) -> tuple[str, str | None, str]:
    from taskloom.extend import find_binding

    found = find_binding(entity)
    if found is not None:
        module, attribute = found
        name = module.__name__
        spec_name = getattr(getattr(module, "__spec__", None), "name", None)
        if name == "__main__" and spec_name and spec_name != "__main__":
            name = spec_name  # `python -m pkg.tasks`: workers import pkg.tasks, as the task's name says
        return name, getattr(module, "__file__", None), attribute
    raise TaskNotImportable(
        f"task {entity.name!r} cannot run in a worker process: it is not bound to a name at the top level "
        "of a module, so a worker cannot find it; " + (explain or "define it at module level, or run without processes")
    )


class _Worker:
    """One worker process and the connection to it."""

    __slots__ = ("connection", "process")

    def __init__(self, process: Any, connection: Any) -> None:
        self.process = process
        self.connection = connection

    @classmethod
    def start(cls) -> _Worker:
        import multiprocessing

        keep_freed_memory()  # the scheduler receives every output of its workers too
        context = multiprocessing.get_context("forkserver")
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=serve, args=(child_end, list(sys.path), os.getpid()), name="taskloom-worker", daemon=True
        )
        process.start()
        _one_reader_of_the_exit_status(process)
        child_end.close()
        return cls(process, parent_end)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)

    def stop(self) -> None:
        try:
            if self.process.is_alive():
                send(self.connection, None)
        except (BrokenPipeError, EOFError, OSError):
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        self.connection.close()


def _one_reader_of_the_exit_status(process: Any) -> None:
    """Make ``process``'s exit status read by one thread at a time.

    A forkserver child's status comes once, as 8 bytes its forkserver writes to the sentinel pipe. Every
    thread that asks (``is_alive``, ``join``, ``exitcode``, and ``Process.start`` of any process, which
    polls every child) reads that pipe, and when two read at once the one that finds it empty sets the
    status to 255 over the right one (CPython gh-130895): a worker killed by SIGKILL was reported as
    "exited with code 255" whenever another lane was starting a worker as it died. Here a poll takes a
    lock, and the blocking wait for the end happens before it, so that ``is_alive`` never waits behind
    a ``join``.
    """
    from multiprocessing.connection import wait

    popen = process._popen  # private: the one place a poll can be made to take a lock
    poll = popen.poll
    lock = threading.Lock()

    def locked_poll(flag: int = os.WNOHANG) -> int | None:
        if flag != os.WNOHANG and popen.returncode is None:
            wait([popen.sentinel])
        with lock:
            return poll(os.WNOHANG)

    popen.poll = locked_poll


# --- the pipe between the scheduler and a worker -----------------------------------------------


def send(connection: Connection, value: Any) -> None:
    """Send ``value`` pickled with protocol 5, its buffers out of band, to :func:`receive`.

    In band, a 32 MB table is copied into the pickle and out of it again (~200 ms a hop for a pandas
    table on the development machine, four hops from one worker's task to the next); out of band its
    buffers go through the pipe as they are, raw, after a message with their sizes (~40 ms a hop).
    Nothing is sent unless all of ``value`` pickles, so a value that does not pickle leaves the pipe
    clean.
    """
    buffers: list[pickle.PickleBuffer] = []
    stream = io.BytesIO()
    # ForkingPickler: multiprocessing's reducers (connections, sockets) as Connection.send has them.
    ForkingPickler(stream, 5, True, buffers.append).dump(value)
    views = [_contiguous(buffer) for buffer in buffers]
    connection.send([view.nbytes for view in views])
    connection.send_bytes(stream.getbuffer())
    for view in views:
        _write_all(connection.fileno(), view.cast("B"))


def receive(connection: Connection) -> Any:
    """A value sent by :func:`send`; out-of-band buffers are received into writable memory, so arrays
    made over them (a pandas column) can be written to as after an in-band pickle."""
    sizes = connection.recv()
    data = connection.recv_bytes()
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        _read_into(connection.fileno(), buffer)
        buffers.append(buffer)
    return pickle.loads(data, buffers=buffers)


# The buffers go raw, their sizes sent before them: Connection.recv_bytes reads a message in chunks
# that it allocates and copies into a BytesIO, and recv_bytes_into copies that again (three copies of
# a 32 MB column set); os.readv reads straight into the receiving buffer.


def _write_all(descriptor: int, view: memoryview) -> None:
    while view:
        view = view[os.write(descriptor, view) :]


def _read_into(descriptor: int, buffer: bytearray) -> None:
    view = memoryview(buffer)
    while view:
        count = os.readv(descriptor, [view])
        if count == 0:
            raise EOFError("the other end of the pipe closed in the middle of a value")
        view = view[count:]


def _contiguous(buffer: pickle.PickleBuffer) -> memoryview:
    try:
        return buffer.raw()
    except BufferError:  # a strided buffer: flattened (a copy), as an in-band pickle would
        return memoryview(memoryview(buffer).tobytes())


# --- inside a worker ---------------------------------------------------------------------------


#: glibc's ``mallopt`` parameters and what :func:`keep_freed_memory` sets them to: blocks up to 32 MiB (glibc's
#: ceiling for the threshold) come from the heap, and up to 64 MiB freed at its top stay there.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MALLOPT = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 64 << 20))


@functools.cache
def keep_freed_memory() -> None:
    """Have the C allocator of this process keep the memory of large blocks freed, for the next ones
    (once a process: in each worker, and in the scheduler when it starts its first worker).

    Every value a worker receives is new memory (its buffers, :func:`receive`), and glibc gives a block
    of more than its threshold (128 KiB at first, then the size of the last such block freed, up to
    32 MiB) pages of its own, returned to the system when freed; the next value's pages are then new
    too, and the kernel faults and zeroes each one as it is filled. On the development machine (a
    virtual machine) that was most of a hand-over: a 30 MiB table from one worker's task to the next
    took 56-60 ms, and 19-22 ms with these thresholds in the workers and the scheduler (pandas, pyarrow and
    polars alike; 36-41 ms in the workers alone). Each such process holds on to up to :data:`_MALLOPT`'s
    64 MiB it freed. Nothing happens where the C library has no ``mallopt`` (musl, macOS).
    """
    import ctypes  # once, in a process that uses worker processes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    for parameter, value in _MALLOPT:
        mallopt(parameter, value)


def serve(connection: Any, path: list[str], scheduler: int | None = None) -> None:
    """A worker's loop: receive a job, run it, send ``("ok", result)`` or ``("error", exception)``.

    Ctrl-C at a terminal reaches the whole process group: the worker ignores it, and the scheduler
    (``scheduler``, its process id), which decides what stops, kills it. A worker whose scheduler
    is gone (killed) ends itself rather than finish a task nobody waits for.
    """
    sys.path[:] = path
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()
    if scheduler is not None:
        threading.Thread(target=_end_with, args=(scheduler,), name="taskloom-watchdog", daemon=True).start()
    tasks: dict[tuple[str, str | None, str], Any] = {}
    while True:
        try:
            job = receive(connection)
        except (EOFError, OSError):
            return
        if job is None:
            return
        kind, reference, task_name, inputs, context, environment = job
        _apply(environment)
        try:
            entity = tasks.get(reference)
            if entity is None:
                entity = tasks[reference] = _load(reference, task_name)
            try:
                send(connection, LOADED)  # the scheduler's timeout starts now
            except (BrokenPipeError, ConnectionResetError):
                return
            if kind == "one" and capture_enabled():
                answer = _run_captured(entity, inputs, context)
            elif kind == "one":
                answer = ("ok", entity.run(inputs, checked=True, **context))
            else:
                answer = (
                    "ok",
                    run_each(entity, inputs, context.pop("checkpoints"), context, f"worker process {os.getpid()}"),
                )
        except BaseException as error:  # every failure goes back to the scheduler
            error.add_note(f"in worker process {os.getpid()}")
            answer = ("error", error)
        try:
            send(connection, answer)
        except (BrokenPipeError, ConnectionResetError):  # the scheduler is gone: nobody to answer
            return
        except Exception as error:  # an output or exception that does not pickle
            status, payload = answer
            what = "its outputs" if status == "ok" else f"its {type(payload).__name__}"
            send(
                connection,
                (
                    "error",
                    SystemException(
                        f"task {task_name!r}: {what} cannot be sent back from the worker process: "
                        f"{type(error).__name__}: {error}"
                        + ("" if status == "ok" else f" (the task raised {type(payload).__name__}: {payload})")
                    ),
                ),
            )


def _run_captured(entity: Any, inputs: dict[str, Any], context: dict[str, Any]) -> tuple[Any, ...]:
    """Run one attempt keeping what its body prints and logs (``TASKLOOM_CAPTURE_LOGS``, which the scheduler's
    settings bring): the answer carries the text for the node's log in the scheduler."""
    from taskloom_local.logs import run_capturing

    try:
        result, text = run_capturing(entity.run, inputs, checked=True, **context)
    except BaseException as error:
        error.add_note(f"in worker process {os.getpid()}")
        return ("error", error, getattr(error, "taskloom_logs", None))
    return ("ok", result, text)


def settings() -> dict[str, str]:
    """This process's ``TASKLOOM_*`` environment variables, sent with every job.

    Workers outlive a run (the next one reuses them), so what they inherited when they started can be
    stale: a program that sets ``TASKLOOM_RAW_OUTPUT_PREFIX`` (or an agent endpoint, a Dask address) between
    two runs had its second run's bodies use the first's in the workers, and threads the new one.
    """
    environ = os.environ
    return {name: environ[name] for name in environ if name.startswith("TASKLOOM_")}  # values of these only


def _apply(environment: dict[str, str]) -> None:
    """Make the worker's ``TASKLOOM_*`` variables the scheduler's (:func:`settings`) for the job."""
    if environment == settings():  # as almost always: nothing changed since the last job
        return
    for name in [name for name in os.environ if name.startswith("TASKLOOM_") and name not in environment]:
        del os.environ[name]
    os.environ.update(environment)


def _end_with(scheduler: int) -> None:
    # Our parent is the forkserver, which ends when the scheduler does: a new parent (or, should
    # the forkserver linger, the scheduler's pid gone) means nobody waits for this worker any more.
    import time

    parent = os.getppid()
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(1)
        try:
            os.kill(scheduler, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # another user's process has its pid now
            os._exit(1)


class Outcomes(list[Any]):
    """A batch's outcomes, one per element, with ``seconds``: how long the worker took to run them (what
    ``TaskPool.run_many`` may say, so that the scheduler sizes batches by the work, not by the round trip)."""

    seconds: float


def run_each(
    entity: Any, inputs: Sequence[dict[str, Any]], checkpoints: Sequence[Any], context: dict[str, Any], where: str
) -> list[Any]:
    """One attempt of ``entity`` per element, one after another: each element's outputs by name, or the exception
    it raised, noted as raised ``where`` (the batch goes on), as :class:`Outcomes` saying how long they took.
    What a worker runs for ``TaskPool.run_many``: this plugin's worker processes, and taskloom-dask's workers
    (through ``taskloom_local``)."""
    began = time.perf_counter()
    prepared = getattr(entity, "prepared", None)
    if prepared is not None:  # the task's fast path for many calls (checks once, not per element)
        call = prepared(**context)
    else:

        def call(values: dict[str, Any], checkpoint: Any) -> dict[str, Any]:
            result = entity.run(values, checked=True, checkpoint=checkpoint, **context)
            return entity.python_interface.outputs_by_name(result)

    results = Outcomes()
    for values, checkpoint in zip(inputs, checkpoints, strict=True):
        try:
            results.append(call(values, checkpoint))
        except Exception as error:
            error.add_note(f"in {where}")
            results.append(error)
    results.seconds = time.perf_counter() - began
    return results


_main_scripts: dict[str, Any] = {}


def _load(reference: tuple[str, str | None, str], task_name: str) -> Any:
    module_name, module_file, attribute = reference
    module = None
    if module_name == "__main__":
        # The script the user ran: a worker's own __main__ is something else. As multiprocessing's
        # spawn does, load the script as __mp_main__, so that its `if __name__ == "__main__":` block
        # does not run.
        if module_file is None:
            raise TaskNotImportable(f"task {task_name!r}: it is defined in a __main__ module that has no file")
        module = _main_scripts.get(module_file)
        if module is None:
            spec = importlib.util.spec_from_file_location("__mp_main__", module_file)
            if spec is None or spec.loader is None:
                raise TaskNotImportable(f"task {task_name!r}: {module_file} cannot be imported")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _main_scripts[module_file] = module
    else:
        module = sys.modules.get(module_name)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if module_file is None:
                raise
            spec = importlib.util.spec_from_file_location(module_name, module_file)
            if spec is None or spec.loader is None:
                raise
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    entity = getattr(module, attribute, None)
    name = getattr(entity, "name", None)
    if entity is None or name != task_name:
        raise TaskNotImportable(f"task {task_name!r}: the worker found no such task at {module_name}.{attribute}")
    return entity
