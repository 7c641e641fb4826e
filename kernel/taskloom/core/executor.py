"""Running entities: the executor contract, and how an executor is chosen.

An executor runs a compiled workflow (its nodes, bindings and outputs, see
:mod:`taskloom.core.workflow`) with Python input values and returns its outputs as a call of the
workflow returns them. Executors are plugins answering :func:`~taskloom.hookspecs.taskloom_executor`;
the kernel runs nothing itself. The one used is named by ``TASKLOOM_EXECUTOR`` (``local`` when unset).

Task types whose body starts more work at run time (map tasks, dynamic and eager workflows) ask the
executor running them through a :class:`Runner`: :func:`task_runner` gives the one of the task being
executed, so that the same task type runs unchanged on any executor. While an eager body runs, a
:class:`CallHandler` receives the calls of tasks and workflows made in it
(:func:`handling_calls`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    import concurrent.futures

from taskloom.core.compiler import bind_arguments
from taskloom.core.interface import normalize_values
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.system import PluginError
from taskloom.exceptions.user import UserValueError
from taskloom.plugins import distribution_providing, get_plugin_manager

EXECUTOR_ENV = "TASKLOOM_EXECUTOR"
DEFAULT_EXECUTOR = "local"
#: How many worker processes an executor that can use them runs task bodies in (``loom run --processes``).
PROCESSES_ENV = "TASKLOOM_PROCESSES"


class Executor(Protocol):
    """What an executor plugin returns from :func:`~taskloom.hookspecs.taskloom_executor`."""

    def execute(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Run ``entity`` (a workflow) with ``inputs``, every input present and already type-checked.

        Returns the outputs as calling the entity does: None, one value, or a tuple (a named tuple
        when the entity declares a NamedTuple). A failing node raises its task's exception.
        """

    def runner(self) -> Runner:
        """A :class:`Runner` for work started outside any execution (a map task called directly).

        The caller closes it (:meth:`Runner.close`) when done.
        """


class ResumableExecutor(Executor, Protocol):
    """An executor that records its executions and can run one again from where it stopped.

    Optional: ``loom run ... --resume ID`` and :func:`resume_execution` use it when the executor
    has a ``resume`` method and say that the executor cannot resume otherwise.
    """

    def resume(self, execution_id: str, entity: Any = None, inputs: dict[str, Any] | None = None) -> Any:
        """Run again what the recorded execution ``execution_id`` had not finished, under the same
        id and with its recorded inputs; return the outputs as :meth:`Executor.execute` does.

        ``entity`` is what the execution ran (None: the executor finds it from its record);
        ``inputs`` given must equal the recorded ones. Nodes recorded as finished are not run again.
        An execution that already succeeded gives its recorded outputs. Errors (unknown id, another
        entity, other inputs) are :class:`~taskloom.exceptions.user.UserException` subclasses.
        """


class Runner(Protocol):
    """What a running task's body can ask of the executor that runs it: more nodes, now.

    Executors make one current (:class:`running`) while a task body runs; task types get it with
    :func:`task_runner`. Each node started here is a child of the running task's node: ``name``
    tells the children apart (an element index, a node id) and must be unique among them. A child
    gets the executor's treatment of any node: retries, timeout, cache, failure reporting. The
    retries and timeout of an entity with ``is_array_node`` (a map task) are those of each element,
    so the node that runs its body gets neither.
    """

    def run(self, entity: Any, inputs: dict[str, Any], *, name: str) -> dict[str, Any]:
        """Run ``entity`` (a task, workflow or launch plan) with ``inputs``; return its outputs by name.

        Inputs are Python values, every input present and already type-checked. A failing child
        raises its task's exception.
        """

    def submit(self, entity: Any, inputs: dict[str, Any], *, name: str) -> concurrent.futures.Future[dict[str, Any]]:
        """Start what :meth:`run` does without waiting; the future gives the outputs or the exception.

        Cancelling the future before the child starts means the child never runs (a map task stops
        starting elements once it cannot succeed).
        """

    def map(
        self,
        entity: Any,
        inputs: Sequence[dict[str, Any]],
        *,
        concurrency: int | None = None,
        on_done: Callable[[int, Any], bool] | None = None,
    ) -> list[Any]:
        """Run ``entity`` once per element of ``inputs`` (child ``str(index)``), at most ``concurrency``
        at once (None or 0: as many as the executor sees fit); return one outcome per element.

        An outcome is the child's outputs by name, the exception it raised, or None when it was never
        started. ``on_done(index, outcome)`` is called as each child ends (from any thread); when it
        returns True no further child starts. Executors run the batch their own efficient way (one
        lane of work per worker, an array job...); each child still gets retries, timeout and cache.
        """

    def close(self) -> None:
        """Wait for submitted children and release what the runner holds; it is not used afterwards."""


class TaskPool(Protocol):
    """Where an executor that schedules in this process runs task bodies: what
    :func:`~taskloom.hookspecs.taskloom_task_pool` returns.

    taskloom-local asks exactly this of its own worker processes (``loom run --processes N``) and of a
    pool a plugin provides (``loom run --executor dask``): its scheduler stays in this process and
    decides what runs when (dataflow order, retries, cache, records), and each attempt of a task body
    goes to the pool. Task types whose body starts children (``starts_children``: map tasks, dynamic
    and eager workflows) run in this process; their children go to the pool like any task.

    A pool finds a task in its workers by reference (the module defining it, that module's file and
    the name it is bound to there), so tasks must be defined at the top level of a module or of the
    file given to ``loom run``. An error a pool raises for itself rather than for the task is a
    :class:`~taskloom.exceptions.system.SystemException` naming the task; a lost worker is a
    :class:`~taskloom.exceptions.system.RecoverableSystemException`, so the task's retries apply.

    A pool may also offer ``start(entity, inputs, **context)``: one attempt as :meth:`run` makes it, started
    without the caller waiting, as a :class:`concurrent.futures.Future` of ``(what entity.run returns, seconds the
    worker ran it or None)``, failing as :meth:`run` fails. The executor then starts the task nodes that need no
    timeout, cache or kept logs without a scheduling thread waiting for each, so that what is ready reaches the
    pool at once (taskloom-dask's pool does; one that cannot start without a thread of its own need not).
    """

    @property
    def size(self) -> int:
        """How many task bodies the pool runs at once: the executor runs as many scheduling threads."""

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: a closed pool is no longer the one its executor name means."""

    def run(
        self, entity: Any, inputs: dict[str, Any], *, timeout: Any = None, explain: str | None = None, **context: Any
    ) -> Any:
        """Run one attempt of ``entity`` (a task) with ``inputs`` in a worker; return what ``entity.run``
        returns.

        ``context`` holds ``entity.run``'s execution arguments (``execution_id``, ``execution_date``,
        ``attempt``, ``checkpoint``, ``node_path``). Past ``timeout`` (a timedelta, None for none) the attempt fails
        with :class:`~taskloom.exceptions.user.UserTimeoutError`, its worker stopped when the pool can
        stop it. The task's own exception is raised as it is. ``explain`` says why the task runs in a
        pool, for the error when a worker cannot find it.
        """

    def run_many(
        self, entity: Any, inputs: Sequence[dict[str, Any]], checkpoints: Sequence[Any], **context: Any
    ) -> list[Any]:
        """Run one attempt of ``entity`` per element of ``inputs`` (with the checkpoint of the same
        index), as one unit of work; return per element its outputs by name, or the exception it raised.

        A map task's elements go here in batches when they need none of the executor's per-node
        services (retries, timeout, cache). An error of the pool itself (a lost worker) is every
        element's outcome; it never raises.

        The list may carry an attribute ``seconds``: how long the worker took to run the elements, without
        the time the batch waited in a queue or travelled. The executor sizes the next batches by it (a
        batch's loss to a crash stays about the durability threshold's worth of work); without it, by the
        round trip, which on a pool that queues (a cluster kept busier than its workers) overstates each
        element and keeps batches at one element.
        """

    def kill(self) -> None:
        """Stop what runs now (Ctrl-C, SIGTERM): the attempts running fail; the pool stays usable."""

    def close(self) -> None:
        """Release the workers; the pool is not used afterwards."""


class CallHandler(Protocol):
    """Receives the calls of tasks, workflows and launch plans made while it is current.

    Outside a workflow being compiled, calling an entity runs it; a task type that runs its body
    under different rules (an eager workflow hands each call to the executor) makes a handler current
    with :func:`handling_calls`. ``args`` and ``kwargs`` are the call's, unchecked.
    """

    def call(self, entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Handle ``entity(*args, **kwargs)``; return what the call returns."""

    def call_async(self, entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Handle ``await entity.aio(*args, **kwargs)``: return an awaitable of the call's result."""


_runner: contextvars.ContextVar[Runner | None] = contextvars.ContextVar("taskloom_runner", default=None)
_call_handler: contextvars.ContextVar[CallHandler | None] = contextvars.ContextVar(
    "taskloom_call_handler", default=None
)


class running:
    """``with running(runner):`` makes ``runner`` the one :func:`task_runner` gives (executors use it
    around a task body; a class rather than a generator, as it wraps every task attempt).
    """

    __slots__ = ("_runner", "_token")

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._token: Any = None

    def __enter__(self) -> Runner:
        self._token = _runner.set(self._runner)
        return self._runner

    def __exit__(self, *exc_info: object) -> None:
        _runner.reset(self._token)


@contextlib.contextmanager
def task_runner() -> Iterator[Runner]:
    """The :class:`Runner` of the task being executed; outside any execution, a fresh one of the
    configured executor, current for the block and closed at its end.
    """
    runner = _runner.get()
    if runner is not None:
        yield runner
        return
    runner = get_executor().runner()
    try:
        with running(runner):
            yield runner
    finally:
        runner.close()


def current_call_handler() -> CallHandler | None:
    """The :class:`CallHandler` made current by :func:`handling_calls`, or None."""
    return _call_handler.get()


@contextlib.contextmanager
def handling_calls(handler: CallHandler | None) -> Iterator[None]:
    """Send the calls of entities made in the block (in this thread or task) to ``handler``.

    ``None`` restores ordinary calls (a task body run by the handler calls tasks normally).
    """
    token = _call_handler.set(handler)
    try:
        yield
    finally:
        _call_handler.reset(token)


def executor_name() -> str:
    """The name of the executor to use: ``$TASKLOOM_EXECUTOR`` or ``local``."""
    return os.environ.get(EXECUTOR_ENV) or DEFAULT_EXECUTOR


def get_executor(name: str | None = None) -> Executor:
    """Return the executor called ``name`` (default: :func:`executor_name`) from the plugins.

    Raises :class:`~taskloom.exceptions.system.PluginError` naming the executor, and the distribution
    that provides it when known, if no installed plugin does.
    """
    name = name or executor_name()
    answer = get_plugin_manager().hook.taskloom_executor(name=name)
    if answer is None:
        distribution = distribution_providing(executor=name)
        install = f"; install {distribution}" if distribution else ""
        raise PluginError(f"no installed taskloom plugin provides the executor {name!r}{install}")
    return answer


#: Pools given a name in this process by a :class:`PoolExecutor` (name -> pool), asked before the plugins.
_named_pools: dict[str, TaskPool] = {}


def get_task_pool(name: str) -> TaskPool | None:
    """The pool on which the executor called ``name`` runs task bodies: the one a :class:`PoolExecutor` of
    this process was made with under that name (while it is open), else the plugins' answer
    (:func:`~taskloom.hookspecs.taskloom_task_pool`); None when there is neither.
    """
    pool = _named_pools.get(name)
    if pool is not None and not pool.closed:
        return pool
    answer: TaskPool | None = get_plugin_manager().hook.taskloom_task_pool(name=name)
    return answer


class PoolExecutor:
    """The executor ``name`` of this process: the executor a plugin builds on the :class:`TaskPool` it is given
    (taskloom-local's scheduler, answering :func:`~taskloom.hookspecs.taskloom_executor` for any name that has a
    pool), with ``pool`` registered under ``name`` so that workflow calls with ``TASKLOOM_EXECUTOR=NAME`` and
    :func:`get_executor` find it too. A pool plugin's Python API (``DaskExecutor``, ``KubernetesExecutor``) is
    this class with a constructor that makes the pool; :meth:`close` (or the end of a ``with`` block) forgets
    the name and closes the pool.
    """

    def __init__(self, pool: TaskPool, *, name: str) -> None:
        self.name = name
        self.pool = pool
        # A dict assignment is atomic under the GIL; the newest executor of a name wins, as a registration does.
        _named_pools[name] = pool
        try:
            self._executor = get_executor(name)
        except BaseException:
            self.close()
            raise

    def execute(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Run ``entity`` with ``inputs``; return its outputs as a call returns them."""
        return self._executor.execute(entity, inputs)

    def resume(self, execution_id: str, entity: Any = None, inputs: dict[str, Any] | None = None) -> Any:
        """Run again what the recorded execution ``execution_id`` had not finished."""
        resume = getattr(self._executor, "resume", None)
        if resume is None:
            raise UserValueError(f"the executor {self.name!r} cannot resume executions")
        return resume(execution_id, entity, inputs)

    def runner(self) -> Runner:
        """A runner for work started outside any execution (a map task called directly)."""
        return self._executor.runner()

    def close(self) -> None:
        """Forget the name (if this executor's pool still holds it) and close the pool."""
        if _named_pools.get(self.name) is self.pool:
            del _named_pools[self.name]
        self.pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def resume_execution(execution_id: str, entity: Any, inputs: dict[str, Any], executor: str | None = None) -> Any:
    """Resume the recorded execution ``execution_id`` of ``entity`` on the executor named ``executor``
    (default: :func:`executor_name`), with ``inputs`` given again (a part or none of them); return
    its outputs as a call of ``entity`` does.

    Raises :class:`~taskloom.exceptions.user.UserValueError` when that executor cannot resume.
    """
    name = executor or executor_name()
    resume = getattr(get_executor(name), "resume", None)
    if resume is None:
        raise UserValueError(f"the executor {name!r} cannot resume executions")
    return resume(execution_id, entity, inputs)


def call_on_executor(entity: Any, description: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What calling a workflow or launch plan outside a compilation does: the current
    :class:`CallHandler`'s answer, or the inputs bound and checked (errors name ``description``,
    e.g. ``"workflow 'x'"``) and the entity run on the configured executor.
    """
    handler = _call_handler.get()
    if handler is not None:
        return handler.call(entity, args, kwargs)

    interface = entity.python_interface
    inputs = bind_arguments(description, interface.inputs_with_defaults, args, kwargs)
    TypeEngine.check_values(inputs, interface.inputs, entity=description)
    if interface.input_normalizers:
        inputs = normalize_values(inputs, interface.input_normalizers)
    result = get_executor().execute(entity, inputs)
    if interface.output_normalizers:
        # An output bound straight to an input, or to a wider type (an int output of a workflow
        # declared float), comes back as flytekit's literal round trip gives it.
        outputs = interface.outputs_by_name(result)
        normalized = normalize_values(outputs, interface.output_normalizers)
        if normalized is not outputs:
            return interface.shape_outputs(normalized)
    return result


async def call_async(entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What ``entity.aio(*args, **kwargs)`` awaits: the current :class:`CallHandler`'s answer, or
    the ordinary call run in a worker thread (so that the event loop keeps going).
    """
    handler = _call_handler.get()
    if handler is not None:
        return await handler.call_async(entity, args, kwargs)
    import asyncio
    import functools

    return await asyncio.to_thread(functools.partial(entity, *args, **kwargs))
