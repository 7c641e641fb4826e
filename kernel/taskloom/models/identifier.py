"""Identifiers of entities and executions (flyteidl ``core/identifier.proto``)."""

from __future__ import annotations

import enum

import attrs


class ResourceType(enum.Enum):
    """The kind of entity an :class:`Identifier` names (flyteidl ``core.ResourceType``)."""

    UNSPECIFIED = 0
    TASK = 1
    WORKFLOW = 2
    LAUNCH_PLAN = 3
    # A dataset as produced by a task; kept because flyteidl has it.
    DATASET = 4


@attrs.frozen
class Identifier:
    """The versioned name of a task, workflow or launch plan (flyteidl ``core.Identifier``)."""

    resource_type: ResourceType
    project: str
    domain: str
    name: str
    version: str
    org: str = ""


@attrs.frozen
class WorkflowExecutionIdentifier:
    """The name of one execution of a workflow (flyteidl ``core.WorkflowExecutionIdentifier``)."""

    project: str
    domain: str
    name: str
    org: str = ""


@attrs.frozen
class NodeExecutionIdentifier:
    """One node inside a workflow execution (flyteidl ``core.NodeExecutionIdentifier``)."""

    node_id: str
    execution_id: WorkflowExecutionIdentifier


@attrs.frozen
class TaskExecutionIdentifier:
    """One attempt of a task run by a node (flyteidl ``core.TaskExecutionIdentifier``)."""

    task_id: Identifier
    node_execution_id: NodeExecutionIdentifier
    retry_attempt: int = 0


@attrs.frozen
class SignalIdentifier:
    """A signal that a gate node waits for (flyteidl ``core.SignalIdentifier``)."""

    signal_id: str
    execution_id: WorkflowExecutionIdentifier
