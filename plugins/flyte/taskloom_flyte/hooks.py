"""The hook implementations of taskloom-flyte (the entry point ``flyte = "taskloom_flyte.hooks"``).

Kept cheap to import: every hook imports what it needs when called (protobuf and grpc only when a
template is encoded or a package registered).
"""

from __future__ import annotations

from typing import Any

from taskloom.extend import hookimpl


@hookimpl
def taskloom_task_command(task: Any, settings: Any) -> list[str] | None:
    """``loom-execute ... -- task-module M task-name N`` (``loom-map-execute`` for map tasks).

    None for a task that a container could not import (made inside a function, or in a script run
    as ``__main__``): its template still describes it, and ``loom package`` / ``loom-execute``
    refuse to ship such a template, naming the task and the reason.
    """
    from taskloom_flyte.resolvers import TaskNotFoundError, container_args

    try:
        return container_args(task, settings)
    except TaskNotFoundError:
        return None


#: The ``loom`` subcommands of this plugin: command name -> (module, attribute). A command's module
#: is imported only when commands are asked for; each name is declared in the entry-point group
#: ``taskloom.commands`` too, so that ``loom --help`` lists it without importing anything.
COMMANDS: dict[str, tuple[str, str]] = {
    "register": ("taskloom_flyte.register", "register_command"),
    "package": ("taskloom_flyte.cli", "package_command"),
    "serialize": ("taskloom_flyte.cli", "serialize_command"),
}


@hookimpl
def taskloom_cli_commands() -> list[Any]:
    """The commands of :data:`COMMANDS` (``loom register``...)."""
    import importlib

    return [getattr(importlib.import_module(module), attribute) for module, attribute in COMMANDS.values()]
