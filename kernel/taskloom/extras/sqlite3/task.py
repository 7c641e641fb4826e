"""flytekit's module of SQLite3Task (``flytekit.extras.sqlite3.task`` ports to ``taskloom.extras.sqlite3.task``).

``SQLite3Task`` and ``SQLite3Config`` come from the plugin that provides them (taskloom-sql), resolved on
first access through the plugin manager exactly as ``taskloom.SQLite3Task`` is: the kernel imports no
plugin, and without taskloom-sql the names raise an ImportError naming the distribution to install.
"""

from __future__ import annotations

from typing import Any

#: Names a plugin provides (``taskloom.names`` entry points), resolved as ``taskloom.NAME`` is.
_PLUGIN_NAMES = frozenset({"SQLite3Task", "SQLite3Config"})


def __getattr__(name: str) -> Any:
    if name in _PLUGIN_NAMES:
        from taskloom.plugins import get_plugin_manager  # the plugin machinery, only when a plugin name is asked for

        return get_plugin_manager().resolve_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_PLUGIN_NAMES)
