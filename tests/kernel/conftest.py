"""Fixtures for kernel tests that must not see the plugins installed in the environment."""

from __future__ import annotations

from typing import Iterator

import pytest

from taskloom.plugins import PluginManager, set_plugin_manager


@pytest.fixture
def bare_plugins() -> Iterator[PluginManager]:
    """A plugin manager that discovers nothing: only what the test registers exists."""
    manager = PluginManager(discover=False)
    previous = set_plugin_manager(manager)
    try:
        yield manager
    finally:
        set_plugin_manager(previous)
