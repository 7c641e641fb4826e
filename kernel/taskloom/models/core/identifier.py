"""``flytekit.models.core.identifier``'s names: the classes of :mod:`taskloom.models.identifier`."""

from taskloom.models.identifier import (
    Identifier,
    NodeExecutionIdentifier,
    ResourceType,
    SignalIdentifier,
    TaskExecutionIdentifier,
    WorkflowExecutionIdentifier,
)

__all__ = [
    "Identifier",
    "NodeExecutionIdentifier",
    "ResourceType",
    "SignalIdentifier",
    "TaskExecutionIdentifier",
    "WorkflowExecutionIdentifier",
]
