"""taskloom-report's hook implementations, and nothing else (the entry point ``report = "taskloom_report.hooks"``).

The kernel imports this module the first time one of its hooks is called, so it stays cheap: the modules that
build literals or task classes are imported inside the hooks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

from taskloom_report.events import NODES

if TYPE_CHECKING:
    from taskloom.extend import NodeEvent, PythonFunctionTask, TypeTransformer

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.5"


@hookimpl
def taskloom_type_transformers() -> list[TypeTransformer[Any]]:
    # Imported here: the contracts the transformer builds are needed only once the type engine asks.
    from taskloom_report.money import MoneyTransformer

    return [MoneyTransformer()]


@hookimpl
def taskloom_task_class(task_config: Any) -> type[PythonFunctionTask[Any]] | None:
    # A firstresult hook: answer only for this plugin's own configuration class.
    from taskloom_report.audited import Audited, AuditedTask

    return AuditedTask if isinstance(task_config, Audited) else None


@hookimpl
def taskloom_node_finished(event: NodeEvent) -> None:
    # Called once per node of every run: keep it this cheap.
    NODES.add(event)
