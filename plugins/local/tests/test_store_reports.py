"""What the execution store keeps for reports (taskloom-report): the graph's shape, tracebacks, cache hits and
misses, short previews of outputs, children's durations as a histogram, logs when asked; and stores made before
keep working."""

from __future__ import annotations

import json
import logging
import os
import sqlite3

import pytest

from taskloom import map_task, task, workflow
from taskloom_local import logs, recorder
from taskloom_local.store import TRACEBACK_CHARS, ExecutionStore


@pytest.fixture(autouse=True)
def private_store(monkeypatch, tmp_path):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.delenv("TASKLOOM_RECORD", raising=False)
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.sqlite"))
    return ExecutionStore(str(tmp_path / "data"))


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no")


@task
def shout(text: str) -> str:
    return text.upper() * 100_000


@task
def length(text: str, extra: int) -> int:
    return len(text) + extra


@task
def deep_failure(x: int) -> int:
    def inner() -> int:
        raise ValueError(f"<script>bad {x}</script>")

    return inner()


@task(cache=True, cache_version="1")
def cached_increment(x: int) -> int:
    return x + 1


@task
def square(x: int) -> int:
    if x == 7:
        raise ValueError("seven")
    return x * x


@workflow
def shouting(text: str) -> int:
    return length(text=shout(text=text), extra=2)


@workflow
def failing(x: int) -> int:
    return deep_failure(x=x)


@workflow
def cached(x: int) -> int:
    return cached_increment(x=x)


@workflow
def mapped(values: list[int]) -> list[int]:
    return map_task(square)(x=values)


@workflow
def mapped_tolerant(values: list[int]) -> list[int | None]:
    return map_task(square, min_success_ratio=0.5)(x=values)


def last(store: ExecutionStore):
    record = store.executions(1)[0]
    return record, {node.path: node for node in store.nodes(record.id)}


def test_the_graph_is_recorded_with_what_each_node_runs_and_where_its_inputs_come_from(private_store):
    shouting(text="hi")
    record, _ = last(private_store)
    nodes = {node["id"]: node for node in json.loads(record.shape)["nodes"]}
    assert nodes["n0"]["entity"] == shout.name and nodes["n0"]["kind"] == "task"
    assert nodes["n0"]["inputs"] == {"text": ["start-node", "text"]} and nodes["n0"]["upstream"] == []
    assert nodes["n1"]["upstream"] == ["n0"]
    assert nodes["n1"]["inputs"] == {"text": ["n0", "o0"], "extra": "2"}


def test_a_map_is_one_node_of_the_graph_and_its_elements_durations_a_histogram(private_store):
    mapped_tolerant(values=list(range(1000)))
    record, nodes = last(private_store)
    shape = json.loads(record.shape)["nodes"]
    assert [node["kind"] for node in shape] == ["map"]
    histogram = json.loads(nodes["n0"].elements)
    assert len(histogram["succeeded"]) == recorder.HISTOGRAM_BARS
    assert (sum(histogram["succeeded"]), sum(histogram["failed"])) == (999, 1)
    assert 0 <= histogram["low"] <= histogram["high"]
    assert len(nodes["n0"].elements) < 1000  # compact: not one number per element
    # The failed element's row keeps its traceback.
    assert "ValueError: seven" in nodes["n0-7"].traceback


def test_a_histogram_of_durations_far_apart_has_bars_of_equal_ratio():
    quick = json.loads(recorder.element_summary([0.001] * 98 + [1.0], [0.5]))
    assert quick["scale"] == "log" and (quick["low"], quick["high"]) == (0.001, 1.0)
    assert quick["succeeded"][0] == 98 and quick["succeeded"][-1] == 1 and sum(quick["failed"][10:19]) == 1
    even = json.loads(recorder.element_summary([1.0, 1.5, 2.0], []))
    assert even["scale"] == "linear" and even["succeeded"][0] == 1 and even["succeeded"][10] == 1
    assert even["succeeded"][-1] == 1
    assert recorder.element_summary([], []) is None
    same = json.loads(recorder.element_summary([0.0, 0.0], [0.0]))  # no spread: one bar
    assert (same["succeeded"][0], same["failed"][0]) == (2, 1)


def test_outputs_are_recorded_as_short_previews_never_whole(private_store):
    shouting(text="a" * 10)
    _, nodes = last(private_store)
    previews = json.loads(nodes["n0"].previews)
    assert previews["o0"].startswith("'AAAA") and len(previews["o0"]) <= recorder.PREVIEW_CHARS
    assert json.loads(nodes["n1"].previews) == {"o0": str(10 * 100_000 + 2)}


def test_a_preview_of_a_value_whose_repr_fails_says_so():
    assert recorder.preview(Unprintable()).startswith("<Unprintable")  # reprlib's "instance at 0x..."
    assert len(recorder.preview(list(range(100_000)))) <= recorder.PREVIEW_CHARS
    assert recorder.preview({"a": [1, 2]}) == "{'a': [1, 2]}"


def test_a_failed_node_keeps_its_traceback(private_store):
    with pytest.raises(ValueError):
        failing(x=3)
    _, nodes = last(private_store)
    text = nodes["n0"].traceback
    assert text.startswith("Traceback (most recent call last):")
    assert "in inner" in text and "\nValueError: <script>bad 3</script>\n" in text


def test_a_long_traceback_keeps_its_end():
    def nested(depth: int) -> None:
        if depth == 0:
            raise ValueError("the bottom")
        nested(depth - 1)

    with pytest.raises(ValueError) as raised:
        nested(400)
    text = recorder.describe_traceback(raised.value)
    assert len(text) <= TRACEBACK_CHARS + 1 and text.endswith("ValueError: the bottom\n")


def test_cache_misses_and_hits_are_recorded(private_store):
    cached(x=1)
    _, first = last(private_store)
    cached(x=1)
    _, second = last(private_store)
    assert (first["n0"].cache, second["n0"].cache) == ("miss", "hit")
    shouting(text="x")
    _, uncached = last(private_store)
    assert uncached["n0"].cache is None


def test_a_store_made_before_the_report_columns_gets_them(private_store):
    os.makedirs(private_store.directory)
    with sqlite3.connect(private_store.path) as connection:
        connection.execute(
            "CREATE TABLE executions (id TEXT PRIMARY KEY, entity TEXT NOT NULL, kind TEXT NOT NULL, "
            "module TEXT, file TEXT, status TEXT NOT NULL, started REAL NOT NULL, finished REAL, error TEXT, "
            "inputs TEXT, outputs TEXT, note TEXT, host TEXT, pid INTEGER, resumes INTEGER NOT NULL DEFAULT 0, "
            "graph TEXT)"
        )
        connection.execute(
            "CREATE TABLE nodes (execution TEXT NOT NULL, path TEXT NOT NULL, parent TEXT, entity TEXT NOT NULL, "
            "status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1, started REAL, finished REAL, error TEXT, "
            "outputs TEXT, outputs_state TEXT, fingerprint TEXT, children_succeeded INTEGER, "
            "children_failed INTEGER, PRIMARY KEY (execution, path)) WITHOUT ROWID"
        )
        connection.execute(
            "INSERT INTO executions (id, entity, kind, status, started) VALUES ('old', 'flows.old', 'workflow', "
            "'succeeded', 1.0)"
        )
    with pytest.raises(ValueError):
        failing(x=1)
    record, nodes = last(private_store)
    assert json.loads(record.shape)["nodes"][0]["id"] == "n0" and "ValueError" in nodes["n0"].traceback
    old = private_store.execution("old")
    assert old is not None and old.shape is None


@task
def chatty(x: int) -> int:
    print(f"printing {x}")
    logging.getLogger("chatty").warning("warned about %s", x)
    logging.getLogger("chatty").debug("not shown: below the logger's level")
    return x


@task
def flood(x: int) -> int:
    for index in range(x):
        print(f"line {index:06d}")
    raise ValueError("flooded")


@workflow
def chatting(x: int) -> int:
    return chatty(x=chatty(x=x))


@workflow
def flooding(x: int) -> int:
    return flood(x=x)


def test_nodes_logs_are_kept_when_the_run_asks_for_them(private_store, monkeypatch, capsys):
    monkeypatch.setenv("TASKLOOM_CAPTURE_LOGS", "1")
    chatting(x=5)
    _, nodes = last(private_store)
    assert nodes["n0"].logs == "printing 5\nWARNING chatty: warned about 5\n"
    assert nodes["n1"].logs == "printing 5\nWARNING chatty: warned about 5\n"
    assert "printing 5" in capsys.readouterr().out  # still written where it was going


def test_a_nodes_log_is_bounded_and_keeps_its_end(private_store, monkeypatch, capsys):
    monkeypatch.setenv("TASKLOOM_CAPTURE_LOGS", "1")
    with pytest.raises(ValueError, match="flooded"):
        flooding(x=20_000)
    capsys.readouterr()
    _, nodes = last(private_store)
    text = nodes["n0"].logs
    first, kept = text.split("\n", 1)
    assert first.startswith("[") and first.endswith(" earlier characters left out]")
    assert len(kept) == logs.NODE_LOG_CHARS and kept.endswith("line 019999\n")


def test_logs_are_not_kept_unless_asked(private_store, monkeypatch):
    monkeypatch.delenv("TASKLOOM_CAPTURE_LOGS", raising=False)
    chatting(x=1)
    _, nodes = last(private_store)
    assert nodes["n0"].logs is None and nodes["n1"].logs is None


def test_logs_of_bodies_run_in_worker_processes_are_kept_too(private_store, monkeypatch):
    from taskloom_local.executor import LocalExecutor

    monkeypatch.setenv("TASKLOOM_CAPTURE_LOGS", "1")
    executor = LocalExecutor(processes=2)
    try:
        executor.execute(chatting, {"x": 3})
        with pytest.raises(ValueError, match="flooded"):
            executor.execute(flooding, {"x": 3})
    finally:
        executor.close()
    runs = private_store.executions(2)
    failed = {node.path: node for node in private_store.nodes(runs[0].id)}
    succeeded = {node.path: node for node in private_store.nodes(runs[1].id)}
    assert succeeded["n0"].logs == "printing 3\nWARNING chatty: warned about 3\n"  # printed in a worker process
    assert failed["n0"].logs == "line 000000\nline 000001\nline 000002\n"  # a failed body's output comes back too


def test_a_map_run_in_batches_on_worker_processes_has_its_histogram_too(private_store):
    from taskloom_local.executor import LocalExecutor

    executor = LocalExecutor(processes=2)
    try:
        executor.execute(mapped_tolerant, {"values": list(range(300))})
    finally:
        executor.close()
    _, nodes = last(private_store)
    histogram = json.loads(nodes["n0"].elements)
    assert (sum(histogram["succeeded"]), sum(histogram["failed"])) == (299, 1)
    assert histogram["high"] > 0
