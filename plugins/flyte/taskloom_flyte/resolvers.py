"""How a container finds the task it must run: resolvers and the command lines that name them.

A task's container runs ``loom-execute ... --resolver RESOLVER -- ARGS...``. The resolver, an
object found by its dotted path, turns ``ARGS`` back into a task (flytekit's ``TaskResolverMixin``
contract: ``name()``, ``load_task(loader_args)``, ``loader_args(settings, task)``):

* :data:`default_task_resolver`: ``task-module M task-name N``, a task bound to a module-level name.
* :data:`map_task_resolver`: ``vars A,B resolver R ARGS...``, one element of a map task, whose
  inner task ``R`` finds with ``ARGS``; ``A,B`` are the inputs bound to one value for every element.
* :data:`task_template_resolver`: ``TEMPLATE_URI EXECUTOR``, for pre-built images: the task
  template is read from storage and run by ``EXECUTOR`` (``module:Class``), so that no user code
  needs to be in the image.
"""

from __future__ import annotations

import importlib
from typing import Any

from taskloom.extend import UserException

#: The placeholders Flyte's propeller fills in a container's arguments.
INPUT = "{{.input}}"
OUTPUT_PREFIX = "{{.outputPrefix}}"
RAW_OUTPUT_DATA_PREFIX = "{{.rawOutputDataPrefix}}"
CHECKPOINT_OUTPUT_PREFIX = "{{.checkpointOutputPrefix}}"
PREV_CHECKPOINT_PREFIX = "{{.prevCheckpointPrefix}}"
TASK_TEMPLATE_PATH = "{{.taskTemplatePath}}"
#: What registration replaces with the URI of the uploaded code (fast registration).
REMOTE_PACKAGE_PATH = "{{ .remote_package_path }}"


class TaskNotFoundError(UserException):
    """The resolver's arguments name no task in this container (wrong module, renamed task...)."""


class TaskResolver:
    """Finds a task from the arguments after ``--`` on the entrypoint's command line."""

    def name(self) -> str:
        """The dotted path by which ``--resolver`` finds this resolver."""
        return f"{type(self).__module__}.{_INSTANCES[type(self)]}"

    def load_task(self, loader_args: list[str]) -> Any:
        """The task that ``loader_args`` name; :class:`TaskNotFoundError` when there is none."""
        raise NotImplementedError

    def loader_args(self, settings: Any, task: Any) -> list[str]:
        """The arguments by which :meth:`load_task` finds ``task`` again."""
        raise NotImplementedError


class DefaultTaskResolver(TaskResolver):
    """``task-module M task-name N``: the task bound to the name ``N`` in module ``M``."""

    def load_task(self, loader_args: list[str]) -> Any:
        options = _pairs(loader_args, ("task-module", "task-name"), self)
        module_name, attribute = options["task-module"], options["task-name"]
        try:
            module = importlib.import_module(module_name)
        except Exception as error:
            raise TaskNotFoundError(
                f"cannot import module {module_name!r} to find task {attribute!r}: {type(error).__name__}: {error}"
            ) from error
        task = getattr(module, attribute, None)
        if task is None:
            raise TaskNotFoundError(f"module {module_name!r} has no task named {attribute!r}")
        if not hasattr(task, "python_interface"):
            raise TaskNotFoundError(f"{module_name}.{attribute} is a {type(task).__name__}, not a task")
        return task

    def loader_args(self, settings: Any, task: Any) -> list[str]:
        module_name, attribute = find_reference(task)
        return ["task-module", module_name, "task-name", attribute]


class MapTaskResolver(TaskResolver):
    """``vars A,B resolver R ARGS...``: the inner task of a map task, with its bound inputs."""

    def load_task(self, loader_args: list[str]) -> Any:
        if len(loader_args) < 4 or loader_args[0] != "vars" or loader_args[2] != "resolver":
            raise TaskNotFoundError(
                f"map task resolver expects 'vars NAMES resolver RESOLVER ARGS...', got {' '.join(loader_args)!r}"
            )
        bound = frozenset(name for name in loader_args[1].split(",") if name)
        inner = load_resolver(loader_args[3]).load_task(loader_args[4:])
        return MapElement(inner, bound)

    def loader_args(self, settings: Any, task: Any) -> list[str]:
        inner = task.python_function_task
        resolver = resolver_for(inner)
        return [
            "vars",
            ",".join(sorted(task.bound_inputs)),
            "resolver",
            resolver.name(),
            *resolver.loader_args(settings, inner),
        ]


class MapElement:
    """One element of a map task: the inner task, and which of its inputs every element shares."""

    def __init__(self, task: Any, bound_inputs: frozenset[str]) -> None:
        self.task = task
        self.bound_inputs = bound_inputs


class TaskTemplateResolver(TaskResolver):
    """``TEMPLATE_URI EXECUTOR``: a task template read from storage, run by a class of an installed package.

    ``EXECUTOR`` is ``module:Class`` (or ``module.Class``); the class is built with the
    :class:`~taskloom.models.task.TaskTemplate` and its ``execute(**inputs)`` runs the task.
    """

    def load_task(self, loader_args: list[str]) -> Any:
        if len(loader_args) != 2:
            raise TaskNotFoundError(
                f"task template resolver expects 'TEMPLATE_URI EXECUTOR', got {' '.join(loader_args)!r}"
            )
        template_uri, executor_path = loader_args
        from flyteidl.core import tasks_pb2

        from taskloom_flyte.codec import from_proto
        from taskloom_flyte.entrypoint import read_bytes

        message = tasks_pb2.TaskTemplate()
        payload = read_bytes(template_uri, "task template")
        try:
            message.ParseFromString(payload)
        except Exception as error:
            raise TaskNotFoundError(f"task template {template_uri}: not a flyteidl TaskTemplate ({error})") from error
        template = from_proto(message)
        executor_class = load_object(executor_path)
        return TemplateTask(template, executor_class(template))

    def loader_args(self, settings: Any, task: Any) -> list[str]:
        return [TASK_TEMPLATE_PATH, task.executor_path]


class TemplateTask:
    """A task described by its template alone, run by ``executor.execute(**inputs)``.

    Its Python interface holds the types the template's literal types imply, so that the
    entrypoint converts inputs and outputs as for any task.
    """

    def __init__(self, template: Any, executor: Any) -> None:
        from taskloom.extend import Interface, TypeEngine

        def python_types(variables: Any) -> dict[str, Any]:
            return {name: TypeEngine.guess_python_type(variable.type) for name, variable in variables.variables.items()}

        self.template = template
        self.executor = executor
        self.name = template.id.name
        self.python_interface = Interface(
            python_types(template.interface.inputs), python_types(template.interface.outputs)
        )

    def run(self, inputs: dict[str, Any], **context: Any) -> Any:
        """Run the task: what :meth:`PythonTask.run` is for a task with code (``context``, the
        execution, attempt and checkpoint, concerns the executor class alone, which has none)."""
        return self.executor.execute(**inputs)


default_task_resolver = DefaultTaskResolver()
map_task_resolver = MapTaskResolver()
task_template_resolver = TaskTemplateResolver()
_INSTANCES = {
    DefaultTaskResolver: "default_task_resolver",
    MapTaskResolver: "map_task_resolver",
    TaskTemplateResolver: "task_template_resolver",
}


def resolver_for(task: Any) -> TaskResolver:
    """The resolver that finds ``task`` in a container: the task's own ``task_resolver`` when it has one."""
    own = getattr(task, "task_resolver", None)
    if own is not None:
        return own
    if getattr(task, "executor_path", None):
        # A pre-built-image task type (flytekit's PythonCustomizedContainerTask): its template alone runs it.
        return task_template_resolver
    if getattr(task, "is_array_node", False):
        return map_task_resolver
    return default_task_resolver


def container_args(task: Any, settings: Any) -> list[str]:
    """The command line of ``task``'s container: ``loom-execute`` (or ``loom-map-execute``) with
    Flyte's placeholders, the resolver and its arguments; behind ``loom-fast-execute`` when
    ``settings`` turn fast registration on."""
    resolver = resolver_for(task)
    program = "loom-map-execute" if getattr(task, "is_array_node", False) else "loom-execute"
    args = [
        program,
        "--inputs",
        INPUT,
        "--output-prefix",
        OUTPUT_PREFIX,
        "--raw-output-data-prefix",
        RAW_OUTPUT_DATA_PREFIX,
        "--checkpoint-path",
        CHECKPOINT_OUTPUT_PREFIX,
        "--prev-checkpoint",
        PREV_CHECKPOINT_PREFIX,
        "--resolver",
        resolver.name(),
        "--",
        *resolver.loader_args(settings, task),
    ]
    fast = getattr(settings, "fast_serialization_settings", None)
    if fast is not None and fast.enabled:
        args = [
            "loom-fast-execute",
            "--additional-distribution",
            fast.distribution_location or REMOTE_PACKAGE_PATH,
            "--dest-dir",
            fast.destination_dir or ".",
            "--",
            *args,
        ]
    return args


def find_reference(task: Any) -> tuple[str, str]:
    """(module, attribute) by which a container imports ``task``.

    Raises :class:`TaskNotFoundError` when the task is not bound to a name at the top level of an
    importable module (a task made inside a function, or defined in a script run as ``__main__``).
    """
    from taskloom.extend import find_binding

    found = find_binding(task)
    if found is None:
        raise TaskNotFoundError(
            f"task {task.name!r} is not bound to a name at the top level of a module, so a container "
            "cannot import it; define it at module level"
        )
    module, attribute = found
    if module.__name__ in ("__main__", "__mp_main__"):
        raise TaskNotFoundError(
            f"task {task.name!r} is defined in a script run as __main__, which a container cannot import; "
            "package the module or directory instead (loom package FILE_OR_DIR)"
        )
    return module.__name__, attribute


def load_resolver(path: str) -> TaskResolver:
    """The resolver at ``path`` (``package.module.name``); an instance is returned as is, a class is instantiated."""
    found = load_object(path)
    return found() if isinstance(found, type) else found


def load_object(path: str) -> Any:
    """The object at ``module:attribute`` or ``module.attribute``; :class:`TaskNotFoundError` naming it otherwise."""
    module_name, separator, attribute = path.partition(":")
    if not separator:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise TaskNotFoundError(f"{path!r} is not a dotted path to an object (module.name or module:name)")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise TaskNotFoundError(
            f"cannot import {module_name!r} (for {path!r}): {type(error).__name__}: {error}"
        ) from error
    found: Any = module
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise TaskNotFoundError(f"module {module_name!r} has no attribute {attribute!r}")
    return found


def _pairs(loader_args: list[str], keys: tuple[str, ...], resolver: TaskResolver) -> dict[str, str]:
    if len(loader_args) != 2 * len(keys) or [loader_args[index] for index in range(0, len(loader_args), 2)] != list(
        keys
    ):
        expected = " ".join(f"{key} VALUE" for key in keys)
        raise TaskNotFoundError(f"{resolver.name()} expects '{expected}', got {' '.join(loader_args)!r}")
    return {loader_args[index]: loader_args[index + 1] for index in range(0, len(loader_args), 2)}
