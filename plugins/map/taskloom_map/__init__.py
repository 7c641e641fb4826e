"""taskloom-map: ``map_task`` runs a task once per element of its list inputs (a Flyte array node).

``from taskloom import map_task`` gives the same function as ``from taskloom_map import map_task``;
both live in :mod:`taskloom_map.array_node_map_task` (flytekit's module name). The names below are
imported on first use: loading the plugin's hooks (which every hook call of the kernel does) must not
import the task machinery.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

__all__ = ["ArrayNodeMapTask", "MapTaskError", "map_task"]


def __getattr__(name: str) -> object:
    if name in __all__:
        value = getattr(importlib.import_module("taskloom_map.array_node_map_task"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taskloom_map' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
