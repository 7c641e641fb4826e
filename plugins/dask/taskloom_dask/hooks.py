"""taskloom-dask's hook implementations, and nothing else (the entry point ``dask = "taskloom_dask.hooks"``).

The kernel imports this module the first time one of its hooks is called (``loom run`` does, for its
options), so it stays cheap: Dask is imported only when the executor ``dask`` is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskloom.extend import hookimpl

from taskloom_dask.registry import SCHEDULER_ENV, pool_named

if TYPE_CHECKING:
    import click
    from taskloom.extend import TaskPool

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.5"  # the hook taskloom_task_pool, TaskPool, get_task_pool


@hookimpl
def taskloom_task_pool(name: str) -> TaskPool | None:
    """The Dask pool of the executor ``name``: ``dask`` (the cluster of ``$TASKLOOM_DASK_SCHEDULER``, or a
    LocalCluster), or a name a :class:`~taskloom_dask.DaskExecutor` of this process was given.
    """
    return pool_named(name)


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
