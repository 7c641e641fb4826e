"""taskloom-dask: workflows run on a Dask cluster (``loom run --executor dask``).

The executor called ``dask`` is taskloom-local's: its scheduler stays in the process that runs the workflow
and decides what runs when (dataflow order, retries, timeouts, ``min_success_ratio``, cache, records and
resume, progress, gates), and every task body runs as a future on a ``dask.distributed`` cluster
(:class:`DaskPool`, the pool this plugin answers ``taskloom_task_pool("dask")`` with). Map elements go in
batches, one future each; dynamic and eager bodies run in this process and their children on the cluster.

Names resolve on first use, so that loading the plugin (``loom run`` imports its hooks) imports no Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskloom_dask.executor import DaskExecutor as DaskExecutor
    from taskloom_dask.pool import CONNECT_TIMEOUT as CONNECT_TIMEOUT
    from taskloom_dask.pool import SCHEDULER_ENV as SCHEDULER_ENV
    from taskloom_dask.pool import DaskPool as DaskPool
    from taskloom_dask.pool import SchedulerUnreachable as SchedulerUnreachable
    from taskloom_dask.pool import WorkerLostError as WorkerLostError

__version__ = "0.1.0"

__all__ = ["CONNECT_TIMEOUT", "SCHEDULER_ENV", "DaskExecutor", "DaskPool", "SchedulerUnreachable", "WorkerLostError"]

_WHERE = {
    "DaskExecutor": "taskloom_dask.executor",
    "DaskPool": "taskloom_dask.pool",
    "SchedulerUnreachable": "taskloom_dask.pool",
    "WorkerLostError": "taskloom_dask.pool",
    "SCHEDULER_ENV": "taskloom_dask.pool",
    "CONNECT_TIMEOUT": "taskloom_dask.pool",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_dask' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
