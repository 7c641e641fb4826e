"""flytekit's ``flytekit.types.schema`` path. ``FlyteSchema`` (deprecated in flytekit in favour of
``StructuredDataset``) comes from taskloom-arrow, which refuses it where a task is declared, naming the
replacement; it is resolved lazily so that this module imports nothing."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "FlyteSchema":
        from taskloom.plugins import get_plugin_manager  # the plugin machinery, only when the name is asked for

        return get_plugin_manager().resolve_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
