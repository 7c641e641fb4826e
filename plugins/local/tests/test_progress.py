"""The standard progress display of ``loom run``, driven with lifecycle events."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from taskloom import task, workflow
from taskloom.core.events import ExecutionEvent, NodeEvent
from taskloom_local.progress import CHILD_LINES, ProgressDisplay

T0 = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
RUN = "x1"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Events:
    """Sends the events of one execution to a display, at chosen times."""

    def __init__(self, display: ProgressDisplay, execution: str = RUN) -> None:
        self.display = display
        self.execution = execution

    def start(self, nodes: int, t: float = 0.0) -> None:
        self.display.taskloom_execution_started(
            ExecutionEvent(self.execution, "demo.wf", "workflow", nodes, time=at(t))
        )

    def finish(self, t: float, error: BaseException | None = None) -> None:
        self.display.taskloom_execution_finished(
            ExecutionEvent(self.execution, "demo.wf", "workflow", time=at(t), error=error)
        )

    def started(self, path: str, entity: str = "demo.t", parent: str | None = None, t: float = 0.0) -> None:
        self.display.taskloom_node_started(NodeEvent(self.execution, path, entity, parent, time=at(t)))

    def expanded(self, path: str, children: int, entity: str = "demo.map", t: float = 0.0) -> None:
        self.display.taskloom_node_expanded(NodeEvent(self.execution, path, entity, time=at(t), children=children))

    def retried(
        self, path: str, error: BaseException, entity: str = "demo.t", parent: str | None = None, t: float = 0.0
    ) -> None:
        self.display.taskloom_node_retried(NodeEvent(self.execution, path, entity, parent, 1, time=at(t), error=error))

    def finished(
        self,
        path: str,
        entity: str = "demo.t",
        parent: str | None = None,
        t: float = 0.0,
        error: BaseException | None = None,
        cached: bool = False,
    ) -> None:
        self.display.taskloom_node_finished(
            NodeEvent(self.execution, path, entity, parent, time=at(t), error=error, cached=cached)
        )


def plain() -> tuple[ProgressDisplay, io.StringIO, Events]:
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=False)
    return display, stream, Events(display)


def lines_of(stream: io.StringIO) -> list[str]:
    """The plain lines written, without their time stamps."""
    lines = stream.getvalue().splitlines()
    assert all(re.match(r"\[\d\d:\d\d:\d\d\] ", line) for line in lines), lines
    return [line[11:] for line in lines]


def test_the_status_counts_top_level_nodes_done_running_and_failed_of_the_total():
    display, _, events = plain()
    events.start(nodes=4)
    events.started("n0")
    events.finished("n0", t=0.1)
    events.started("n1", entity="demo.slow")
    events.started("n2")
    events.finished("n2", t=0.2, error=ValueError("bad"))
    header, running = display.status_lines()
    assert header.endswith("  nodes: 1/4 done, 1 running, 1 failed  (workflow demo.wf)")
    assert running == "  running: n1 demo.slow"


def test_map_elements_are_counted_under_the_map_node_not_as_nodes():
    display, _, events = plain()
    events.start(nodes=2)
    events.started("n0", entity="demo.map")
    for index in range(10):
        events.started(f"n0-{index}", parent="n0")
    for index in range(6):
        events.finished(f"n0-{index}", parent="n0", t=0.1)
    events.finished("n0-6", parent="n0", t=0.1, error=ValueError("bad element"))
    header, detail, running = display.status_lines()
    assert "nodes: 0/2 done, 1 running, 0 failed" in header
    assert detail == "  n0 demo.map: 6 done, 1 failed, 3 running"
    assert running == "  running: n0 demo.map"


def test_nodes_of_a_subworkflow_are_shown_but_only_the_subworkflow_node_is_top_level():
    display, stream, events = plain()
    events.start(nodes=2)
    events.started("n0", entity="demo.sub")
    events.started("n0-n0", entity="demo.inner")
    assert "nodes: 0/2 done, 1 running" in display.status_lines()[0]
    assert display.status_lines()[-1] == "  running: n0 demo.sub, n0-n0 demo.inner"
    events.finished("n0-n0", entity="demo.inner", t=0.5)
    events.finished("n0", entity="demo.sub", t=0.5)
    assert "nodes: 1/2 done, 0 running" in display.status_lines()[0]
    assert "n0-n0 demo.inner finished in 0.5 s" in lines_of(stream)


def test_the_nodes_of_a_subworkflow_run_as_a_child_count_as_children_of_the_shown_node():
    display, stream, events = plain()
    events.start(nodes=1)
    events.started("n0", entity="demo.dynamic")
    events.started("n0-n0", entity="demo.sub", parent="n0")  # a node of the dynamic graph
    events.started("n0-n0-n0", entity="demo.inner")  # a node inside that subworkflow
    assert display.status_lines()[1] == "  n0 demo.dynamic: 0 done, 0 failed, 2 running"
    events.finished("n0-n0-n0", entity="demo.inner", t=0.1)
    events.finished("n0-n0", entity="demo.sub", parent="n0", t=0.1)
    assert display.status_lines()[1] == "  n0 demo.dynamic: 2 done, 0 failed, 0 running"
    assert not any("n0-n0" in line for line in lines_of(stream))


def test_plain_lines_tell_each_node_started_finished_retried_failed_and_a_summary():
    _, stream, events = plain()
    events.start(nodes=3)
    events.started("n0")
    events.finished("n0", t=0.3)
    events.started("n1", entity="demo.cached", t=0.3)
    events.finished("n1", entity="demo.cached", t=0.3, cached=True)
    events.started("n2", t=0.3)
    events.retried("n2", ValueError("flaky\nmore detail"), t=0.4)
    error = ValueError("bad")
    events.finished("n2", t=0.5, error=error)
    events.finish(t=1.0, error=error)
    assert lines_of(stream) == [
        "workflow demo.wf started (3 nodes)",
        "n0 demo.t started",
        "n0 demo.t finished in 0.3 s",
        "n1 demo.cached started",
        "n1 demo.cached finished in 0.0 s (cached)",
        "n2 demo.t started",
        "n2 demo.t retry 1: ValueError: flaky",
        "n2 demo.t failed: ValueError: bad",
        "workflow demo.wf failed in 1.0 s: 2 of 3 nodes done, 1 cached, 1 failed",
    ]


def test_a_map_prints_a_progress_line_per_interval_not_a_line_per_element():
    stream = io.StringIO()
    events = Events(ProgressDisplay(stream, interactive=False, progress_seconds=5.0))
    events.start(nodes=1)
    events.started("n0", entity="demo.map")
    for index in range(1000):  # one element finishing every 10 ms, for 10 s
        events.started(f"n0-{index}", parent="n0", t=index / 100)
        events.finished(f"n0-{index}", parent="n0", t=(index + 1) / 100)
    events.finished("n0", entity="demo.map", t=10.0)
    events.finish(t=10.0)
    lines = lines_of(stream)
    assert lines == [
        "workflow demo.wf started (1 node)",
        "n0 demo.map started",
        "n0 demo.map: 500 done, 0 failed, 0 running",
        "n0 demo.map: 1000 done, 0 failed, 0 running",
        "n0 demo.map finished in 10.0 s, 1000 children (0 failed)",
        "workflow demo.wf succeeded in 10.0 s: 1 of 1 node done, 1000 children (0 failed)",
    ]


def test_a_map_that_announces_its_elements_prints_a_line_per_tenth_of_them():
    stream = io.StringIO()
    events = Events(ProgressDisplay(stream, interactive=False, progress_seconds=5.0))
    events.start(nodes=1)
    events.started("n0", entity="demo.map")
    events.expanded("n0", 50)
    for index in range(50):
        events.started(f"n0-{index}", parent="n0")
        events.finished(f"n0-{index}", parent="n0")
    progress = [line for line in lines_of(stream) if line.startswith("n0 demo.map: ")]
    assert progress[0] == "n0 demo.map: 5 of 50 done, 0 failed, 0 running"
    assert progress[-1] == "n0 demo.map: 50 of 50 done, 0 failed, 0 running" and len(progress) == 10


def test_only_the_first_failures_of_children_are_printed_the_rest_are_counted():
    _, stream, events = plain()
    events.start(nodes=1)
    events.started("n0", entity="demo.map")
    for index in range(10):
        events.started(f"n0-{index}", parent="n0")
        events.finished(f"n0-{index}", parent="n0", t=0.1, error=ValueError(f"no {index}"))
    error = RuntimeError("map failed")
    events.finished("n0", entity="demo.map", t=0.2, error=error)
    events.finish(t=0.2, error=error)
    lines = lines_of(stream)
    failures = [line for line in lines if line.startswith("n0-")]
    assert len(failures) == CHILD_LINES
    assert failures[0] == "n0-0 demo.t failed: ValueError: no 0"
    assert failures[-1].endswith("(further ones are counted, not shown)")
    assert lines[-1] == "workflow demo.wf failed in 0.2 s: 0 of 1 node done, 1 failed, 10 children (10 failed)"


def test_events_of_another_execution_are_ignored():
    display, stream, events = plain()
    events.start(nodes=1)
    other = Events(display, execution="x2")
    other.start(nodes=5)  # a workflow run from inside a task
    other.started("n0")
    other.finished("n0")
    other.finish(t=0.1)
    assert lines_of(stream) == ["workflow demo.wf started (1 node)"]
    assert "nodes: 0/1 done, 0 running" in display.status_lines()[0]


def test_live_status_is_redrawn_in_place_fitted_to_the_width_and_ends_with_a_summary():
    stream = io.StringIO()
    display = ProgressDisplay(stream, interactive=True, width=40)
    events = Events(display)
    events.start(nodes=2)
    events.started("n0", entity="demo.a_task_with_a_name_far_too_long_for_forty_columns")
    events.started("n1")
    events.finished("n1", t=0.2, error=ValueError("bad"))  # printed above the status, which is redrawn
    events.finished("n0", entity="demo.a_task_with_a_name_far_too_long_for_forty_columns", t=0.3)
    events.finish(t=0.3, error=ValueError("bad"))
    output = stream.getvalue()
    assert "\r\x1b[J" in output  # the status erased before the failure and the summary
    assert re.search(r"\x1b\[\d+A", output)  # a status of several lines: the cursor goes back up
    pieces = re.split(r"\r|\n|\x1b\[\d*[AJ]", output)
    assert "  running: n0 demo.a_task_with_a_nam..." in pieces
    assert "0.0 s  nodes: 0/2 done, 0 running, 0..." in pieces
    status = [piece for piece in pieces if piece.startswith(("0.", "  "))]
    assert status and all(len(piece) <= 39 for piece in status)
    assert any(re.fullmatch(r"\[\d\d:\d\d:\d\d\] n1 demo.t failed: ValueError: bad", piece) for piece in pieces)
    assert output.endswith("\x1b[Jworkflow demo.wf failed in 0.3 s: 1 of 2 nodes done, 1 failed\n")


@task
def double(x: int) -> int:
    return 2 * x


def test_the_display_follows_a_real_run_of_the_local_executor(taskloom_plugins, monkeypatch):
    from taskloom import PythonInstanceTask
    from taskloom.core.executor import task_runner

    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)

    class FanOut(PythonInstanceTask):
        def execute(self, n: int) -> int:
            with task_runner() as runner:
                futures = [runner.submit(double, {"x": i}, name=str(i)) for i in range(n)]
                return sum(future.result()["o0"] for future in futures)

    fan_out = FanOut("demo.fan_out", None, inputs={"n": int}, outputs={"o0": int})

    @workflow
    def wf(n: int) -> int:
        return double(x=fan_out(n=n))

    stream = io.StringIO()
    taskloom_plugins.register(ProgressDisplay(stream, interactive=False), name="progress")
    assert wf(n=20) == 2 * sum(2 * i for i in range(20))
    lines = lines_of(stream)
    assert lines[0] == f"workflow {wf.name} started (2 nodes)"
    assert lines[1:3] == ["n0 demo.fan_out started", "n0 demo.fan_out finished in " + lines[2].split(" in ")[1]]
    assert lines[2].endswith("20 children (0 failed)")
    assert not any(line.startswith("n0-") for line in lines)
    assert re.fullmatch(
        rf"workflow {wf.name} succeeded in \d+\.\d s: 2 of 2 nodes done, 20 children \(0 failed\)", lines[-1]
    )


def test_taskloom_local_answers_the_progress_display_hook(taskloom_plugins):
    stream = io.StringIO()
    answer = taskloom_plugins.hook.taskloom_progress_display(stream=stream, interactive=False)
    assert isinstance(answer, ProgressDisplay)


@pytest.mark.parametrize(
    "seconds, shown", [(0.04, "0.0 s"), (59.94, "59.9 s"), (125, "2 min 05 s"), (7260, "2 h 01 min")]
)
def test_durations_are_short_and_readable(seconds, shown):
    from taskloom_local.progress import _duration

    assert _duration(dt.timedelta(seconds=seconds)) == shown
