"""The Python API of the executor ``dask``: :class:`DaskExecutor`."""

from __future__ import annotations

from distributed import Client
from taskloom.extend import PoolExecutor

from taskloom_dask.options import DEFAULT_NAME
from taskloom_dask.pool import CONNECT_TIMEOUT, DaskPool


class DaskExecutor(PoolExecutor):
    """Runs workflows with taskloom-local's scheduler in this process and every task body on a Dask cluster.

    "Dask executor" names where the bodies run, not a second scheduler: the order of nodes, retries,
    timeouts, ``min_success_ratio``, the cache, records and resume are taskloom-local's, and each attempt
    of a body is a future on the cluster (:class:`~taskloom_dask.DaskPool`). ``client`` is a
    :class:`distributed.Client`, a scheduler's address, or None for a LocalCluster of this machine;
    ``connect_timeout`` and ``size`` are :class:`~taskloom_dask.DaskPool`'s.

    ``name`` is the executor name under which this process finds the cluster from now on: workflow calls
    with ``TASKLOOM_EXECUTOR=NAME`` (``wf(x=1)``) and :func:`taskloom.extend.get_executor` run on it.
    The default, ``"dask"``, takes the place of the cluster ``--executor dask`` would otherwise connect
    to. :meth:`close` (or the end of a ``with`` block) forgets the name and stops what the pool started::

        with Client("tcp://10.0.0.5:8786") as client, DaskExecutor(client) as executor:
            executor.execute(pipeline, {"rows": [1, 2, 3]})
    """

    def __init__(
        self,
        client: Client | str | None = None,
        *,
        name: str = DEFAULT_NAME,
        connect_timeout: float = CONNECT_TIMEOUT,
        size: int | None = None,
    ) -> None:
        super().__init__(DaskPool(client, connect_timeout=connect_timeout, size=size), name=name)
