"""The Python API of the executor ``kubernetes``: :class:`KubernetesExecutor`."""

from __future__ import annotations

from typing import Any

from taskloom.extend import PoolExecutor

from taskloom_kubernetes.options import DEFAULT_NAME
from taskloom_kubernetes.pool import KubernetesPool


class KubernetesExecutor(PoolExecutor):
    """Runs workflows with taskloom-local's scheduler in this process and every task attempt as a Pod.

    ``pool`` is the :class:`~taskloom_kubernetes.KubernetesPool` to use; without one, a pool is made from
    ``pool_options`` (its keyword arguments: ``namespace``, ``image``, ``raw_output_prefix``, ``keep_pods``,
    ``kubeconfig``...). ``name`` is the executor name under which this process finds it from now on (workflow
    calls with ``TASKLOOM_EXECUTOR=NAME``); the default, ``"kubernetes"``, takes the place of the pool
    ``--executor kubernetes`` would make from the environment. :meth:`close` (or the end of a ``with`` block)
    forgets the name and deletes the Pods still running::

        with KubernetesExecutor(namespace="flows", image="ghcr.io/acme/flows:3",
                                raw_output_prefix="s3://bucket/runs") as executor:
            executor.execute(pipeline, {"rows": [1, 2, 3]})
    """

    def __init__(self, pool: KubernetesPool | None = None, *, name: str = DEFAULT_NAME, **pool_options: Any) -> None:
        super().__init__(pool if pool is not None else KubernetesPool(**pool_options), name=name)
