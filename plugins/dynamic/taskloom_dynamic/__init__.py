"""taskloom-dynamic: ``@dynamic`` and ``@eager`` (``from taskloom import dynamic, eager``).

:func:`~taskloom_dynamic.dynamic.dynamic` makes a task whose body builds a workflow from its real
input values at run time, then runs it; :func:`~taskloom_dynamic.eager.eager` makes an
``async def`` task whose body runs with real values while the executor runs each call it makes.
The names below are imported on first use: loading the plugin's hooks (which the kernel does when it
asks every plugin something) must not import the task machinery.
"""

from __future__ import annotations

import sys
import types

__version__ = "0.1.0"

__all__ = ["DynamicTask", "EagerAsyncPythonFunctionTask", "ExecutionBehavior", "dynamic", "eager"]

_HOMES = {
    "DynamicTask": "taskloom_dynamic.dynamic",
    "ExecutionBehavior": "taskloom_dynamic.dynamic",
    "dynamic": "taskloom_dynamic.dynamic",
    "EagerAsyncPythonFunctionTask": "taskloom_dynamic.eager",
    "eager": "taskloom_dynamic.eager",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'taskloom_dynamic' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    # The submodules `dynamic` and `eager` are named like the decorators they define. Importing one
    # makes Python set the package attribute to the module, which would shadow the decorator; the
    # modules stay reachable through sys.modules.
    def __setattr__(self, name: str, value: object) -> None:
        if name in ("dynamic", "eager") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
