"""taskloom-dask's hook implementations, and nothing else (the entry point ``dask = "taskloom_dask.hooks"``).

The kernel imports this module the first time one of its hooks is called (``loom run`` does, for its
options), so it stays cheap: Dask is imported only when the executor ``dask`` is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

from taskloom_dask.options import DEFAULT_NAME, SCHEDULER_ENV

if TYPE_CHECKING:
    import click
    from taskloom.extend import TaskPool

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.6"  # PoolExecutor


@hookimpl
def taskloom_task_pool(name: str) -> TaskPool | None:
    """The Dask pool of the executor ``dask``: the cluster of ``$TASKLOOM_DASK_SCHEDULER``, or a LocalCluster.

    A :class:`~taskloom_dask.DaskExecutor`'s pool is found by the kernel under the name it was given, before
    this hook is asked (:class:`taskloom.extend.PoolExecutor`).
    """
    if name != DEFAULT_NAME:
        return None
    from taskloom_dask.pool import default_pool  # distributed, ~0.4 s: only when the executor is asked for

    return default_pool()


@hookimpl
def taskloom_run_options() -> list[click.Option]:
    """``loom run --dask-scheduler ADDRESS``."""
    # Here, not at the top: run_option's module imports click, and every workflow run loads this module.
    from taskloom.extend import run_option

    return [
        run_option(
            "--dask-scheduler",
            envvar=SCHEDULER_ENV,
            metavar="ADDRESS",
            help="The Dask scheduler --executor dask runs task bodies on (tcp://host:port; unset, a LocalCluster "
            "of this machine's cores, closed at exit)",
        )
    ]


@hookimpl
def taskloom_signal_board(executor: str) -> Any:
    """The board the gates of ``--executor dask`` wait on: they wait in this process, in taskloom-local's
    scheduler, so it is the board of the executor ``local`` (``loom run --executor dask --signal NAME=VALUE``).
    """
    if executor != DEFAULT_NAME:
        return None
    from taskloom.extend import signal_board

    return signal_board("local")
