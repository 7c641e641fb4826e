"""Where an entity is bound: the module-level name by which another process imports it again.

Worker processes (taskloom-local) and containers (taskloom-flyte) find a task by module and name;
both ask :func:`find_binding` (flytekit keeps the same knowledge in ``flytekit.core.tracker``).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

#: What a script's module is called: ``__main__``, or ``__mp_main__`` where a worker process loads it again.
SCRIPT_MODULES = frozenset({"__main__", "__mp_main__"})


def module_name(function: Any) -> str:
    """The module name an entity defined by ``function`` is named after.

    ``function.__module__``, except in a program run as a script, whose module is ``__main__`` (and
    ``__mp_main__`` in the worker processes that load it again): then the name it is imported by
    (``pkg.tasks`` for ``python -m pkg.tasks``), else its file's name (``flows`` for ``python
    flows.py``, as flytekit names it), so that a task keeps one name, and one cache entry, whether its
    file is run as a script, with ``loom run`` or imported. ``__main__`` when there is no file
    (``python -c``, an interactive session).
    """
    name: str = function.__module__
    if name not in SCRIPT_MODULES:
        return name
    namespace = getattr(function, "__globals__", None) or {}
    spec_name = getattr(namespace.get("__spec__"), "name", None)
    if spec_name and spec_name not in SCRIPT_MODULES:
        return str(spec_name)
    path = namespace.get("__file__")
    return os.path.splitext(os.path.basename(path))[0] if isinstance(path, str) else name


def find_binding(entity: Any) -> tuple[ModuleType, str] | None:
    """``(module, attribute)`` such that ``getattr(module, attribute) is entity``, or None.

    The function's own module and name are tried first (the usual ``@task def f``); otherwise
    every loaded module's top-level names are searched, so that ``renamed = task(f)`` or a task
    instance bound to a module-level name is found too. None for an entity made inside a function.
    """
    function = getattr(entity, "task_function", None)
    if function is not None:
        module = sys.modules.get(function.__module__)
        if module is not None and getattr(module, function.__name__, None) is entity:
            return module, function.__name__
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attribute, value in list(namespace.items()):
            if value is entity:
                return module, attribute
    return None
