"""taskloom-dynamic: ``@dynamic`` and ``@eager`` (``from taskloom import dynamic, eager``).

:func:`~taskloom_dynamic.dynamic_workflow_task.dynamic` makes a task whose body builds a workflow
from its real input values at run time, then runs it; :func:`~taskloom_dynamic.eager_workflow.eager`
makes an ``async def`` task whose body runs with real values while the executor runs each call it
makes. The names below are imported on first use: loading the plugin's hooks (which the kernel does
when it asks every plugin something) must not import the task machinery.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["DynamicTask", "EagerAsyncPythonFunctionTask", "ExecutionBehavior", "dynamic", "eager"]

_HOMES = {
    "DynamicTask": "taskloom_dynamic.dynamic_workflow_task",
    "ExecutionBehavior": "taskloom_dynamic.dynamic_workflow_task",
    "dynamic": "taskloom_dynamic.dynamic_workflow_task",
    "EagerAsyncPythonFunctionTask": "taskloom_dynamic.eager_workflow",
    "eager": "taskloom_dynamic.eager_workflow",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskloom_dynamic' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
