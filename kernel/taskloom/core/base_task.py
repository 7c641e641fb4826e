"""What every task is and carries, whatever its type: :class:`PythonTask` and :class:`TaskMetadata`.

Names and signatures follow flytekit's ``flytekit.core.base_task``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from taskloom import __version__
from taskloom.core.compiler import bind_arguments, create_node, current_compilation
from taskloom.core.context_manager import ExecutionParameters, _current, new_execution_name
from taskloom.core.executor import call_async, current_call_handler, get_executor
from taskloom.core.interface import normalize_values
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    from collections.abc import Callable

    from taskloom.configuration import SerializationSettings
    from taskloom.core.cache import Cache
    from taskloom.core.interface import Interface
    from taskloom.core.node import Node
    from taskloom.core.pod_template import PodTemplate
    from taskloom.core.resources import ResourceSpec
    from taskloom.models import task as task_models
    from taskloom.models.interface import TypedInterface
    from taskloom.models.literals import LiteralMap, RetryStrategy
    from taskloom.models.security import SecurityContext
    from taskloom.models.task import TaskTemplate
    from taskloom.models.workflow import Node as NodeModel
    from taskloom.translator import Translator

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").


@dataclasses.dataclass
class TaskMetadata:
    """How a task runs: caching, retries, timeout, interruptibility, deck (flytekit's ``TaskMetadata``).

    ``timeout`` accepts seconds as an int; ``retries`` is the number of retries after the first
    attempt. Contradictions (a negative retry count, cache settings without ``cache``) are a
    :class:`~taskloom.exceptions.user.ValidationError`.
    """

    cache: bool = False
    cache_serialize: bool = False
    cache_version: str = ""
    cache_ignore_input_vars: tuple[str, ...] = ()
    interruptible: bool | None = None
    deprecated: str = ""
    retries: int = 0
    timeout: dt.timedelta | int | None = None
    pod_template_name: str | None = None
    generates_deck: bool = False
    is_eager: bool = False
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (dt.timedelta, int, type(None))):
            raise ValidationError(f"TaskMetadata: timeout expects a timedelta or seconds, got {self.timeout!r}")
        if isinstance(self.timeout, int):
            self.timeout = dt.timedelta(seconds=self.timeout)
        if self.timeout is not None and self.timeout <= dt.timedelta(0):
            raise ValidationError(f"TaskMetadata: timeout must be positive, got {self.timeout}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValidationError(f"TaskMetadata: retries expects a non-negative int, got {self.retries!r}")
        if not self.cache and (self.cache_serialize or self.cache_version or self.cache_ignore_input_vars):
            raise ValidationError(
                "TaskMetadata: cache_serialize, cache_version and cache_ignore_input_vars need cache=True"
            )
        self.cache_ignore_input_vars = tuple(self.cache_ignore_input_vars)

    @property
    def retry_strategy(self) -> RetryStrategy:
        """The retries as the contract's :class:`~taskloom.models.literals.RetryStrategy`."""
        from taskloom.models.literals import RetryStrategy

        return RetryStrategy(retries=self.retries)

    def to_taskmetadata_model(self) -> task_models.TaskMetadata:
        """The flyteidl-shaped :class:`~taskloom.models.task.TaskMetadata` (flytekit's method name)."""
        from taskloom.models import task as task_models  # templates only: keep `@task` light

        kubernetes = None
        if self.labels or self.annotations:
            kubernetes = task_models.K8sObjectMetadata(
                labels=dict(self.labels or {}), annotations=dict(self.annotations or {})
            )
        return task_models.TaskMetadata(
            discoverable=self.cache,
            runtime=task_models.RuntimeMetadata(
                type=task_models.RuntimeType.FLYTE_SDK, version=__version__, flavor="python"
            ),
            # __post_init__ made seconds a timedelta; the field's type keeps the int it accepts.
            timeout=cast("dt.timedelta | None", self.timeout),
            retries=self.retry_strategy,
            discovery_version=self.cache_version,
            deprecated_error_message=self.deprecated,
            interruptible=self.interruptible,
            cache_serializable=self.cache_serialize,
            pod_template_name=self.pod_template_name or "",
            cache_ignore_input_vars=self.cache_ignore_input_vars,
            is_eager=self.is_eager,
            generates_deck=self.generates_deck,
            metadata=kubernetes,
        )


class IgnoreOutputs(Exception):
    """Raised by a task body to say that this attempt leaves no outputs (flytekit's ``IgnoreOutputs``).

    A container entrypoint then writes neither outputs nor an error; distributed task types use it
    on every worker but the one that reports. Called locally, it propagates like any exception.
    """


class PythonTask:
    """A task whose behaviour is Python code: the base of every task type (flytekit's ``PythonTask``).

    ``name`` identifies the task; ``task_type`` says which executor or backend plugin runs it;
    ``interface`` is its Python :class:`~taskloom.core.interface.Interface`; ``task_config`` is the
    configuration object of a task type (its plugin reads it in :meth:`get_custom`). Subclasses
    implement :meth:`execute`. ``environment`` holds variables of the task's container (set by the executor that runs it in one),
    ``security_ctx`` its secrets, ``resources`` a :class:`~taskloom.core.resources.ResourceSpec`,
    ``retry_on`` exception classes to retry like recoverable errors,
    ``pod_template`` a :class:`~taskloom.core.pod_template.PodTemplate` (or a pod spec: a dict, or any
    object with ``to_dict()``).
    """

    #: True for task types whose body starts child nodes through the executor's runner (map tasks,
    #: dynamic and eager workflows): executors run such bodies where the runner lives (a process
    #: pool runs them in the scheduling process, their children in workers).
    starts_children: bool = False

    #: False for task types a backend plugin runs without a pod of the task's own (flytekit's echo
    #: task): their template has no container.
    runs_in_container: bool = True

    def __init__(
        self,
        task_type: str,
        name: str,
        interface: Interface,
        task_config: Any = None,
        metadata: TaskMetadata | None = None,
        *,
        environment: dict[str, str] | None = None,
        security_ctx: SecurityContext | None = None,
        resources: ResourceSpec | None = None,
        container_image: Any = None,
        accelerator: Any = None,
        pod_template: Any = None,
        task_type_version: int = 0,
        docs: str | None = None,
        cache: Cache | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
        enable_deck: bool | None = None,
        disable_deck: bool | None = None,
        deck_fields: Any = None,
    ) -> None:
        self._task_type = task_type
        self._name = name
        self._interface = interface
        self._task_config = task_config
        self._metadata = metadata or TaskMetadata()
        self._environment = dict(environment or {})
        self._security_ctx = security_ctx
        self._resources = resources
        self._container_image = container_image
        self._accelerator = accelerator
        self._pod_template = None
        if pod_template is not None:  # most tasks have none: the module (~0.5 ms) is imported for those that do
            from taskloom.core.pod_template import as_pod_template

            self._pod_template = as_pod_template(f"task {name!r}", pod_template)
        self._task_type_version = task_type_version
        self._docs = docs if docs is not None else interface.docstring
        self._cache = cache
        retry_on = tuple(retry_on) if isinstance(retry_on, (tuple, list)) else (retry_on,)
        if not all(isinstance(kind, type) and issubclass(kind, BaseException) for kind in retry_on):
            raise ValidationError(f"task {name!r}: retry_on expects exception classes, got {retry_on!r}")
        self._retry_on = retry_on
        if enable_deck is not None or disable_deck is not None:
            if enable_deck is not None and disable_deck is not None:
                raise ValidationError(f"task {name!r}: give enable_deck or disable_deck, not both")
            decks_on = bool(enable_deck) if enable_deck is not None else disable_deck is False
            if decks_on != self._metadata.generates_deck:
                self._metadata = dataclasses.replace(self._metadata, generates_deck=decks_on)
        #: The decks each execution shows (None: decks are off, and running costs nothing more).
        self._deck_fields: tuple[Any, ...] | None = None
        if self._metadata.generates_deck:
            from taskloom.deck import DEFAULT_DECK_FIELDS, deck_fields_of  # only tasks with decks

            self._deck_fields = (
                DEFAULT_DECK_FIELDS if deck_fields is None else deck_fields_of(deck_fields, f"task {name!r}")
            )

    # --- what the task is ------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The task's name (for a function: ``module.function``)."""
        return self._name

    @property
    def task_type(self) -> str:
        """The task type (``"python-task"`` for plain functions)."""
        return self._task_type

    @property
    def python_interface(self) -> Interface:
        """Inputs and outputs with their Python types and defaults."""
        return self._interface

    @property
    def interface(self) -> TypedInterface:
        """Inputs and outputs with their literal types."""
        return self._interface.to_typed_interface(entity=f"task {self._name!r}")

    @property
    def task_config(self) -> Any:
        """The configuration object of the task type, or None."""
        return self._task_config

    def with_task_config(self, task_config: Any) -> PythonTask:
        """A copy of this task with another ``task_config`` (what ``with_overrides(task_config=...)`` runs)."""
        import copy

        clone = copy.copy(self)
        clone._task_config = task_config
        return clone

    @property
    def metadata(self) -> TaskMetadata:
        """Caching, retries, timeout and the rest of :class:`TaskMetadata`."""
        return self._metadata

    @property
    def environment(self) -> dict[str, str]:
        """Environment variables of the task's container (not applied to in-process local runs)."""
        return dict(self._environment)

    @property
    def security_context(self) -> SecurityContext | None:
        """The secrets (and identity) the task asks for."""
        return self._security_ctx

    @property
    def resources(self) -> ResourceSpec | None:
        """Resource requests and limits, or None for the platform's defaults."""
        return self._resources

    @property
    def container_image(self) -> Any:
        """The image the task runs in: a name, an object a plugin names (an ``ImageSpec``, see the hook
        :func:`~taskloom.hookspecs.taskloom_container_image`), or None for the settings' default image."""
        return self._container_image

    @property
    def accelerator(self) -> Any:
        """The accelerator the task asks for (a device name or a GPUAccelerator), or None."""
        return self._accelerator

    @property
    def pod_template(self) -> PodTemplate | None:
        """The Kubernetes pod the task runs in, as a :class:`~taskloom.core.pod_template.PodTemplate`, or None."""
        return self._pod_template

    @property
    def task_type_version(self) -> int:
        """The version of the task type's ``custom`` format, for its backend plugin (flytekit's name)."""
        return self._task_type_version

    @property
    def retry_on(self) -> tuple[type[BaseException], ...]:
        """Exception classes that count as recoverable for this task (retried up to ``retries``).

        Recoverable errors (``FlyteRecoverableException``) and timeouts are retried anyway; other
        errors are not, unless listed here. taskloom's own addition: flytekit has no such option.
        """
        return self._retry_on

    @property
    def enable_deck(self) -> bool:
        """Whether each execution of the task leaves a deck (flytekit's name)."""
        return self._deck_fields is not None

    @property
    def disable_deck(self) -> bool:
        """Whether the task leaves no deck (flytekit's deprecated spelling of ``not enable_deck``)."""
        return self._deck_fields is None

    @property
    def deck_fields(self) -> list[Any]:
        """The :class:`~taskloom.deck.DeckField` decks each execution shows (empty when decks are off)."""
        return list(self._deck_fields or ())

    @property
    def cache(self) -> Cache | None:
        """The cache settings (None when the task is not cached); ``metadata`` mirrors them."""
        return self._cache

    @property
    def docs(self) -> str | None:
        """The task's documentation (the function's docstring by default)."""
        return self._docs

    # --- behaviour: what task types override ----------------------------------------------

    def execute(self, **kwargs: Any) -> Any:
        """Run the task's body with its inputs as keyword arguments; return its outputs."""
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def get_custom(self, settings: SerializationSettings) -> dict[str, Any] | None:
        """The task type's configuration for the backend plugin (the template's ``custom``)."""
        return None

    def get_config(self, settings: SerializationSettings) -> dict[str, str] | None:
        """Extra string settings for the backend (the template's ``config``)."""
        return None

    def get_container(self, settings: SerializationSettings) -> task_models.Container:
        """The container the task's template carries (flytekit's name): image, command line (from
        :meth:`get_command`), resources and environment, as :func:`taskloom.translator.task_container`
        makes it. Task types that run a program of their own in a container of their own (a raw
        container with a data loading config) override this and start from it; a pod template puts
        the result into the pod's primary container.
        """
        from taskloom.translator import task_container  # the contracts: imported only when templates are made

        return task_container(self, settings)

    def get_command(self, settings: SerializationSettings) -> list[str]:
        """The command line that runs the task in its container (the container's ``args``).

        By default the plugin that packages tasks for a backend answers (hook
        :func:`~taskloom.hookspecs.taskloom_task_command`); with none installed, the list is empty.
        Task types that run a fixed program override this.
        """
        answer = get_plugin_manager().hook.taskloom_task_command(task=self, settings=settings)
        return list(answer) if answer is not None else []

    # --- calling the task outside a workflow -----------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task here and now: inputs and outputs are checked against the interface.

        Positional arguments follow the interface's input order; defaults fill what is not given.
        A missing, unexpected or wrong-typed input, or a wrong-typed output, raises
        :class:`~taskloom.exceptions.user.TypeTransformerFailedError` naming the task and the
        variable. An exception raised by the task's body keeps its type and message, with a note
        naming the task. An ``async def`` task called from synchronous code runs to completion;
        called where an event loop is running, it returns an awaitable.

        Inside a workflow being compiled, the call adds a node instead and returns promises of the
        task's outputs.

        A cached task (``cache=True`` or a :class:`~taskloom.core.cache.Cache`) called here runs as
        one node on the configured executor, as flytekit's local cache serves direct calls: a second
        call with the same inputs reads the cache instead of running the body, and shares its entries
        with the task's runs inside workflows. The executor gives that node its treatment of any node
        (retries, timeout), and nothing is recorded as an execution.
        """
        if current_compilation() is not None:
            return create_node(self, args, kwargs)
        handler = current_call_handler()
        if handler is not None:
            return handler.call(self, args, kwargs)
        if self._cache is not None:
            # The cache belongs to the executor's plugin (the kernel imports no plugin): the call goes
            # to a fresh runner of the executor, outside any execution, whatever runs around it; see
            # docs/architecture.md, "Direct calls of cached tasks".
            if getattr(self, "is_async", False) and _loop_running():
                return call_async(self, args, kwargs)  # awaitable, as an uncached async task gives here
            runner = get_executor().runner()
            try:
                outputs = runner.run(self, self._bind(args, kwargs), name=self._name)
            finally:
                runner.close()
            return self._interface.shape_outputs(outputs)
        return self.run(self._bind(args, kwargs), checked=True)

    def dispatch_execute(self, ctx: Any, input_literal_map: LiteralMap) -> LiteralMap:
        """Run the task on literals and return its outputs as literals (flytekit's name and signature).

        What a container's entrypoint does, here and now; flytekit users call it in tests, often inside
        ``FlyteContextManager.with_context(...)``. ``ctx`` is handed to the type transformers (None: the
        current context). Inputs missing from the map take their defaults. Errors name the task and the
        variable, as :meth:`__call__`'s do.
        """
        entity = f"task {self._name!r}"
        present = {name: t for name, t in self._interface.inputs.items() if name in input_literal_map.literals}
        inputs = self._interface.default_inputs_as_kwargs
        inputs.update(TypeEngine.literal_map_to_kwargs(ctx, input_literal_map, present, entity=entity))
        result = self.run(bind_arguments(entity, self._interface.inputs_with_defaults, (), inputs))
        if hasattr(result, "__await__"):  # an async body, called where an event loop runs
            getattr(result, "close", lambda: None)()
            raise TypeError(f"{entity}: dispatch_execute of an async task cannot run inside a running event loop")
        outputs = self._interface.outputs_by_name(result)
        return TypeEngine.dict_to_literal_map(
            ctx, outputs, dict(self._interface.output_types), entity=entity, direction="output"
        )

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """Call the task from async code: ``await t.aio(x=1)`` gives what ``t(x=1)`` gives.

        Inside an eager workflow the call is handed to the executor, so that calls gathered with
        ``asyncio.gather`` run concurrently; elsewhere the task runs in a worker thread. (Flyte 2's
        name; flytekit 1 has no such method.)
        """
        return await call_async(self, args, kwargs)

    def run(
        self,
        inputs: dict[str, Any],
        *,
        execution_id: Any = None,
        execution_date: Any = None,
        attempt: int = 0,
        checkpoint: Any = None,
        checked: bool = False,
        task_id: Any = None,
        node_path: str | None = None,
        output_metadata_prefix: str | None = None,
    ) -> Any:
        """Run one attempt of the task with every input given by name; what executors call.

        Checks the inputs (unless ``checked``) and the outputs against the interface, and makes a
        fresh :func:`~taskloom.core.context_manager.current_context` current for the body, with the
        given execution id (an identifier, or a local execution's name), date, attempt number and
        checkpoint; ``task_id`` is the task's registered identifier when a backend runs it (locally
        the task's name, version ``local``). ``node_path`` is the path of the node this attempt runs
        as in the execution (``n3``, ``n1-n0``, a map element ``n2-5``), given by executors so that
        the decks of a task with ``enable_deck`` go with that node; None for a direct call.
        ``output_metadata_prefix`` is where a container entrypoint writes the attempt's outputs
        (flytekit's name): a task with decks leaves its page there as ``deck.html``, as on Flyte.
        Returns what the body returns (an awaitable when the body is ``async`` and an event loop is
        running here).
        """
        if not checked:
            TypeEngine.check_values(inputs, self._interface.inputs, entity=f"task {self._name!r}")
        # What task_execution() does, inline: this runs once per task attempt.
        params = ExecutionParameters(
            execution_id=execution_id or new_execution_name(),
            task_id=task_id or self._name,
            working_directory=None,
            execution_date=execution_date or dt.datetime.now(dt.UTC),
            checkpoint=checkpoint,
            attempt=attempt,
        )
        normalizers = self._interface.input_normalizers
        if normalizers:  # what flytekit's literal round trip hands the body (an int bound to a float...)
            inputs = normalize_values(inputs, normalizers, entity=self)
        # One test for tasks without decks: they pay nothing more.
        hand_over = (
            None if self._deck_fields is None else self._decks(params, inputs, node_path, output_metadata_prefix)
        )
        token = _current.set(params)
        try:
            try:
                result = self.execute(**inputs)
            except Exception as error:
                error.add_note(f"raised by task {self._name!r}")
                raise
            if type(result) not in _PLAIN_RESULTS and _awaitable(result):
                return self._finish_async(result, params, hand_over)
        finally:
            _current.reset(token)
        result = self._check_outputs(result)
        if hand_over is not None:
            hand_over(result)
        return result

    def _decks(
        self, params: ExecutionParameters, inputs: dict[str, Any], node_path: str | None, output_prefix: str | None
    ) -> Callable[[Any], None]:
        """For :meth:`run` of a task with decks: make the body's context collect the decks it makes, start
        timing the body, and return what hands the decks over once the outputs are checked (with the inputs,
        outputs and the body's times, to the plugin that writes decks: :func:`~taskloom.hookspecs.taskloom_task_decks`).
        A failed attempt leaves no deck, as in flytekit.
        """
        import time  # measured: only tasks with decks time their body

        from taskloom.core.decks import hand_over_decks

        params._decks = []
        params._enable_deck = True
        began, wall, cpu = time.time(), time.perf_counter(), time.process_time()

        def hand_over(result: Any) -> None:
            elapsed = time.perf_counter() - wall
            timeline = [
                {
                    "name": "Execute user level code",  # flytekit's name for the body's part
                    "start": began,
                    "finish": began + elapsed,
                    "wall_time": elapsed,
                    "process_time": time.process_time() - cpu,
                }
            ]
            outputs = self._interface.outputs_by_name(result)
            hand_over_decks(self, params, inputs, outputs, node_path, timeline, output_prefix)

        return hand_over

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        entity = f"task {self._name!r}"
        inputs = bind_arguments(entity, self._interface.inputs_with_defaults, args, kwargs)
        TypeEngine.check_values(inputs, self._interface.inputs, entity=entity)
        return inputs

    def _check_outputs(self, result: Any) -> Any:
        try:
            values = self._interface.outputs_by_name(result)
        except ValueError as error:
            raise TypeTransformerFailedError(f"task {self._name!r}: {error}") from None
        normalizers = self._interface.output_normalizers
        if normalizers:  # returned as flytekit returns them (a naive datetime comes back UTC)
            # Before the check: checking a generator (an Iterator output) would consume it.
            normalized = normalize_values(values, normalizers, entity=self, direction="output")
            _type_engine().check_values(normalized, self._interface.output_types, entity=self, direction="output")
            if normalized is not values:
                return self._interface.shape_outputs(normalized)
        else:
            _type_engine().check_values(values, self._interface.output_types, entity=self, direction="output")
        if self._interface.output_tuple_name is not None and not isinstance(result, tuple):
            return self._interface.shape_outputs(values)  # a one-field NamedTuple's bare value, as flytekit gives it
        if type(result) is tuple:  # several unnamed outputs: flytekit's DefaultNamedTupleOutput(o0=..., o1=...)
            return self._interface.shape_outputs(values)
        return result

    def _finish_async(self, awaitable: Any, params: Any, then: Any = None) -> Any:
        import asyncio
        import threading

        async def finish() -> Any:
            token = _current.set(params)  # the body runs when awaited: give it its context then
            try:
                result = await awaitable
            except Exception as error:
                error.add_note(f"raised by task {self._name!r}")
                raise
            finally:
                _current.reset(token)
            result = self._check_outputs(result)
            if then is not None:  # a task with decks hands them over once its outputs are checked
                then(result)
            return result

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if threading.current_thread() is threading.main_thread():
                return asyncio.run(finish())
            # An executor's worker thread: its own loop, kept for the next async task it runs
            # (asyncio.run would build and tear down a loop per call, ~170 µs).
            return _thread_loop().run_until_complete(finish())
        return finish()

    # --- serialisation ---------------------------------------------------------------------

    def to_task_template(self, settings: SerializationSettings) -> TaskTemplate:
        """The task's :class:`~taskloom.models.task.TaskTemplate` under ``settings``.

        The container (or, with a pod template, the pod's primary container) carries image,
        resources and environment; the command line that starts the task inside it is added by the
        plugin that packages tasks for a backend. Made by :func:`taskloom.translator.task_template`.
        """
        from taskloom.translator import task_template  # the contracts: imported only when templates are made

        return task_template(self, settings)

    def node_model(self, node: Node, translator: Translator) -> NodeModel:
        """A task node pointing at this task's template, with the task's timeout, retries and
        interruptibility as node metadata (the node's protocol, see :mod:`taskloom.translator`).
        """
        from taskloom.models.workflow import TaskNode  # the contracts: imported only when templates are made

        metadata = self._metadata
        return translator.build_node(
            node,
            translator.node_metadata(
                node,
                self._name,
                timeout=metadata.timeout,
                retries=metadata.retries,
                interruptible=metadata.interruptible,
            ),
            task_node=TaskNode(reference_id=translator.refer(self), overrides=translator.task_node_overrides(node)),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r}, task_type={self._task_type!r})"


_TYPE_ENGINE: Any = None
_LOOPS: Any = None


class _LoopHolder:
    """A worker thread's event loop, closed when the thread (and so this holder) goes away."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        self.loop.close()


def _thread_loop() -> Any:
    global _LOOPS
    if _LOOPS is None:
        import threading

        _LOOPS = threading.local()
    holder = getattr(_LOOPS, "holder", None)
    if holder is None:
        holder = _LOOPS.holder = _LoopHolder()
    return holder.loop


def _loop_running() -> bool:
    """Whether an event loop runs in this thread (a direct call from async code)."""
    import asyncio  # as in _finish_async: only async tasks need it

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _type_engine() -> Any:
    # The type engine imports the contracts (~30 ms): on first check, not when tasks are declared.
    global _TYPE_ENGINE
    if _TYPE_ENGINE is None:
        _TYPE_ENGINE = TypeEngine
    return _TYPE_ENGINE


#: Result types that are never awaitable (most task results): no awaitable check for them.
_PLAIN_RESULTS = frozenset({int, float, str, bool, bytes, list, dict, tuple, type(None)})


def _awaitable(value: Any) -> bool:
    import inspect

    return inspect.isawaitable(value)
