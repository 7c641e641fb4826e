"""taskloom-kubernetes: workflows run on Kubernetes (``loom run --executor kubernetes``), each task attempt a Pod.

The executor called ``kubernetes`` is taskloom-local's: its scheduler stays in the process that runs the
workflow and decides what runs when (dataflow order, retries, timeouts, ``min_success_ratio``, cache, records
and resume), and every task attempt runs as a Pod that executes the task's ``loom-execute`` command line
(:class:`KubernetesPool`, the pool this plugin answers ``taskloom_task_pool("kubernetes")`` with).

Names resolve on first use, so that loading the plugin (``loom run`` imports its hooks) imports no kubernetes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskloom_kubernetes.executor import KubernetesExecutor as KubernetesExecutor
    from taskloom_kubernetes.pod import PodOptions as PodOptions
    from taskloom_kubernetes.pod import build_pod as build_pod
    from taskloom_kubernetes.pool import KubernetesPool as KubernetesPool
    from taskloom_kubernetes.pool import PodFailure as PodFailure
    from taskloom_kubernetes.pool import PodPendingError as PodPendingError
    from taskloom_kubernetes.pool import RecoverablePodError as RecoverablePodError
    from taskloom_kubernetes.pool import RecoverableUserPodError as RecoverableUserPodError
    from taskloom_kubernetes.pool import TaskPodError as TaskPodError

__version__ = "0.1.0"

_WHERE = {
    "KubernetesExecutor": "taskloom_kubernetes.executor",
    "KubernetesPool": "taskloom_kubernetes.pool",
    "PodFailure": "taskloom_kubernetes.pool",
    "PodPendingError": "taskloom_kubernetes.pool",
    "RecoverablePodError": "taskloom_kubernetes.pool",
    "RecoverableUserPodError": "taskloom_kubernetes.pool",
    "TaskPodError": "taskloom_kubernetes.pool",
    "PodOptions": "taskloom_kubernetes.pod",
    "build_pod": "taskloom_kubernetes.pod",
}

__all__ = [
    "KubernetesExecutor",
    "KubernetesPool",
    "PodFailure",
    "PodOptions",
    "PodPendingError",
    "RecoverablePodError",
    "RecoverableUserPodError",
    "TaskPodError",
    "build_pod",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_kubernetes' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
