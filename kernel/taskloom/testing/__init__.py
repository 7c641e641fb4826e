"""Support for testing taskloom and its plugins.

:mod:`taskloom.testing.fixtures` is a pytest plugin (loaded automatically when taskloom-kernel is
installed) with the ``taskloom_plugins`` fixture; :mod:`taskloom.testing.strategies` holds hypothesis
strategies for every contract and needs the ``taskloom-kernel[testing]`` extra.

flytekit's ``flytekit.testing`` names are here too: :func:`task_mock` and :func:`patch` (from
:mod:`taskloom.testing.mocks`) and ``SecretsManager``. They resolve on first use: pytest imports
this package for the fixtures of every session, and ``unittest.mock`` imports asyncio (tens of ms).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from taskloom.core.context_manager import SecretsManager as SecretsManager
    from taskloom.testing.mocks import patch as patch
    from taskloom.testing.mocks import task_mock as task_mock

# name -> the module that defines it
_NAMES = {
    "SecretsManager": "taskloom.core.context_manager",
    "task_mock": "taskloom.testing.mocks",
    "patch": "taskloom.testing.mocks",
}

__all__ = ["SecretsManager", "patch", "task_mock"]


def __getattr__(name: str) -> Any:
    module_name = _NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'taskloom.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
