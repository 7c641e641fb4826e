"""The graph a dynamic task returns at run time (flyteidl ``core/dynamic_job.proto``)."""

from __future__ import annotations

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models.literals import Binding
from taskloom.models.task import TaskTemplate
from taskloom.models.workflow import Node, WorkflowTemplate


@attrs.frozen
class DynamicJobSpec:
    """Nodes that replace a dynamic task at run time, with the tasks and sub-workflows they use.

    Mirrors flyteidl ``core.DynamicJobSpec``.
    """

    nodes: tuple[Node, ...] = attrs.field(default=(), converter=as_tuple)
    min_successes: int = 0
    outputs: tuple[Binding, ...] = attrs.field(default=(), converter=as_tuple)
    tasks: tuple[TaskTemplate, ...] = attrs.field(default=(), converter=as_tuple)
    subworkflows: tuple[WorkflowTemplate, ...] = attrs.field(default=(), converter=as_tuple)
