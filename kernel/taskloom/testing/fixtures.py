"""pytest fixtures shipped with the kernel (registered through the ``pytest11`` entry point).

``taskloom_plugins`` gives a test its own plugin manager, discovering the installed plugins as
usual, and restores the previous one afterwards, so a test can register, declare or disable plugins
without touching global state::

    def test_my_transformer_wins(taskloom_plugins):
        taskloom_plugins.register(MyIntPlugin(), name="my-int")
        assert TypeEngine.get_transformer(int).name == "my-int"
"""

from __future__ import annotations

from typing import Iterator

import pytest

from taskloom.plugins import PluginManager, set_plugin_manager


@pytest.fixture
def taskloom_plugins() -> Iterator[PluginManager]:
    """A fresh :class:`~taskloom.plugins.PluginManager` installed for the duration of one test.

    Use ``register(obj, name=..., names=..., commands=...)`` to add a plugin object now,
    ``add_entry_point(name, "module", names=...)`` to declare one that is imported lazily, and
    ``disable(name)`` to block one.
    """
    manager = PluginManager()
    previous = set_plugin_manager(manager)
    try:
        yield manager
    finally:
        set_plugin_manager(previous)
