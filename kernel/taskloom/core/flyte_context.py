"""flytekit's context object: ``FlyteContext``, ``FlyteContextManager``, ``ExecutionState``.

Users reach these names at flytekit's path, :mod:`taskloom.core.context_manager` (or the top level,
or :mod:`taskloom.extend`), which imports this module when one of them is first asked for.
Running tasks never builds a context: the hot path sets only the task's
:class:`~taskloom.core.context_manager.ExecutionParameters`.
:meth:`FlyteContextManager.current_context` builds one when asked, from the contexts pushed with
``with_context``/``push_context`` and the running task's parameters.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import os
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taskloom.core.context_manager import ExecutionParameters, _current, current_context

if TYPE_CHECKING:
    from taskloom.configuration import SerializationSettings
    from taskloom.core.data_persistence import FileAccessProvider


class BranchEvalMode(enum.Enum):
    """Whether the branch of a conditional being run locally is taken (flytekit's values)."""

    BRANCH_ACTIVE = "branch active"
    BRANCH_SKIPPED = "branch skipped"


class ExecutionState:
    """What is executing: the mode, a working directory and the running task's parameters.

    ``mode`` is None outside any task; :attr:`Mode.TASK_EXECUTION` in a task run by a backend
    (``loom-execute``); :attr:`Mode.LOCAL_WORKFLOW_EXECUTION` in a task run locally by an executor
    (within a workflow or called on its own: taskloom runs both the same way); user code compares
    it, or calls :meth:`is_local_execution`. ``working_dir`` must be given; ``engine_dir``
    (created) defaults to ``working_dir/engine_dir``, as in flytekit.
    """

    class Mode(enum.Enum):
        """flytekit's execution modes (the same names and values)."""

        TASK_EXECUTION = 1
        LOCAL_WORKFLOW_EXECUTION = 2
        LOCAL_TASK_EXECUTION = 3
        DYNAMIC_TASK_EXECUTION = 4
        EAGER_EXECUTION = 5
        EAGER_LOCAL_EXECUTION = 6
        LOCAL_DYNAMIC_TASK_EXECUTION = 7

    def __init__(
        self,
        working_dir: str | os.PathLike[str],
        mode: ExecutionState.Mode | None = None,
        engine_dir: str | os.PathLike[str] | None = None,
        branch_eval_mode: BranchEvalMode | None = None,
        user_space_params: ExecutionParameters | None = None,
    ) -> None:
        if not working_dir:
            raise ValueError("ExecutionState needs a working_dir, got an empty one")
        self.working_dir = working_dir
        self.mode = mode
        self.engine_dir = engine_dir or os.path.join(working_dir, "engine_dir")
        os.makedirs(self.engine_dir, exist_ok=True)
        self.branch_eval_mode = branch_eval_mode
        self.user_space_params = user_space_params

    def take_branch(self) -> None:
        """Mark the current branch of a local conditional as taken."""
        self.branch_eval_mode = BranchEvalMode.BRANCH_ACTIVE

    def branch_complete(self) -> None:
        """Mark the taken branch of a local conditional as done (the next ones are skipped)."""
        self.branch_eval_mode = BranchEvalMode.BRANCH_SKIPPED

    def with_params(
        self,
        working_dir: str | os.PathLike[str] | None = None,
        mode: ExecutionState.Mode | None = None,
        engine_dir: str | os.PathLike[str] | None = None,
        branch_eval_mode: BranchEvalMode | None = None,
        user_space_params: ExecutionParameters | None = None,
    ) -> ExecutionState:
        """A copy with the given fields replaced (those given as None are kept)."""
        return ExecutionState(
            working_dir=working_dir or self.working_dir,
            mode=mode or self.mode,
            engine_dir=engine_dir or self.engine_dir,
            branch_eval_mode=branch_eval_mode or self.branch_eval_mode,
            user_space_params=user_space_params or self.user_space_params,
        )

    def is_local_execution(self) -> bool:
        """Tell whether the mode is one of the local ones."""
        return self.mode in _LOCAL_MODES

    def __repr__(self) -> str:
        return f"ExecutionState(mode={self.mode}, working_dir={os.fspath(self.working_dir)!r})"


_LOCAL_MODES = frozenset(
    {
        ExecutionState.Mode.LOCAL_TASK_EXECUTION,
        ExecutionState.Mode.LOCAL_WORKFLOW_EXECUTION,
        ExecutionState.Mode.EAGER_LOCAL_EXECUTION,
        ExecutionState.Mode.LOCAL_DYNAMIC_TASK_EXECUTION,
    }
)


class FlyteContext:
    """flytekit's context object: file access, execution state, serialization settings, compilation.

    Get it with :meth:`FlyteContextManager.current_context`; change it for a block with
    ``FlyteContextManager.with_context(ctx.with_serialization_settings(settings))``. Type
    transformers receive it as their ``ctx`` argument. Not to be confused with
    :func:`current_context`, which gives a task the :class:`ExecutionParameters`
    (``ctx.user_space_params``).

    ``compilation_state`` is taskloom's compilation of the workflow being declared, or None;
    ``flyte_client``, ``output_metadata_tracker`` and ``worker_queue`` are carried for flytekit's
    signature (taskloom has none of these objects and never reads them).
    """

    __slots__ = (
        "compilation_state",
        "execution_state",
        "file_access",
        "flyte_client",
        "in_a_condition",
        "level",
        "origin_stackframe",
        "output_metadata_tracker",
        "serialization_settings",
        "worker_queue",
    )

    def __init__(
        self,
        file_access: FileAccessProvider,
        level: int = 0,
        flyte_client: Any = None,
        compilation_state: Any = None,
        execution_state: ExecutionState | None = None,
        serialization_settings: SerializationSettings | None = None,
        in_a_condition: bool = False,
        origin_stackframe: Any = None,
        output_metadata_tracker: Any = None,
        worker_queue: Any = None,
    ) -> None:
        self.file_access = file_access
        self.level = level
        self.flyte_client = flyte_client
        self.compilation_state = compilation_state
        self.execution_state = execution_state
        self.serialization_settings = serialization_settings
        self.in_a_condition = in_a_condition
        self.origin_stackframe = origin_stackframe
        self.output_metadata_tracker = output_metadata_tracker
        self.worker_queue = worker_queue

    @property
    def user_space_params(self) -> ExecutionParameters | None:
        """The running task's :class:`ExecutionParameters` (what :func:`current_context` returns)."""
        return self.execution_state.user_space_params if self.execution_state is not None else None

    @staticmethod
    def current_context() -> FlyteContext:
        """The current context (:meth:`FlyteContextManager.current_context`)."""
        return FlyteContextManager.current_context()

    def new_builder(self) -> FlyteContext.Builder:
        """A builder starting from this context's fields."""
        return FlyteContext.Builder(
            file_access=self.file_access,
            level=self.level,
            flyte_client=self.flyte_client,
            compilation_state=self.compilation_state,
            execution_state=self.execution_state,
            serialization_settings=self.serialization_settings,
            in_a_condition=self.in_a_condition,
            output_metadata_tracker=self.output_metadata_tracker,
            worker_queue=self.worker_queue,
        )

    def with_execution_state(self, es: ExecutionState) -> FlyteContext.Builder:
        """A builder of this context with ``es`` as its execution state."""
        return self.new_builder().with_execution_state(es)

    def with_compilation_state(self, c: Any) -> FlyteContext.Builder:
        """A builder of this context with ``c`` as its compilation state."""
        return self.new_builder().with_compilation_state(c)

    def with_file_access(self, fa: FileAccessProvider) -> FlyteContext.Builder:
        """A builder of this context with ``fa`` as its file access."""
        return self.new_builder().with_file_access(fa)

    def with_serialization_settings(self, ss: SerializationSettings) -> FlyteContext.Builder:
        """A builder of this context with ``ss`` as its serialization settings."""
        return self.new_builder().with_serialization_settings(ss)

    def with_output_metadata_tracker(self, t: Any) -> FlyteContext.Builder:
        """A builder of this context with ``t`` as its output metadata tracker (carried, unused)."""
        return self.new_builder().with_output_metadata_tracker(t)

    def with_worker_queue(self, wq: Any) -> FlyteContext.Builder:
        """A builder of this context with ``wq`` as its worker queue (carried, unused)."""
        return self.new_builder().with_worker_queue(wq)

    def with_client(self, c: Any) -> FlyteContext.Builder:
        """A builder of this context with ``c`` as its client (carried, unused)."""
        return self.new_builder().with_client(c)

    def new_execution_state(self, working_dir: str | os.PathLike[str] | None = None) -> ExecutionState:
        """A fresh execution state (no mode) in ``working_dir``, by default a new sandbox directory,
        keeping this context's task parameters."""
        return ExecutionState(
            working_dir=working_dir or self.file_access.get_random_local_directory(),
            user_space_params=self.user_space_params,
        )

    def __repr__(self) -> str:
        return (
            f"FlyteContext(level={self.level}, execution_state={self.execution_state!r}, "
            f"serialization_settings={self.serialization_settings!r}, file_access={self.file_access!r})"
        )

    class Builder:
        """The fields of a context to build; the ``with_*`` methods set one and return the builder."""

        def __init__(
            self,
            file_access: FileAccessProvider,
            level: int = 0,
            compilation_state: Any = None,
            execution_state: ExecutionState | None = None,
            flyte_client: Any = None,
            serialization_settings: SerializationSettings | None = None,
            in_a_condition: bool = False,
            output_metadata_tracker: Any = None,
            worker_queue: Any = None,
        ) -> None:
            self.file_access = file_access
            self.level = level
            self.compilation_state = compilation_state
            self.execution_state = execution_state
            self.flyte_client = flyte_client
            self.serialization_settings = serialization_settings
            self.in_a_condition = in_a_condition
            self.output_metadata_tracker = output_metadata_tracker
            self.worker_queue = worker_queue

        def build(self) -> FlyteContext:
            """The context, one level below the one this builder started from."""
            return FlyteContext(
                file_access=self.file_access,
                level=self.level + 1,
                flyte_client=self.flyte_client,
                compilation_state=self.compilation_state,
                execution_state=self.execution_state,
                serialization_settings=self.serialization_settings,
                in_a_condition=self.in_a_condition,
                output_metadata_tracker=self.output_metadata_tracker,
                worker_queue=self.worker_queue,
            )

        def with_execution_state(self, es: ExecutionState) -> FlyteContext.Builder:
            """Set the execution state."""
            self.execution_state = es
            return self

        def with_compilation_state(self, c: Any) -> FlyteContext.Builder:
            """Set the compilation state."""
            self.compilation_state = c
            return self

        def with_file_access(self, fa: FileAccessProvider) -> FlyteContext.Builder:
            """Set the file access."""
            self.file_access = fa
            return self

        def with_serialization_settings(self, ss: SerializationSettings) -> FlyteContext.Builder:
            """Set the serialization settings."""
            self.serialization_settings = ss
            return self

        def with_output_metadata_tracker(self, t: Any) -> FlyteContext.Builder:
            """Set the output metadata tracker (carried, unused)."""
            self.output_metadata_tracker = t
            return self

        def with_worker_queue(self, wq: Any) -> FlyteContext.Builder:
            """Set the worker queue (carried, unused)."""
            self.worker_queue = wq
            return self

        def with_client(self, c: Any) -> FlyteContext.Builder:
            """Set the client (carried, unused)."""
            self.flyte_client = c
            return self

        def new_execution_state(self, working_dir: str | os.PathLike[str] | None = None) -> ExecutionState:
            """A fresh execution state (no mode) in ``working_dir``, by default a new sandbox directory."""
            return ExecutionState(working_dir=working_dir or self.file_access.get_random_local_directory())


# The pushed contexts, innermost last, each with the task parameters current when it was pushed (a
# task started inside a ``with_context`` block sees the block's context with its own parameters).
_pushed: contextvars.ContextVar[tuple[tuple[FlyteContext, ExecutionParameters | None], ...]] = contextvars.ContextVar(
    "taskloom_flyte_contexts", default=()
)
# The context built for a task's parameters (and the base it was built over), so that asking twice
# in one task attempt gives the same object; weak: it goes with the attempt.
_built: weakref.WeakKeyDictionary[ExecutionParameters, tuple[FlyteContext | None, FlyteContext]] = (
    weakref.WeakKeyDictionary()
)
_outside: list[FlyteContext] = []  # the context outside any task and any pushed context


class FlyteContextManager:
    """The stack of :class:`FlyteContext` objects (flytekit's API; per thread and asyncio task).

    ::

        ctx = FlyteContextManager.current_context()
        with FlyteContextManager.with_context(ctx.with_serialization_settings(settings)) as ctx:
            ...
    """

    @staticmethod
    def current_context() -> FlyteContext:
        """The innermost pushed context; in a running task, with that task's execution state
        (its :class:`ExecutionParameters` as ``user_space_params``). Built when first asked for."""
        pushed = _pushed.get()
        params = _current.get()
        running = params is not None and params._task_id is not None
        if pushed:
            base, pushed_under = pushed[-1]
            if not running or params is pushed_under:
                return base
        elif not running:
            if not _outside or _outside[0].file_access is not _default_file_access():
                _outside[:] = [_context_outside_tasks()]  # first use, or the run's raw output prefix changed
            return _outside[0]
        else:
            base = None
        assert params is not None
        built = _built.get(params)
        if built is not None and built[0] is base:
            return built[1]
        context = _context_for_task(base, params)
        _built[params] = (base, context)
        return context

    @staticmethod
    def push_context(ctx: FlyteContext, f: Any = None) -> FlyteContext:
        """Make ``ctx`` current until :meth:`pop_context`; prefer :meth:`with_context`."""
        if f is not None:
            ctx.origin_stackframe = f
        _pushed.set((*_pushed.get(), (ctx, _current.get())))
        return ctx

    @staticmethod
    def pop_context() -> FlyteContext:
        """Remove the innermost pushed context and return it.

        Raises AssertionError when none was pushed, as flytekit does for its last context.
        """
        pushed = _pushed.get()
        if not pushed:
            raise AssertionError("FlyteContextManager.pop_context: no context was pushed")
        _pushed.set(pushed[:-1])
        return pushed[-1][0]

    @staticmethod
    @contextlib.contextmanager
    def with_context(b: FlyteContext.Builder | FlyteContext) -> Iterator[FlyteContext]:
        """Make the context built by ``b`` (or ``b`` itself, a context) current for the block."""
        ctx = b.build() if isinstance(b, FlyteContext.Builder) else b
        depth = len(_pushed.get())
        FlyteContextManager.push_context(ctx)
        try:
            yield ctx
        finally:
            _pushed.set(_pushed.get()[:depth])  # also what the block pushed and left

    @staticmethod
    def size() -> int:
        """How many contexts are current (the outermost one included)."""
        return len(_pushed.get()) + 1

    @staticmethod
    def initialize() -> None:
        """Forget every pushed context (in this thread or asyncio task) and the outermost one."""
        _pushed.set(())
        _outside.clear()


def _default_file_access() -> FileAccessProvider:
    from taskloom.core.data_persistence import default_file_access  # only when a context is asked for

    return default_file_access()


def _context_outside_tasks() -> FlyteContext:
    file_access = _default_file_access()
    params = current_context()
    return FlyteContext(
        file_access=file_access,
        execution_state=ExecutionState(working_dir=file_access.local_sandbox_dir, user_space_params=params),
    )


def _context_for_task(base: FlyteContext | None, params: ExecutionParameters) -> FlyteContext:
    if isinstance(params._task_id, str):
        mode = ExecutionState.Mode.LOCAL_WORKFLOW_EXECUTION
    else:  # a registered identifier: a backend runs the task (loom-execute)
        mode = ExecutionState.Mode.TASK_EXECUTION
    state = ExecutionState(working_dir=params.working_directory, mode=mode, user_space_params=params)
    if base is None:
        return FlyteContext(file_access=_default_file_access(), level=1, execution_state=state)
    return base.new_builder().with_execution_state(state).build()


class _CurrentContext(FlyteContext):
    """Whatever :meth:`FlyteContextManager.current_context` gives when an attribute is read.

    What the type engine hands a transformer when its caller passed ``ctx=None``: a transformer
    that reads ``ctx.file_access`` gets the current context's, and the many conversions that never
    read their context (the standard transformers') cost nothing to give it.
    """

    __slots__ = ()

    def __init__(self) -> None:  # no fields of its own: every read falls through to __getattr__
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(FlyteContextManager.current_context(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"the current context cannot be changed through {name!r}: use FlyteContextManager.with_context"
        )

    def __repr__(self) -> str:
        return repr(FlyteContextManager.current_context())


#: The current context, resolved when read (what transformers receive for ``ctx=None``).
CURRENT_CONTEXT: FlyteContext = _CurrentContext()


@contextlib.contextmanager
def new_context() -> Iterator[FlyteContext]:
    """A copy of the current context, current for the block (flytekit's ``flytekit.new_context()``)."""
    with FlyteContextManager.with_context(FlyteContextManager.current_context().new_builder()) as ctx:
        yield ctx
