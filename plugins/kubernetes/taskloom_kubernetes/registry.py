"""The Kubernetes pools of this process, by executor name (what ``taskloom_task_pool`` answers with).

``kubernetes`` is the pool ``loom run --executor kubernetes`` and ``TASKLOOM_EXECUTOR=kubernetes`` use, made on
first use from the ``TASKLOOM_K8S_*`` variables (:func:`taskloom_kubernetes.pool.default_pool`); a
:class:`~taskloom_kubernetes.KubernetesExecutor` puts its own pool here under the name it was given. Cheap to
import: the hooks read it for every executor name asked for, and the kubernetes client is imported only for a
name it has.
"""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_NAME = "kubernetes"

_pools: dict[str, Any] = {}
_lock = threading.Lock()


def pool_named(name: str) -> Any:
    """The pool registered as ``name``; for ``"kubernetes"`` with none registered, the default pool; else None."""
    pool = _pools.get(name)
    if pool is not None and not pool.closed:
        return pool
    if name != DEFAULT_NAME:
        return None
    from taskloom_kubernetes.pool import default_pool  # the kubernetes client (~0.3 s): only for this executor

    return default_pool()


def register(name: str, pool: Any) -> None:
    """Make ``pool`` the one the executor called ``name`` runs task attempts on, in this process."""
    with _lock:
        _pools[name] = pool


def unregister(name: str, pool: Any) -> None:
    """Forget ``pool`` as ``name`` (if it still is)."""
    with _lock:
        if _pools.get(name) is pool:
            del _pools[name]
