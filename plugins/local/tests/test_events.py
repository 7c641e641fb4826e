"""Lifecycle events: the local executor announces executions and nodes to listening plugins."""

from __future__ import annotations

import pytest

from taskloom import Cache, current_context, task, workflow
from taskloom.core.events import SILENT, listeners
from taskloom.exceptions.system import PluginWarning
from taskloom.exceptions.user import FlyteRecoverableException
from taskloom.hookspecs import hookimpl


class Recorder:
    """A plugin that records every lifecycle event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    @hookimpl
    def taskloom_execution_started(self, event):
        self.events.append(("execution started", event))

    @hookimpl
    def taskloom_execution_finished(self, event):
        self.events.append(("execution finished", event))

    @hookimpl
    def taskloom_node_started(self, event):
        self.events.append(("node started", event))

    @hookimpl
    def taskloom_node_retried(self, event):
        self.events.append(("node retried", event))

    @hookimpl
    def taskloom_node_finished(self, event):
        self.events.append(("node finished", event))

    @hookimpl
    def taskloom_node_expanded(self, event):
        self.events.append(("node expanded", event))

    def of(self, kind: str) -> list:
        return [event for name, event in self.events if name == kind]


@pytest.fixture
def recorder(taskloom_plugins, monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    plugin = Recorder()
    taskloom_plugins.register(plugin, name="recorder")
    return plugin


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def twice(x: int) -> int:
    return double(x=double(x=x))


def test_nobody_listening_gives_the_silent_announcer():
    assert listeners() is SILENT


def test_a_workflow_run_announces_the_execution_and_each_node(recorder):
    assert twice(x=1) == 4
    names = [name for name, _ in recorder.events]
    assert names == [
        "execution started",
        "node started",
        "node finished",
        "node started",
        "node finished",
        "execution finished",
    ]
    started, finished = recorder.of("execution started")[0], recorder.of("execution finished")[0]
    assert started.kind == "workflow" and started.nodes == 2 and started.entity == twice.name
    assert finished.error is None and finished.execution_id == started.execution_id
    assert [event.path for event in recorder.of("node finished")] == ["n0", "n1"]
    assert all(event.parent is None and event.error is None for event in recorder.of("node finished"))


def test_a_retry_and_a_failure_are_announced_with_their_errors(recorder):
    @task(retries=1)
    def flaky(x: int) -> int:
        if current_context().attempt == 0:
            raise FlyteRecoverableException("once")
        raise ValueError("twice")

    @workflow
    def wf(x: int) -> int:
        return flaky(x=x)

    with pytest.raises(ValueError, match="twice"):
        wf(x=1)
    (retried,) = recorder.of("node retried")
    assert retried.attempt == 1 and isinstance(retried.error, FlyteRecoverableException)
    (finished,) = recorder.of("node finished")
    assert isinstance(finished.error, ValueError)
    assert isinstance(recorder.of("execution finished")[0].error, ValueError)


def test_children_name_the_node_that_started_them(recorder):
    from taskloom import PythonInstanceTask
    from taskloom.core.executor import task_runner

    class FanOut(PythonInstanceTask):
        def execute(self, n: int) -> int:
            with task_runner() as runner:
                return sum(runner.run(double, {"x": i}, name=str(i))["o0"] for i in range(n))

    fan_out = FanOut("fan_out", None, inputs={"n": int}, outputs={"o0": int})

    @workflow
    def wf(n: int) -> int:
        return fan_out(n=n)

    assert wf(n=3) == 6
    children = [event for event in recorder.of("node finished") if event.parent is not None]
    assert [(event.path, event.parent) for event in children] == [("n0-0", "n0"), ("n0-1", "n0"), ("n0-2", "n0")]


def test_a_cache_hit_is_announced_as_cached(recorder, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.db"))

    @task(cache=Cache(version="1"))
    def cached(x: int) -> int:
        return x + 1

    @workflow
    def wf(x: int) -> int:
        return cached(x=x)

    wf(x=1)
    wf(x=1)
    assert [event.cached for event in recorder.of("node finished")] == [False, True]


def test_a_listener_that_raises_is_reported_and_the_run_goes_on(taskloom_plugins, monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)

    class Broken:
        @hookimpl
        def taskloom_node_started(self, event):
            raise RuntimeError("listener broke")

    taskloom_plugins.register(Broken(), name="broken-listener")
    with pytest.warns(PluginWarning, match="broken-listener.*listener broke"):
        assert twice(x=2) == 8


def test_a_map_announces_how_many_elements_it_starts(recorder):
    from taskloom import map_task

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(double)(x=xs)

    assert wf(xs=[1, 2, 3]) == [2, 4, 6]
    (expanded,) = recorder.of("node expanded")
    assert (expanded.path, expanded.children) == ("n0", 3)
    names = [name for name, _ in recorder.events]
    assert names.index("node expanded") < names.index("node finished")
