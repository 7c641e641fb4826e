"""The renderers of decks, at flytekit's path ``flytekit.deck.renderer``.

Each name comes from the plugin that provides it, resolved on first access as :mod:`taskloom.deck`
resolves it: importing this module imports no plugin.
"""

from __future__ import annotations

from typing import Any

_PLUGIN_NAMES = frozenset(
    {"MarkdownRenderer", "SourceCodeRenderer", "TopFrameRenderer", "TableRenderer", "ArrowRenderer"}
)


def __getattr__(name: str) -> Any:
    if name in _PLUGIN_NAMES:
        from taskloom.plugins import get_plugin_manager  # the plugin machinery, only when a plugin name is asked for

        return get_plugin_manager().resolve_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(_PLUGIN_NAMES)
