"""Where an entity is bound: the module-level name by which another process imports it again.

Worker processes (taskloom-local) and containers (taskloom-flyte) find a task by module and name;
both ask :func:`find_binding` (flytekit keeps the same knowledge in ``flytekit.core.tracker``).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any


def module_name(function: Any) -> str:
    """The module name an entity defined by ``function`` is named after.

    ``function.__module__``, except in a program run as a script, whose module is ``__main__``: then
    the name it is imported by (``pkg.tasks`` for ``python -m pkg.tasks``), else its file's name
    (``flows`` for ``python flows.py``, as flytekit names it), so that a task keeps one name, and one
    cache entry, whether its file is run as a script, with ``loom run`` or imported. ``__main__`` when
    there is no file (``python -c``, an interactive session).
    """
    name: str = function.__module__
    if name != "__main__":
        return name
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name:
        return str(spec_name)
    path = getattr(main, "__file__", None)
    return os.path.splitext(os.path.basename(path))[0] if path else name


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
