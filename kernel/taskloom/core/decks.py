"""Decks between the kernel and the plugin that writes them: the hand-over of a finished task
execution's decks, and the questions that plugin asks of the others (how to show a value, where an
execution keeps its files).

The kernel holds no renderer and writes no file: ``Deck`` and the deck page are taskloom-report's.
Only tasks with ``enable_deck`` come here (:meth:`~taskloom.core.base_task.PythonTask.run` tests one
attribute for the others), so this module is imported by runs that have decks only.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from taskloom.exceptions.system import PluginWarning
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    from taskloom.core.base_task import PythonTask
    from taskloom.core.context_manager import ExecutionParameters

_warned = False


def hand_over_decks(
    task: PythonTask,
    params: ExecutionParameters,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    node_path: str | None,
    timeline: list[dict[str, Any]],
    output_prefix: str | None = None,
) -> None:
    """Give a succeeded task execution's decks to the plugins that write them
    (:func:`~taskloom.hookspecs.taskloom_task_decks`); with none installed, warn once per process
    that decks need taskloom-report. The task's outcome is the same either way.
    """
    global _warned
    relay = get_plugin_manager().hook.taskloom_task_decks
    if not relay.get_hookimpls():
        if not _warned:
            _warned = True
            warnings.warn(
                f"task {task.name!r} has enable_deck=True, but no installed plugin writes decks: install "
                "taskloom-report (pip install 'taskloom[report]'); tasks run without their decks until then",
                PluginWarning,
                stacklevel=4,
            )
        return
    execution_id = params._execution_id
    relay(
        task=task,
        decks=list(params.decks),
        inputs=inputs,
        outputs=outputs,
        execution_id=execution_id if isinstance(execution_id, str) else execution_id.name,
        node_path=node_path,
        timeline=timeline,
        output_prefix=output_prefix,
    )


def deck_renderer(python_type: Any, value: Any) -> Any:
    """The renderer a plugin gives for ``value`` declared as ``python_type``
    (:func:`~taskloom.hookspecs.taskloom_deck_renderer`), or None."""
    return get_plugin_manager().hook.taskloom_deck_renderer(python_type=python_type, value=value)


def execution_directory(execution_id: str) -> str | None:
    """The directory where the executor that runs ``execution_id`` keeps its files
    (:func:`~taskloom.hookspecs.taskloom_execution_directory`), or None when none records it."""
    answer = get_plugin_manager().hook.taskloom_execution_directory(execution_id=execution_id)
    return str(answer) if answer is not None else None
