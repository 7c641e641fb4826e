"""The execution report: one self-contained HTML page of what a recorded execution did.

Built from the execution store (taskloom-local's, which every executor using its scheduler writes: local,
process pool, dask, kubernetes), so it works for a run of any of them, finished or still running. The page
holds everything: the data as JSON in a ``<script type="application/json">`` (``<``, ``>``, ``&`` escaped, so no
text from a run can end the element), the script and styles inline, no URL fetched (its Content-Security-Policy
forbids any), and the script renders every text from a run with ``textContent``, never as HTML.

What it shows: the workflow's graph (its top-level nodes; a map is one node, a subworkflow one node whose inner
nodes' rows are listed in its panel), each node coloured by its state with its duration and attempts; a
timeline of the node executions, in lanes so that nodes that ran at the same time do not hide each other; and
per node a panel: inputs and outputs (short previews), error and traceback, logs (when the run captured them),
cache hit or miss, attempts,
children counts and a histogram of their durations, links to its decks.

Decks: a node's deck is ``<execution directory>/decks/<node path>.html``; the report links to it by its
``file:`` URL, so the link works wherever the report is written on this machine (a relative link would break
when the page is moved, and the store is not moved).
"""

from __future__ import annotations

import html
import json
import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

import taskloom_local
from taskloom.extend import UserValueError

from taskloom_report.layout import dag_positions, lanes

#: Rows under one node (failed elements, a subworkflow's nodes) the page lists; the others are counted.
INNER_ROWS = 200
_START = "start-node"


class ReportError(UserValueError):
    """A report cannot be written as asked (an unknown execution, a file that cannot be written)."""


def report_data(store: Any, execution_id: str) -> dict[str, Any]:
    """What the page shows of ``execution_id`` in ``store`` (a :class:`taskloom_local.ExecutionStore`), as JSON data.

    Raises :class:`ReportError` for an unknown id, and the store's ``StoreUnreadable`` for a store that
    cannot be read.
    """
    record = store.execution(execution_id)
    if record is None:
        raise ReportError(
            f"no execution {execution_id!r} is recorded in {store.directory} (loom executions list shows those that are)"
        )
    rows = store.nodes(execution_id)
    directory = store.execution_directory(execution_id)
    state = record.state
    now = time.time()
    shape = _shape(record.shape)
    by_path = {row.path: row for row in rows}
    if shape is None:  # a task run alone, or a run recorded before the graph was kept: the rows' top level
        shape = [
            {"id": row.path, "entity": row.entity, "kind": "task", "upstream": [], "inputs": {}}
            for row in rows
            if row.parent is None and "-" not in row.path
        ]
    ids = {node["id"] for node in shape}
    inner: dict[str, list[Any]] = {}
    for row in rows:
        if row.path not in ids:
            top = row.path.split("-", 1)[0]
            inner.setdefault(top, []).append(row)
    outputs = {node["id"]: _json_dict(by_path[node["id"]].previews) if node["id"] in by_path else {} for node in shape}
    workflow_inputs: dict[str, str] = {}
    if record.inputs:
        try:
            workflow_inputs = store.previews(execution_id, record.inputs)
        except (OSError, ValueError) as error:
            workflow_inputs = {"(inputs)": f"not readable: {error}"}
    positions = dag_positions({node["id"]: node["upstream"] for node in shape})
    nodes = []
    for node in shape:
        row = by_path.get(node["id"])
        layer, place = positions[node["id"]]
        nodes.append(
            {
                **_row_data(row, directory, state, now),
                "path": node["id"],
                "entity": node["entity"],
                "kind": node["kind"],
                "upstream": node["upstream"],
                "layer": layer,
                "row": place,
                "inputs": {
                    name: _input_text(source, outputs, workflow_inputs) for name, source in node["inputs"].items()
                },
                "inner": [
                    {**_row_data(child, directory, state, now), "path": child.path, "entity": child.entity}
                    for child in inner.get(node["id"], [])[:INNER_ROWS]
                ],
                "inner_more": max(0, len(inner.get(node["id"], [])) - INNER_ROWS),
            }
        )
    timed = [
        (row.path, row.started, row.finished if row.finished is not None else (record.finished or now))
        for row in rows
        if row.parent is None and row.started is not None
    ]
    lane_of = lanes(timed)
    timeline = [
        {"path": path, "start": start, "end": end, "lane": lane_of[path], "state": _state(by_path[path], state)}
        for path, start, end in timed
    ]
    return {
        "execution": {
            "id": record.id,
            "entity": record.entity,
            "kind": record.kind,
            "state": state,
            "started": record.started,
            "finished": record.finished,
            "duration": (record.finished or now) - record.started,
            "error": record.error,
            "note": record.note,
            "inputs": workflow_inputs,
            "written": now,
        },
        "nodes": nodes,
        "timeline": timeline,
    }


def _shape(text: str | None) -> list[dict[str, Any]] | None:
    if not text:
        return None
    try:
        nodes = json.loads(text)["nodes"]
    except (ValueError, KeyError, TypeError):
        return None  # a damaged column: drawn from the rows instead
    return nodes if isinstance(nodes, list) else None


def _json_dict(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _row_data(row: Any, directory: str, execution_state: str, now: float) -> dict[str, Any]:
    if row is None:
        return {"state": "running" if execution_state == "running" else "not run"}
    status = _state(row, execution_state)
    deck = os.path.join(directory, "decks", f"{row.path}.html")
    return {
        "state": status,
        "attempts": row.attempts,
        "started": row.started,
        "finished": row.finished,
        "duration": None if row.started is None else (row.finished or now) - row.started,
        "error": row.error,
        "traceback": row.traceback,
        "logs": row.logs,
        "cache": row.cache,
        "outputs": _json_dict(row.previews),
        "outputs_state": row.outputs_state,
        "children": None
        if row.children_succeeded is None and row.children_failed is None
        else {"succeeded": row.children_succeeded or 0, "failed": row.children_failed or 0},
        "elements": _json_dict(row.elements),
        "deck": Path(deck).as_uri() if os.path.isfile(deck) else None,
    }


def _state(row: Any, execution_state: str) -> str:
    """The row's status, except that a node still "running" in an execution that ended ended with it."""
    if row.status == "running" and execution_state != "running":
        return execution_state
    return str(row.status)


def _input_text(source: Any, outputs: dict[str, Any], workflow_inputs: dict[str, str]) -> str:
    """Where an input came from, with its value's preview when the store has it."""
    if isinstance(source, str):
        return source  # a constant's preview
    if isinstance(source, list) and len(source) == 2 and all(isinstance(part, str) for part in source):
        node, var = source
        if node == _START:
            return f"workflow input {var} = {workflow_inputs.get(var, '(not recorded)')}"
        value = (outputs.get(node) or {}).get(var)
        return f"{node}.{var}" + ("" if value is None else f" = {value}")
    if isinstance(source, list):
        parts = [f"{part[0]}.{part[1]}" if part[0] != _START else f"workflow input {part[1]}" for part in source]
        return "built from " + ", ".join(parts)
    return repr(source)


def _asset(name: str) -> str:
    return resources.files("taskloom_report").joinpath(name).read_text(encoding="utf-8")


def _embedded(data: Any) -> str:
    """``data`` as JSON that can sit inside a ``<script>`` element whatever its strings hold."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


#: Nothing may be fetched: no URL of any kind, only this page's inline script and styles.
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def render(data: dict[str, Any]) -> str:
    """The HTML page of ``data`` (:func:`report_data`)."""
    execution = data["execution"]
    title = html.escape(f"{execution['kind']} {execution['entity']} · execution {execution['id']}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        f"<title>{title}</title><style>{_asset('report.css')}</style></head><body>"
        '<header id="summary"></header><main>'
        '<section><h2>Graph</h2><div id="dag" class="scroll"></div></section>'
        '<section><h2>Timeline</h2><div id="timeline" class="scroll"></div></section>'
        '<aside id="panel" hidden></aside></main>'
        f'<script type="application/json" id="report-data">{_embedded(data)}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def write_report(execution_id: str, output: str | os.PathLike[str], directory: str | None = None) -> Path:
    """Write the report of ``execution_id`` (from the store under ``directory``, default the data directory)
    to ``output``; return its path. Raises :class:`ReportError` (unknown execution, output not writable)."""
    store = taskloom_local.ExecutionStore(directory)
    page = render(report_data(store, execution_id))
    target = Path(output)
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as error:
        raise ReportError(
            f"the report of execution {execution_id!r} cannot be written to {target} ({error.strerror or error})"
        ) from error
    return target
