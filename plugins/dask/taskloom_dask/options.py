"""The names ``loom run --executor dask`` is configured by, cheap to import (the hooks read them for every run)."""

from __future__ import annotations

#: The executor name this plugin answers for, with the cluster of :data:`SCHEDULER_ENV`.
DEFAULT_NAME = "dask"
#: The scheduler ``loom run --executor dask`` connects to (``--dask-scheduler``); unset, a LocalCluster.
SCHEDULER_ENV = "TASKLOOM_DASK_SCHEDULER"
