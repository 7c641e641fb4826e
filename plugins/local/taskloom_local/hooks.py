"""The hook implementations of taskloom-local (the entry point ``local = "taskloom_local.hooks"``)."""

from __future__ import annotations

from typing import Any

from taskloom.extend import hookimpl


@hookimpl
def taskloom_executor(name: str) -> Any:
    """The local executor, for ``name == "local"``; for another name, the local executor with its task
    bodies on the pool a plugin answers ``taskloom_task_pool(name)`` with (``loom run --executor dask``).
    """
    if name == "local":
        from taskloom_local.executor import LocalExecutor

        return LocalExecutor()
    from taskloom.extend import get_task_pool  # the executor module (compiler, type engine): ~90 ms

    pool = get_task_pool(name)
    if pool is None:
        return None
    from taskloom_local.executor import LocalExecutor

    _POOLED.add(name)  # its gates wait in this scheduler: the name's signals go to this board
    return LocalExecutor(pool=pool)


#: The executor names this plugin made an executor on a plugin's pool for, in this process.
_POOLED: set[str] = set()


@hookimpl
def taskloom_signal_board(executor: str) -> Any:
    """The board the local executor's gates wait on, for ``executor == "local"`` and for the names it was made
    for on a plugin's pool (``DaskExecutor(name=...)``; a pool plugin answers for its default name itself, since
    ``loom run --signal`` sends before the executor is made).
    """
    if executor != "local" and executor not in _POOLED:
        return None
    from taskloom_local.gates import BOARD

    return BOARD


@hookimpl
def taskloom_cli_commands() -> list[Any]:
    """``loom cache list|clear`` and ``loom executions list|show|prune``."""
    from taskloom_local.cli import cache_command, executions_command

    return [cache_command, executions_command]


@hookimpl
def taskloom_execution_directory(execution_id: str) -> str | None:
    """The execution's directory in the execution store, where decks of its nodes go (None when runs
    are not recorded: ``TASKLOOM_RECORD=0``)."""
    from taskloom_local.store import ExecutionStore, recording_enabled  # only tasks with decks ask

    if not recording_enabled():
        return None
    return ExecutionStore().execution_directory(execution_id)


@hookimpl
def taskloom_progress_display(stream: Any, interactive: bool) -> Any:
    """The standard display of ``loom run``: a status redrawn in place on a terminal, else plain lines."""
    from taskloom_local.progress import ProgressDisplay

    return ProgressDisplay(stream, interactive)


#: The protocols this plugin serves, with fsspec's filesystems.
PROTOCOLS = ("file", "memory")


@hookimpl
def taskloom_filesystem(protocol: str) -> Any:
    """fsspec's local and in-memory filesystems for ``file://`` and ``memory://`` URIs."""
    if protocol not in PROTOCOLS:
        return None
    import fsspec

    if protocol == "file":  # writing under a new prefix makes its directories, as object stores do
        return fsspec.filesystem("file", auto_mkdir=True)
    return fsspec.filesystem(protocol)
