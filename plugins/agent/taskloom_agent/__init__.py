"""taskloom-agent: Flyte-compatible agents.

The agent author's API with flytekit 1.16's names (``flytekit.extend.backend.base_agent``): ``AsyncAgentBase``,
``SyncAgentBase``, ``ResourceMeta``, ``Resource``, ``TaskCategory``, ``AgentRegistry``, and the task mixins
``AsyncAgentExecutorMixin``/``SyncAgentExecutorMixin`` that run a task through its agent. ``loom serve agent``
serves the agents as flyteidl's v1 gRPC agent services. Names resolve on first use, so importing this package
imports neither grpc nor protobuf.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "AgentBase",
    "AgentRegistry",
    "AsyncAgentBase",
    "AsyncAgentExecutorMixin",
    "Resource",
    "ResourceMeta",
    "SyncAgentBase",
    "SyncAgentExecutorMixin",
    "TaskCategory",
    "TaskExecution",
    "TaskLog",
    "convert_to_flyte_phase",
    "is_terminal_phase",
]

_BASE = "taskloom_agent.base"
_WHERE = dict.fromkeys(__all__, _BASE) | {
    "AsyncAgentExecutorMixin": "taskloom_agent.mixins",
    "SyncAgentExecutorMixin": "taskloom_agent.mixins",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
