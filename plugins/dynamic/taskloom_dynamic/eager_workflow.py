"""``@eager``: an ``async def`` task whose body runs with real values, each call in it run by the executor.

Nothing is compiled: the body is ordinary Python (``if``, ``for``, ``while``, ``try``/``except`` on
real values). While it runs, an :class:`EagerCallHandler` is current
(:func:`~taskloom.core.executor.handling_calls`) and hands every call of a task, workflow or launch
plan to the executor running the eager task, as a child node (retries, timeout, cache included):

- calling a synchronous entity (``add(x=1)``, ``wf(x=1)``, a ``@dynamic``) returns its value, as in
  flytekit 1.16; the body waits for it;
- calling an ``async def`` task or another eager task returns an awaitable, and ``await e.aio(...)``
  works for every entity, so ``await asyncio.gather(*[t.aio(x=i) for i in range(n)])`` runs the
  children concurrently;
- a failing child raises into the body with the child task's own exception type, which is also an
  :class:`~taskloom.exceptions.eager.EagerException`, so that both ``except ValueError:`` (what
  flytekit raises locally) and ``except EagerException:`` (what flytekit documents) catch it.

Calling an eager task outside a workflow returns a coroutine (``asyncio.run(eager_wf(x=1))``, as in
flytekit); inside a ``@workflow`` it is a node like any task. Names follow flytekit's
``flytekit.core.python_function_task.EagerAsyncPythonFunctionTask`` and ``flytekit.core.task.eager``.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.extend import ImperativeWorkflow, PythonFunctionTask, TaskMetadata, ValidationError, eager_failure
from taskloom_dynamic.dynamic_workflow_task import ExecutionBehavior, task_of_class

if TYPE_CHECKING:
    from taskloom.extend import Runner

#: How the children of an eager task are named among its children: ``e0``, ``e1``...
CHILD_PREFIX = "e"


class EagerAsyncPythonFunctionTask(PythonFunctionTask[Any]):
    """The task ``@eager`` builds (flytekit's name): an ``async def`` body whose calls the executor runs.

    Arguments are those of :class:`~taskloom.core.python_function_task.PythonFunctionTask`; the task
    type is ``python-task`` and ``metadata.is_eager`` is True, as in flytekit.
    """

    #: Its body starts children through the runner (see ``PythonTask.starts_children``).
    starts_children = True

    def __init__(
        self,
        task_config: Any,
        task_function: Callable[..., Any],
        task_type: str = "python-task",
        ignore_input_vars: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not inspect.iscoroutinefunction(task_function):
            raise ValidationError(
                f"eager task '{task_function.__module__}.{task_function.__name__}': the function must be an "
                "async def (its calls are awaited)"
            )
        kwargs["metadata"] = dataclasses.replace(kwargs.get("metadata") or TaskMetadata(), is_eager=True)
        super().__init__(task_config, task_function, task_type, ignore_input_vars, **kwargs)

    @property
    def execution_mode(self) -> ExecutionBehavior:
        """:attr:`ExecutionBehavior.EAGER`."""
        return ExecutionBehavior.EAGER

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Return a coroutine running the eager task (``asyncio.run(eager_wf(x=1))``).

        Inputs are matched and type-checked now: errors name the eager task and the input. Inside a
        workflow being compiled the call adds a node; inside another eager task it is a child node
        (still awaited).
        """
        from taskloom.extend import current_call_handler, current_compilation

        if current_compilation() is not None or current_call_handler() is not None:
            return super().__call__(*args, **kwargs)
        return self._run_here(bind_inputs(self, args, kwargs))

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """``await eager_wf.aio(x=1)``: the same as ``await eager_wf(x=1)``."""
        from taskloom.extend import current_call_handler

        handler = current_call_handler()
        if handler is not None:
            return await handler.call_async(self, args, kwargs)
        return await self._run_here(bind_inputs(self, args, kwargs))

    def get_as_workflow(self) -> ImperativeWorkflow:
        """The workflow packaging registers for this eager task, as pyflyte does: of the task's name,
        one node running the task, with the task's inputs (declared without defaults, as flytekit
        declares them) and outputs, so that its default launch plan starts the eager task on a cluster.

        flytekit adds a failure node there, a cleanup task that aborts the executions the eager task
        launched; taskloom's eager task runs its children in its own container (nothing else to
        abort), so there is no cleanup task.
        """
        wrapper = ImperativeWorkflow(name=self.name)
        inputs = {
            name: wrapper.add_workflow_input(name, python_type)
            for name, python_type in self.python_interface.inputs.items()
        }
        node = wrapper.add_entity(self, **inputs)
        for output_name in self.python_interface.output_names:
            wrapper.add_workflow_output(output_name, node.outputs[output_name])
        return wrapper

    async def _run_here(self, inputs: dict[str, Any]) -> Any:
        # In the caller's event loop, as flytekit does; `run` gives the body its context and checks
        # the outputs. With no execution around, task_runner() gives the body a fresh runner.
        return await self.run(inputs, checked=True)

    def execute(self, **kwargs: Any) -> Any:
        """Return the coroutine of the body, run with an :class:`EagerCallHandler` current over the
        runner of this task's execution (:meth:`run` awaits it, in an event loop of its own when none
        is running).
        """
        return self._run_body(kwargs)

    async def _run_body(self, inputs: dict[str, Any]) -> Any:
        from taskloom.extend import handling_calls, task_runner

        with task_runner() as runner, handling_calls(EagerCallHandler(runner)):
            return await self.task_function(**inputs)


class EagerCallHandler:
    """Runs the calls an eager body makes as child nodes of the eager task, through ``runner``.

    A :class:`~taskloom.core.executor.CallHandler`: synchronous entities return their value, ``async``
    tasks and eager tasks (and every ``aio`` call) return awaitables. Children are named ``e0``,
    ``e1``... in the order the calls are made, from any thread.
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._numbers = itertools.count()  # next() on a count is atomic: threads never share a number

    def call(self, entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``entity(*args, **kwargs)`` in the body: the value, or an awaitable for async entities."""
        inputs = bind_inputs(entity, args, kwargs)
        name = self._next_name()
        if getattr(entity, "is_async", False):
            return self._child(entity, inputs, name)
        # Submitted and waited for, rather than run here: this thread runs the body's event loop, and
        # a child run on it would find that loop running (async tasks inside a workflow would return
        # coroutines) and inherit this handler.
        try:
            outputs = self._runner.submit(entity, inputs, name=name).result()
        except Exception as error:
            failure = eager_failure(error)
            if failure is error:
                raise
        else:
            return entity.python_interface.shape_outputs(outputs)
        raise failure  # outside the except block: the copy is not chained to the error it copies

    def call_async(self, entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``entity.aio(*args, **kwargs)`` in the body: an awaitable of what the call returns."""
        return self._child(entity, bind_inputs(entity, args, kwargs), self._next_name())

    async def _child(self, entity: Any, inputs: dict[str, Any], name: str) -> Any:
        import asyncio

        # Started when awaited (an un-awaited coroutine runs nothing, as in Python and flytekit).
        try:
            outputs = await asyncio.wrap_future(self._runner.submit(entity, inputs, name=name))
        except Exception as error:
            failure = eager_failure(error)
            if failure is error:
                raise
        else:
            return entity.python_interface.shape_outputs(outputs)
        raise failure  # outside the except block: the copy is not chained to the error it copies

    def _next_name(self) -> str:
        return f"{CHILD_PREFIX}{next(self._numbers)}"


def bind_inputs(entity: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Match a call's arguments to ``entity``'s inputs (defaults filled) and type-check them.

    Errors (:class:`~taskloom.exceptions.user.TypeTransformerFailedError`) name the entity and the input.
    """
    from taskloom.extend import TypeEngine, bind_arguments

    if getattr(entity, "is_launch_plan", False):
        kind = "launch plan"
    elif getattr(entity, "is_workflow", False):
        kind = "workflow"
    else:
        kind = "task"
    description = f"{kind} {entity.name!r}"
    interface = entity.python_interface
    inputs = bind_arguments(description, interface.inputs_with_defaults, args, kwargs)
    TypeEngine.dict_to_literal_map(None, inputs, interface.inputs, entity=description)
    return inputs


def eager(_fn: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Make an eager task of an ``async def``: ``@eager`` or ``@eager(retries=1, ...)`` (flytekit's name).

    Takes the keyword arguments of :func:`taskloom.task` (``task_config`` aside)::

        @eager
        async def pipeline(x: int) -> int:
            y = add_one(x=x)                      # a sync task: its value
            ys = await asyncio.gather(*[double.aio(x=i) for i in range(y)])
            return sum(ys)

        asyncio.run(pipeline(x=1))

    See the module docs for how calls inside the body run.
    """

    def decorate(function: Callable[..., Any]) -> EagerAsyncPythonFunctionTask:
        return task_of_class(EagerAsyncPythonFunctionTask, function, kwargs, kind="eager task")

    if _fn is not None:
        return decorate(_fn)
    return decorate
