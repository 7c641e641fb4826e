"""taskloom-map: ``map_task`` runs a task once per element of its list inputs (a Flyte array node).

``from taskloom import map_task`` gives the same function as ``from taskloom_map import map_task``.
The names below are imported on first use: loading the plugin's hooks (which every hook call of the
kernel does) must not import the task machinery.
"""

from __future__ import annotations

import sys
import types

__version__ = "0.1.0"

__all__ = ["ArrayNodeMapTask", "MapTaskError", "map_task"]


def __getattr__(name: str) -> object:
    if name in __all__:
        import importlib

        value = getattr(importlib.import_module("taskloom_map.map_task"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taskloom_map' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    # The submodule `taskloom_map.map_task` is named like the function it defines. Importing it
    # makes Python set the package attribute `map_task` to the module, which would shadow the
    # function; the module stays reachable as sys.modules["taskloom_map.map_task"].
    def __setattr__(self, name: str, value: object) -> None:
        if name == "map_task" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
