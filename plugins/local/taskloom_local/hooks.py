"""The hook implementations of taskloom-local (the entry point ``local = "taskloom_local.hooks"``)."""

from __future__ import annotations

from typing import Any

from taskloom.hookspecs import hookimpl


@hookimpl
def taskloom_executor(name: str) -> Any:
    """The local executor, for ``name == "local"``."""
    if name != "local":
        return None
    from taskloom_local.executor import LocalExecutor

    return LocalExecutor()
