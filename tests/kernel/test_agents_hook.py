"""Agents come from plugins through the hook taskloom_agents (everyone contributes), read with
taskloom.extend.contributed_agents; the kernel runs none itself."""

from __future__ import annotations

from types import SimpleNamespace

from taskloom.extend import contributed_agents, hookimpl


def test_no_plugin_contributes_no_agent(bare_plugins):
    assert contributed_agents() == []


def test_every_plugin_contributes_and_the_one_asked_first_comes_first(bare_plugins):
    bare_plugins.register(SimpleNamespace(taskloom_agents=hookimpl(lambda: ["older-a", "older-b"])), name="older")
    bare_plugins.register(SimpleNamespace(taskloom_agents=hookimpl(lambda: None)), name="none")
    bare_plugins.register(SimpleNamespace(taskloom_agents=hookimpl(lambda: ["newer"])), name="newer")
    assert contributed_agents() == ["newer", "older-a", "older-b"]
