"""pytest fixtures shipped with the kernel (registered through the ``pytest11`` entry point).

``taskloom_plugins`` gives a test its own plugin manager, discovering the installed plugins as
usual, and restores the previous one afterwards, so a test can register, declare or disable plugins
without touching global state::

    def test_my_transformer_wins(taskloom_plugins):
        taskloom_plugins.register(MyIntPlugin(), name="my-int")
        assert TypeEngine.get_transformer(int).name == "my-int"

``taskloom_private_state`` points the task cache and the execution store at a directory of the test session
(``TASKLOOM_DATA_DIR``, ``TASKLOOM_CACHE_PATH``), not the user's, and restores the variables afterwards; a
plugin's ``conftest.py`` makes it apply to every test with a session fixture of its own that asks for it.
"""

from __future__ import annotations

from pathlib import Path
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


@pytest.fixture(scope="session")
def taskloom_private_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory of this test session holding the task cache (``cache.db``) and the execution store (``data``),
    set in ``TASKLOOM_CACHE_PATH`` and ``TASKLOOM_DATA_DIR`` until the session ends (then restored)."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:  # pytest's own restoring, at the session's scope
        patch.setenv("TASKLOOM_DATA_DIR", str(state / "data"))
        patch.setenv("TASKLOOM_CACHE_PATH", str(state / "cache.db"))
        yield state
