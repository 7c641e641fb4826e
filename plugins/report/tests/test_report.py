"""The execution report: written by ``loom run --report`` and ``loom report`` from the execution store, one
self-contained page whose data no run's text can break out of; clear outcomes when it cannot be written."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from pathlib import Path

import pytest
import taskloom_local
from plugins.report.tests.conftest import loom
from plugins.report.tests.report_flows import HOSTILE
from taskloom import task, workflow

from taskloom_report.execution_report import ReportError, render, report_data, write_report


def page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_loom_run_report_writes_the_report_when_the_run_ends(twenty):
    assert twenty.run.returncode == 1  # the workflow fails, as it should
    assert f"Wrote the report of execution {twenty.execution_id} to {twenty.report}" in twenty.run.stderr
    data = page_data(twenty.report.read_text())
    assert data["execution"]["id"] == twenty.execution_id and data["execution"]["state"] == "failed"


def test_loom_report_writes_the_same_page_for_a_recorded_execution(twenty, tmp_path):
    target = tmp_path / "again.html"
    done = loom(["report", twenty.execution_id, "-o", str(target)], twenty.data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Wrote the report of execution {twenty.execution_id} to {target}"
    nodes = {node["path"]: node for node in page_data(target.read_text())["nodes"]}
    assert len(nodes) == 20
    assert nodes["n18"]["state"] == "failed" and "no luck with 4" in nodes["n18"]["error"]
    assert "Traceback (most recent call last)" in nodes["n18"]["traceback"]
    # --report turned the capture of logs on: what boom printed and logged, as text.
    assert nodes["n18"]["logs"] == f"trying 4 with {HOSTILE}\nWARNING report_flows: about to fail: {HOSTILE}\n"
    assert nodes["n0"]["logs"] is None
    assert nodes["n19"]["state"] == "not run"
    assert (nodes["n2"]["cache"], nodes["n3"]["cache"]) == ("miss", "hit")
    assert nodes["n1"]["kind"] == "map" and nodes["n1"]["children"] == {"succeeded": 4, "failed": 0}
    assert sum(nodes["n1"]["elements"]["succeeded"]) == 4
    assert nodes["n4"]["inputs"]["x"] == "n0.o0 = 3" and nodes["n4"]["outputs"]["o0"].endswith(" 3'")
    assert nodes["n4"]["inputs"]["label"].startswith("workflow input label = '</script>")


def test_the_page_fetches_nothing_and_no_run_text_can_end_its_script_elements(twenty):
    page = twenty.report.read_text()
    assert "default-src 'none'" in page
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=", page.split('id="report-data">')[0])
    assert page.count("</script>") == 2  # the data's and the script's own: the hostile text is escaped
    assert "\\u003c/script\\u003e\\u003cscript\\u003ewindow.injected=1" in page
    assert HOSTILE in page_data(page)["execution"]["error"]  # and reads back whole


def test_a_deck_file_in_the_execution_directory_is_linked_from_its_node(twenty, tmp_path):
    store = taskloom_local.ExecutionStore(str(twenty.data / "store"))
    decks = Path(store.execution_directory(twenty.execution_id)) / "decks"
    decks.mkdir(exist_ok=True)
    (decks / "n4.html").write_text("<html>deck</html>")
    nodes = {node["path"]: node for node in report_data(store, twenty.execution_id)["nodes"]}
    assert nodes["n4"]["deck"] == (decks / "n4.html").as_uri()
    assert nodes["n5"]["deck"] is None


def test_an_unknown_execution_is_one_line(twenty, tmp_path):
    done = loom(["report", "l-nope", "-o", str(tmp_path / "x.html")], twenty.data)
    assert done.returncode == 1 and not (tmp_path / "x.html").exists()
    assert done.stderr.strip().splitlines() == [
        f"Error: no execution 'l-nope' is recorded in {twenty.data / 'store'} (loom executions list shows those "
        "that are)"
    ]


def test_a_store_that_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "executions.sqlite").write_bytes(b"this is no database" * 100)
    done = loom(["report", "l1", "-o", str(tmp_path / "x.html")], tmp_path)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: the execution store ") and "cannot be read" in line


def test_an_output_that_cannot_be_written_is_one_line(twenty, tmp_path):
    with pytest.raises(ReportError, match=f"the report of execution '{twenty.execution_id}' cannot be written"):
        write_report(twenty.execution_id, tmp_path / "missing" / "dir" / "x.html", str(twenty.data / "store"))


def test_a_damaged_graph_column_falls_back_to_the_rows(twenty):
    store = taskloom_local.ExecutionStore(str(twenty.data / "store"))
    record = store.execution(twenty.execution_id)
    with sqlite3.connect(store.path) as connection:
        connection.execute("UPDATE executions SET shape = '{not json' WHERE id = ?", (twenty.execution_id,))
    try:
        nodes = report_data(store, twenty.execution_id)["nodes"]
        assert len(nodes) == 19  # every node with a row (n19 never ran), none linked
        assert all(node["upstream"] == [] for node in nodes)
    finally:
        with sqlite3.connect(store.path) as connection:
            connection.execute("UPDATE executions SET shape = ? WHERE id = ?", (record.shape, twenty.execution_id))


RELEASE = threading.Event()


@task
def waits() -> int:
    RELEASE.wait(30)
    return 1


@task
def after(x: int) -> int:
    return x + 1


@workflow
def slow() -> int:
    return after(x=waits())


def test_an_execution_still_running_is_reported_as_running(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("TASKLOOM_RECORD", raising=False)
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    RELEASE.clear()
    runner = threading.Thread(target=slow)
    runner.start()
    try:
        store = taskloom_local.ExecutionStore(str(tmp_path / "store"))
        for _ in range(200):
            if store.executions(1):
                break
            threading.Event().wait(0.02)
        [record] = store.executions(1)
        data = report_data(store, record.id)
        page = render(data)
    finally:
        RELEASE.set()
        runner.join(30)
    assert data["execution"]["state"] == "running" and data["execution"]["finished"] is None
    states = {node["path"]: node["state"] for node in data["nodes"]}
    assert states == {"n0": "running", "n1": "running"}  # started, or not yet: both part of a running run
    assert "still running when this report was written" in page


def test_the_report_is_built_from_the_store_for_a_run_from_python(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("TASKLOOM_RECORD", raising=False)
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    from plugins.report.tests.report_flows import big_map

    assert len(big_map(n=10_000)) == 10_000
    store = taskloom_local.ExecutionStore(str(tmp_path / "store"))
    target = write_report(store.executions(1)[0].id, tmp_path / "map.html", str(tmp_path / "store"))
    nodes = page_data(target.read_text())["nodes"]
    mapped = next(node for node in nodes if node["kind"] == "map")
    assert mapped["children"] == {"succeeded": 10_000, "failed": 0}
    assert sum(mapped["elements"]["succeeded"]) == 10_000
    # Point 4's bound, as a size (the render time is measured in benchmarks/report.py).
    assert target.stat().st_size < 5 * 1024 * 1024


def test_a_killed_execution_and_the_nodes_it_was_running_are_reported_interrupted(twenty):
    store = taskloom_local.ExecutionStore(str(twenty.data / "store"))
    record = store.execution(twenty.execution_id)
    gone_pid = 4_194_304 + 12_345  # no process has it: Linux pids stay below 2**22
    node = {row.path: row for row in store.nodes(twenty.execution_id)}["n4"]
    with sqlite3.connect(store.path) as connection:
        connection.execute(
            "UPDATE executions SET status = 'running', finished = NULL, pid = ?, host = ? WHERE id = ?",
            (gone_pid, os.uname().nodename, twenty.execution_id),
        )
        connection.execute(
            "UPDATE nodes SET status = 'running', finished = NULL WHERE execution = ? AND path = 'n4'",
            (twenty.execution_id,),
        )
    try:
        data = report_data(store, twenty.execution_id)
    finally:
        with sqlite3.connect(store.path) as connection:
            connection.execute(
                "UPDATE executions SET status = ?, finished = ?, pid = ? WHERE id = ?",
                (record.status, record.finished, record.pid, twenty.execution_id),
            )
            connection.execute(
                "UPDATE nodes SET status = ?, finished = ? WHERE execution = ? AND path = 'n4'",
                (node.status, node.finished, twenty.execution_id),
            )
    assert data["execution"]["state"] == "interrupted"
    nodes = {node["path"]: node for node in data["nodes"]}
    assert nodes["n4"]["state"] == "interrupted"
    assert {bar["path"]: bar["state"] for bar in data["timeline"]}["n4"] == "interrupted"
