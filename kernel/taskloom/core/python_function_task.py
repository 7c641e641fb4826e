"""Tasks made from a Python function, and tasks whose body a task type defines.

:class:`PythonFunctionTask` is what ``@task`` builds; :class:`PythonInstanceTask` is the base of task
types that are instantiated rather than decorated (a SQL query, a container). Names and signatures
follow flytekit's ``flytekit.core.python_function_task``.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeAlias, TypeVar

from taskloom.core.base_task import PythonTask, _type_engine
from taskloom.core.context_manager import ExecutionParameters, _current
from taskloom.core.interface import Interface, transform_function_to_interface
from taskloom.core.tracker import module_name

T = TypeVar("T")


class ExecutionBehavior(enum.Enum):
    """How a function task runs its body (flytekit's ``PythonFunctionTask.ExecutionBehavior``)."""

    #: The body is the task (``@task``).
    DEFAULT = 1
    #: The body builds a workflow from the inputs' values, which then runs (``@dynamic``).
    DYNAMIC = 2
    #: The body runs, each call of an entity in it handed to the executor (``@eager``).
    EAGER = 3


class PythonFunctionTask(PythonTask, Generic[T]):
    """A task whose body is ``task_function``; its interface comes from the function's signature.

    ``task_config`` is the task type's configuration (None for plain tasks); the remaining keyword
    arguments are those of :class:`~taskloom.core.base_task.PythonTask`. ``ignore_input_vars`` names
    parameters of the function that are not inputs of the task (they keep their defaults).
    """

    #: flytekit's spelling: ``t.execution_mode is PythonFunctionTask.ExecutionBehavior.DYNAMIC``.
    ExecutionBehavior: TypeAlias = ExecutionBehavior

    def __init__(
        self,
        task_config: T,
        task_function: Callable[..., Any],
        task_type: str = "python-task",
        ignore_input_vars: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(task_function):
            raise TypeError(f"PythonFunctionTask needs a function, got {task_function!r}")
        interface = transform_function_to_interface(task_function)
        if ignore_input_vars:
            inputs = {
                name: spec for name, spec in interface.inputs_with_defaults.items() if name not in ignore_input_vars
            }
            interface = Interface(inputs, interface.outputs, interface.output_tuple_name, interface.docstring)
        name = kwargs.pop("name", None) or f"{module_name(task_function)}.{task_function.__name__}"
        super().__init__(task_type, name, interface, task_config, **kwargs)
        self._task_function = task_function
        self._is_async = inspect.iscoroutinefunction(task_function)

    @property
    def task_function(self) -> Callable[..., Any]:
        """The decorated function."""
        return self._task_function

    @property
    def execution_mode(self) -> ExecutionBehavior:
        """How the body runs: :attr:`ExecutionBehavior.DEFAULT` here; dynamic and eager task types say otherwise."""
        return ExecutionBehavior.DEFAULT

    @property
    def is_async(self) -> bool:
        """Whether the function is an ``async def``."""
        return self._is_async

    def execute(self, **kwargs: Any) -> Any:
        """Call the function with the inputs (for an ``async def``, return its coroutine)."""
        return self._task_function(**kwargs)

    def prepared(
        self, *, execution_id: Any, execution_date: Any, attempt: int = 0
    ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """A callable ``call(inputs, checkpoint)`` running one attempt of the task per call and giving
        its outputs by name: what :meth:`run` does, with every lookup made once, for executors that
        run many elements of one task (a map). Inputs are taken as checked.

        Each call gets a fresh context (``current_context()``) with ``checkpoint``; outputs are
        checked against the interface as :meth:`run` checks them, with the same errors. An ``async``
        task's call, made in a thread where an event loop is running, gives its outputs as :meth:`run`
        gives them there: the body's coroutine (an executor calls such a task through :meth:`run` and
        awaits it on another thread).
        """
        interface = self.python_interface
        names = interface.output_names
        if (
            self._is_async
            or type(self).execute is not PythonFunctionTask.execute
            or len(names) != 1
            or interface.input_normalizers
            or interface.output_normalizers
            or self.enable_deck
        ):
            # The general path: run() handles coroutines, overridden bodies, several outputs, values
            # to normalize and decks.
            def call_run(inputs: dict[str, Any], checkpoint: Any) -> dict[str, Any]:
                result = self.run(
                    inputs,
                    execution_id=execution_id,
                    execution_date=execution_date,
                    attempt=attempt,
                    checkpoint=checkpoint,
                    checked=True,
                )
                return interface.outputs_by_name(result)

            return call_run
        function, task_name, output = self._task_function, self.name, names[0]
        check = _type_engine().checker(interface.output_types[output])

        def call(inputs: dict[str, Any], checkpoint: Any) -> dict[str, Any]:
            token = _current.set(
                ExecutionParameters(execution_id, task_name, None, execution_date, checkpoint, attempt)
            )
            try:
                result = function(**inputs)
            except Exception as error:
                error.add_note(f"raised by task {task_name!r}")
                raise
            finally:
                _current.reset(token)
            if check is None or not check(result):
                self._check_outputs(result)  # the full check, which names the task and the output
            return {output: result}

        return call


class PythonInstanceTask(PythonTask, Generic[T]):
    """The base of task types with no user function: subclasses define :meth:`execute`.

    ``x = MyTask(name="x", task_config=..., inputs=..., outputs=...)`` then ``x(a=5)``. ``inputs`` maps
    names to types (or ``(type, default)``), ``outputs`` names to types.
    """

    def __init__(
        self,
        name: str,
        task_config: T,
        task_type: str = "python-task",
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        interface = Interface(inputs or {}, outputs or {})
        interface.check_types(entity=f"task {name!r}")  # check every type now
        super().__init__(task_type, name, interface, task_config, **kwargs)
