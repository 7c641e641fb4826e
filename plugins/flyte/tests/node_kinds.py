"""A third party's node kinds, for tests: entities that sit in workflow nodes and describe their own
nodes through the translator's protocol (``node_model``), with no change to the kernel. Like any
plugin it sees the kernel only through ``taskloom.extend``.

* ``spot(t, retries=3)(...)``: a call of the task ``t`` on interruptible machines, retried: a task
  node pointing at ``t``'s own template, with that metadata.
* ``pause(duration)``: a node that waits ``duration``: a flyteidl sleep gate named ``pause``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from taskloom.extend import Interface, create_node

if TYPE_CHECKING:
    from taskloom.extend import Node, PythonTask, Translator


class Spot:
    """``task`` called on interruptible machines and retried ``retries`` times."""

    def __init__(self, task: PythonTask, retries: int) -> None:
        self._task = task
        self._retries = retries

    @property
    def name(self) -> str:
        return self._task.name

    @property
    def python_interface(self) -> Interface:
        return self._task.python_interface

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return create_node(self, args, kwargs)

    def node_model(self, node: Node, translator: Translator) -> Any:
        from taskloom.extend import models  # the contracts: imported only when templates are made

        metadata = translator.node_metadata(node, self.name, retries=self._retries, interruptible=True)
        task_node = models.workflow.TaskNode(reference_id=translator.refer(self._task))
        return translator.build_node(node, metadata, task_node=task_node)


def spot(task: PythonTask, retries: int = 3) -> Spot:
    """``task`` as a spot call: ``spot(t, retries=4)(x=1)`` inside a workflow."""
    return Spot(task, retries)


class Pause:
    """A node that waits ``duration`` and has neither inputs nor outputs."""

    name = "pause"
    python_interface = Interface()

    def __init__(self, duration: dt.timedelta) -> None:
        self.duration = duration

    def node_model(self, node: Node, translator: Translator) -> Any:
        from taskloom.extend import models  # the contracts: imported only when templates are made

        workflow = models.workflow
        gate = workflow.GateNode(sleep=workflow.SleepCondition(duration=self.duration))
        return translator.build_node(node, workflow.NodeMetadata(name=self.name), gate_node=gate)


def pause(duration: dt.timedelta) -> Any:
    """Add a node that waits ``duration`` to the workflow being compiled; returns its handle for ``>>``."""
    return create_node(Pause(duration), (), {})
