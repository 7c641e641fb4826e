"""Running entities: the executor contract, and how an executor is chosen.

An executor runs a compiled workflow (its nodes, bindings and outputs, see
:mod:`taskloom.core.workflow`) with Python input values and returns its outputs as a call of the
workflow returns them. Executors are plugins answering :func:`~taskloom.hookspecs.taskloom_executor`;
the kernel runs nothing itself. The one used is named by ``TASKLOOM_EXECUTOR`` (``local`` when unset).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from taskloom.exceptions.system import PluginError

EXECUTOR_ENV = "TASKLOOM_EXECUTOR"
DEFAULT_EXECUTOR = "local"

#: Executors and the distribution that provides each, for the error when none is installed.
EXECUTOR_DISTRIBUTIONS: dict[str, str] = {
    "local": "taskloom-local",
    "dask": "taskloom-dask",
    "kubernetes": "taskloom-kubernetes",
    "agent": "taskloom-agent",
}


class Executor(Protocol):
    """What an executor plugin returns from :func:`~taskloom.hookspecs.taskloom_executor`."""

    def execute(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Run ``entity`` (a workflow) with ``inputs``, every input present and already type-checked.

        Returns the outputs as calling the entity does: None, one value, or a tuple (a named tuple
        when the entity declares a NamedTuple). A failing node raises its task's exception.
        """


def executor_name() -> str:
    """The name of the executor to use: ``$TASKLOOM_EXECUTOR`` or ``local``."""
    return os.environ.get(EXECUTOR_ENV) or DEFAULT_EXECUTOR


def get_executor(name: str | None = None) -> Executor:
    """Return the executor called ``name`` (default: :func:`executor_name`) from the plugins.

    Raises :class:`~taskloom.exceptions.system.PluginError` naming the executor, and the distribution
    that provides it when known, if no installed plugin does.
    """
    from taskloom.plugins import get_plugin_manager

    name = name or executor_name()
    answer = get_plugin_manager().first_result("taskloom_executor", name=name)
    if answer is None:
        distribution = EXECUTOR_DISTRIBUTIONS.get(name)
        install = f"; install {distribution}" if distribution else ""
        raise PluginError(f"no installed taskloom plugin provides the executor {name!r}{install}")
    return answer[1]
