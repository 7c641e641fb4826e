"""The Python API of the executor ``kubernetes``: :class:`KubernetesExecutor`."""

from __future__ import annotations

from typing import Any

from taskloom.extend import Runner, get_executor

from taskloom_kubernetes.pool import KubernetesPool
from taskloom_kubernetes.registry import DEFAULT_NAME, register, unregister


class KubernetesExecutor:
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
        self.name = name
        self.pool = pool if pool is not None else KubernetesPool(**pool_options)
        register(name, self.pool)
        try:
            self._executor: Any = get_executor(name)  # taskloom-local's, on this pool (taskloom_task_pool)
        except BaseException:
            self.close()
            raise

    def execute(self, entity: Any, inputs: dict[str, Any]) -> Any:
        """Run ``entity`` with ``inputs``; return its outputs as a call returns them."""
        return self._executor.execute(entity, inputs)

    def resume(self, execution_id: str, entity: Any = None, inputs: dict[str, Any] | None = None) -> Any:
        """Run again what the recorded execution ``execution_id`` had not finished (taskloom-local's resume)."""
        return self._executor.resume(execution_id, entity, inputs)

    def runner(self) -> Runner:
        """A runner for work started outside any execution (a map task called directly)."""
        runner: Runner = self._executor.runner()
        return runner

    def close(self) -> None:
        """Forget the name and delete the Pods still running."""
        unregister(self.name, self.pool)
        self.pool.close()

    def __enter__(self) -> KubernetesExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
