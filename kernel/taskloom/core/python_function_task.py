"""Tasks made from a Python function, and tasks whose body a task type defines.

:class:`PythonFunctionTask` is what ``@task`` builds; :class:`PythonInstanceTask` is the base of task
types that are instantiated rather than decorated (a SQL query, a container). Names and signatures
follow flytekit's ``flytekit.core.python_function_task``.
"""

from __future__ import annotations

import enum
import inspect
from typing import Any, Callable, Generic, TypeVar

from taskloom.core.base_task import PythonTask
from taskloom.core.interface import Interface, transform_function_to_interface

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
    ExecutionBehavior = ExecutionBehavior

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
        name = kwargs.pop("name", None) or f"{task_function.__module__}.{task_function.__name__}"
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
        interface.to_typed_interface(entity=f"task {name!r}")  # check every type now
        super().__init__(task_type, name, interface, task_config, **kwargs)
