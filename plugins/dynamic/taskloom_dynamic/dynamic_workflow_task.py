"""``@dynamic``: a task whose body builds a workflow from its real input values, then runs it.

The body of a ``@workflow`` runs once, when it is declared, with promises for its inputs; the body of
a ``@dynamic`` runs each time the task runs, with the inputs' values. Calls of tasks, workflows,
launch plans and other dynamic tasks made in it become nodes of a graph, as in a workflow body, but
Python control flow on the inputs is allowed (``for i in range(n)`` fans out ``n`` nodes). The graph
then runs as a child of the task on the executor running it (:func:`~taskloom.core.executor.task_runner`),
so a dynamic task works unchanged on every executor; the task returns the graph's outputs.

For a Flyte backend the graph is a ``DynamicJobSpec``: :meth:`DynamicTask.to_dynamic_job_spec`
(flytekit's ``compile_into_workflow``). Names follow flytekit's ``flytekit.core.dynamic_workflow_task``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from taskloom.extend import Interface, PythonFunctionTask, TypeTransformerFailedError, ValidationError

if TYPE_CHECKING:
    from taskloom.extend import CompiledWorkflow, DynamicJobSpec, SerializationSettings

#: The name of the child node that runs the graph, among the dynamic task's children.
GRAPH_NODE = "dynamic"


#: flytekit's ``PythonFunctionTask.ExecutionBehavior``, kept in the kernel; re-exported here.
ExecutionBehavior = PythonFunctionTask.ExecutionBehavior


class DynamicTask(PythonFunctionTask[Any]):
    """The task ``@dynamic`` builds: its body makes a workflow from the inputs' values at run time.

    Arguments are those of :class:`~taskloom.core.python_function_task.PythonFunctionTask`; the task
    type is ``python-task``, as in flytekit, and :attr:`execution_mode` tells it apart from a plain
    task. The function must be a plain ``def`` (a graph is built synchronously; flytekit does not mix
    dynamic and async either).
    """

    #: Its body starts children through the runner (see ``PythonTask.starts_children``).
    starts_children = True

    def __init__(
        self,
        task_config: Any,
        task_function: Callable[..., Any],
        task_type: str = "python-task",
        ignore_input_vars: list[str] | None = None,
        node_dependency_hints: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if inspect.iscoroutinefunction(task_function):
            raise ValidationError(
                f"dynamic task '{task_function.__module__}.{task_function.__name__}': the function is an "
                "async def; a dynamic body must be a plain def (use @eager for async bodies)"
            )
        super().__init__(task_config, task_function, task_type, ignore_input_vars, **kwargs)
        self._node_dependency_hints = tuple(node_dependency_hints) if node_dependency_hints is not None else None
        interface = self.python_interface
        # The graph has no inputs (the body's values become constants) and the task's outputs.
        self._graph_interface = Interface({}, interface.outputs, interface.output_tuple_name)

    @property
    def execution_mode(self) -> ExecutionBehavior:
        """:attr:`ExecutionBehavior.DYNAMIC`."""
        return ExecutionBehavior.DYNAMIC

    @property
    def node_dependency_hints(self) -> tuple[Any, ...] | None:
        """Tasks, workflows and launch plans the body may call, or None (flytekit's argument).

        A graph made at run time is unknown when entities are registered; a packager registers
        these too, so that the graph finds them on the backend. Running locally ignores them.
        """
        return self._node_dependency_hints

    def execute(self, **kwargs: Any) -> Any:
        """Build the graph for these inputs and run it as a child node; return its outputs as the
        function declares them (one value, a tuple, a named tuple or None).

        A failing node raises its task's own exception.
        """
        from taskloom.extend import task_runner

        workflow = self._compile(kwargs)
        if not workflow.nodes:  # the body returned constants only: nothing to run (as in flytekit)
            outputs = workflow.output_bindings
        else:
            with task_runner() as runner:
                outputs = runner.run(workflow, {}, name=GRAPH_NODE)
        return self.python_interface.shape_outputs(outputs)

    def compile_workflow(self, inputs: dict[str, Any]) -> CompiledWorkflow:
        """The workflow the body builds for ``inputs`` (by name; defaults fill what is missing).

        Inputs are checked against the interface as for a call; errors of the body's bindings
        (a wrong-typed input of a call, an output that does not fit) name this dynamic task.
        """
        return self._compile(self._checked(inputs))

    def to_dynamic_job_spec(self, settings: SerializationSettings, inputs: dict[str, Any]) -> DynamicJobSpec:
        """The :class:`~taskloom.models.dynamic_job.DynamicJobSpec` a Flyte backend runs in place of
        this task for ``inputs`` (flytekit's ``compile_into_workflow``).

        It holds the graph's nodes and output bindings (from its
        :class:`~taskloom.models.workflow.WorkflowTemplate` under ``settings``), ``min_successes``
        equal to the number of nodes, the task template of every task the graph uses (inside
        branches and subworkflows too, each once) and the template of every subworkflow, nested
        ones included. Launch plans are referred to by identifier only, as flytekit does; a
        dynamic task inside the graph contributes its own task template (its graph is built when
        it runs). Made by :func:`taskloom.translator.dynamic_job_spec`.
        """
        from taskloom.extend import dynamic_job_spec  # the contracts: imported only when a job spec is made

        return dynamic_job_spec(self.compile_workflow(inputs), settings)

    def _checked(self, inputs: dict[str, Any]) -> dict[str, Any]:
        from taskloom.extend import TypeEngine, bind_arguments

        entity = f"task {self.name!r}"
        interface = self.python_interface
        bound = bind_arguments(entity, interface.inputs_with_defaults, (), dict(inputs))
        TypeEngine.dict_to_literal_map(None, bound, interface.inputs, entity=entity)
        return bound

    def _compile(self, inputs: dict[str, Any]) -> CompiledWorkflow:
        from taskloom.extend import CompiledWorkflow, compile_body

        try:
            nodes, output_bindings = compile_body(self.name, self._graph_interface, self.task_function, inputs)
        except (TypeTransformerFailedError, ValidationError) as error:
            # The compiler names the graph as a workflow; the user wrote a dynamic task.
            message = str(error).removeprefix(f"workflow {self.name!r}: ")
            raise type(error)(f"dynamic task {self.name!r}: {message}") from error
        return CompiledWorkflow(self.name, self._graph_interface, nodes, output_bindings)


def dynamic(_task_function: Callable[..., Any] | None = None, **task_kwargs: Any) -> Any:
    """Make a dynamic task of a function: ``@dynamic`` or ``@dynamic(retries=2, cache=True, ...)``.

    Takes the keyword arguments of :func:`taskloom.task` (``task_config`` aside), and flytekit's
    ``node_dependency_hints`` (see :attr:`DynamicTask.node_dependency_hints`). The body runs when the
    task runs, with the inputs' values; the calls it makes become the nodes of a workflow, which then
    runs::

        @dynamic
        def squares(n: int) -> list[int]:
            return [square(x=i) for i in range(n)]

    Called outside a workflow (``squares(n=3)``) it returns plain values; inside a ``@workflow`` it
    is a node like any task.
    """

    def decorate(function: Callable[..., Any]) -> DynamicTask:
        return task_of_class(DynamicTask, function, task_kwargs, kind="dynamic task")

    if _task_function is not None:
        return decorate(_task_function)
    return decorate


def task_of_class(
    task_class: type[PythonFunctionTask[Any]], function: Callable[..., Any], options: dict[str, Any], *, kind: str
) -> Any:
    """``taskloom.task(function, task_class=task_class, **options)``, refusing a ``task_config``
    (a task type's configuration selects that type's own class). ``kind`` names the tasks in errors.
    """
    from taskloom import task

    if options.get("task_config") is not None:
        raise ValidationError(
            f"{kind} '{function.__module__}.{function.__name__}': task_config is not supported "
            "(a task type's configuration selects that type's own task class)"
        )
    return task(function, task_class=task_class, **options)
