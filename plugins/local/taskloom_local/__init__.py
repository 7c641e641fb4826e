"""taskloom-local: the local executor (``TASKLOOM_EXECUTOR=local``, the default).

:class:`taskloom_local.executor.LocalExecutor` runs a workflow in this process as a dataflow graph:
a node starts as soon as the nodes it depends on have finished, independent nodes run concurrently
on a thread pool, retries and the failure policy are honoured.

The public names below are the execution store's, for plugins that read what runs did (taskloom-report), and
those of a node's logs, for pools that run bodies elsewhere (taskloom-dask); they resolve on first use, so that ``import taskloom_local`` stays as cheap as before.
"""

from __future__ import annotations

import importlib

# Not typing's: importing typing costs ~15 ms, and `import taskloom_local` imported nothing before.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from taskloom_local.logs import capture_enabled as capture_enabled
    from taskloom_local.logs import keep_log as keep_log
    from taskloom_local.logs import run_capturing as run_capturing
    from taskloom_local.processes import run_each as run_each
    from taskloom_local.runner import note_worked as note_worked
    from taskloom_local.store import ExecutionRecord as ExecutionRecord
    from taskloom_local.store import ExecutionStore as ExecutionStore
    from taskloom_local.store import NodeRecord as NodeRecord
    from taskloom_local.store import StoreUnreadable as StoreUnreadable
    from taskloom_local.store import default_data_dir as default_data_dir
    from taskloom_local.store import make_private_directory as make_private_directory

__version__ = "0.1.0"

__all__ = [
    "ExecutionRecord",
    "ExecutionStore",
    "NodeRecord",
    "StoreUnreadable",
    "capture_enabled",
    "default_data_dir",
    "keep_log",
    "make_private_directory",
    "note_worked",
    "run_capturing",
    "run_each",
]

_WHERE = dict.fromkeys(__all__, "taskloom_local.store")
# A node's logs (logs.py), for pools that run bodies elsewhere: captured there, kept here.
_WHERE.update(
    capture_enabled="taskloom_local.logs", keep_log="taskloom_local.logs", run_capturing="taskloom_local.logs"
)
_WHERE["run_each"] = "taskloom_local.processes"  # a worker's batch of map elements, for pools elsewhere
_WHERE["note_worked"] = "taskloom_local.runner"  # how long a pool's worker ran a body (the durability threshold's)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_local' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
