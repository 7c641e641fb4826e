"""The Dask pools of this process, by executor name (what ``taskloom_task_pool`` answers with).

``dask`` is the pool ``loom run --executor dask`` and ``TASKLOOM_EXECUTOR=dask`` use, made on first use
(:func:`taskloom_dask.pool.default_pool`); a :class:`~taskloom_dask.DaskExecutor` puts its own pool here
under the name it was given, so workflow calls in the process find it by that name. Cheap to import: the
hooks read it for every executor name asked for, and Dask is imported only for a name it has.
"""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_NAME = "dask"
#: The scheduler ``loom run --executor dask`` connects to (``--dask-scheduler``); unset, a LocalCluster.
SCHEDULER_ENV = "TASKLOOM_DASK_SCHEDULER"

_pools: dict[str, Any] = {}
_lock = threading.Lock()


def pool_named(name: str) -> Any:
    """The pool registered as ``name``; for ``"dask"`` with none registered, the default pool; else None."""
    pool = _pools.get(name)
    if pool is not None and not pool.closed:
        return pool
    if name != DEFAULT_NAME:
        return None
    from taskloom_dask.pool import default_pool  # distributed, ~0.4 s: only when the executor is asked for

    return default_pool()


def register(name: str, pool: Any) -> None:
    """Make ``pool`` the one the executor called ``name`` runs task bodies on, in this process."""
    with _lock:
        _pools[name] = pool


def unregister(name: str, pool: Any) -> None:
    """Forget ``pool`` as ``name`` (if it still is)."""
    with _lock:
        if _pools.get(name) is pool:
            del _pools[name]
