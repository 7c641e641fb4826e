"""The container runtime plugins offer (the hook ``taskloom_container_runtime``).

The kernel runs no container itself; a task type that does (taskloom-container's ``ContainerTask``)
asks for a runtime here, so that which programs can run containers is up to the installed plugins.
"""

from __future__ import annotations

from typing import Any

from taskloom.plugins import get_plugin_manager


def get_container_runtime(name: str | None = None) -> Any:
    """The container runtime named ``name``, or (``name`` None) the one the installed plugins offer
    first; None when no plugin has one. See :func:`taskloom.hookspecs.taskloom_container_runtime`."""
    return get_plugin_manager().hook.taskloom_container_runtime(name=name)
