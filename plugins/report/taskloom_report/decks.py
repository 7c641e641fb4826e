"""Decks (flytekit's ``Deck``) and the page that shows a task execution's decks.

A task with ``enable_deck`` collects its decks while its body runs (``Deck(name, html)`` adds itself
to ``current_context().decks``); when an attempt succeeds the kernel hands them over
(:func:`~taskloom.hookspecs.taskloom_task_decks`) and :func:`write_decks` adds the standard decks its
``deck_fields`` name and writes one self-contained HTML page: styles and the few lines of script that
switch tabs are inline, nothing is fetched. The page of a node of a recorded execution is
``<execution directory>/decks/<node path>.html`` (the execution store's directory, given by
:func:`~taskloom.hookspecs.taskloom_execution_directory`); a retry writes over its failed attempts'
(which leave none), so the file is the last attempt's. Under ``loom-execute`` (a Flyte cluster,
taskloom-kubernetes' Pods) the page is ``deck.html`` under the attempt's output prefix, as flytekit
writes it. A task called directly, outside any execution, or run where executions are not recorded,
writes ``deck.html`` in a new temporary directory and logs its path, as flytekit does.

What a deck's HTML holds is the task author's (as in flytekit, it is HTML by design); what this
module makes from names and values is escaped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import html
import inspect
import logging
import os
import re
import tempfile
import warnings
from typing import Any

from taskloom import DeckField, current_context
from taskloom.extend import PluginWarning, StorageError, execution_directory, upload
from taskloom_local import make_private_directory

from taskloom_report.renderers import PythonDependencyRenderer, SourceCodeRenderer, value_html

#: The file a deck is written to where there is no execution directory (flytekit's name).
DECK_FILE_NAME = "deck.html"

_logger = logging.getLogger("taskloom.report")


class Deck:
    """A named piece of HTML among the decks of the running task (flytekit's ``Deck``).

    ``Deck("profile", html)`` adds itself to ``current_context().decks`` (unless
    ``auto_add_to_deck=False``); :meth:`append` adds HTML to it. The decks of a task with
    ``enable_deck=True`` are written as one page when the task finishes; made in a task without
    it, they are kept for the task's code and written nowhere. The HTML is shown as given: render
    text and values with a renderer (``MarkdownRenderer().to_html(text)``), which escapes them.
    """

    def __init__(self, name: str, html: str | None = "", auto_add_to_deck: bool = True) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Deck: name expects a str, got {type(name).__name__} {name!r}")
        if html is not None and not isinstance(html, str):
            raise TypeError(f"Deck {name!r}: html expects a str, got {type(html).__name__}")
        self._name = name
        self._html = html or ""
        if auto_add_to_deck:
            current_context().decks.append(self)

    def append(self, html: str) -> Deck:
        """Add ``html`` at the end of the deck; returns the deck."""
        if not isinstance(html, str):
            raise TypeError(f"Deck {self._name!r}: append expects a str, got {type(html).__name__}")
        self._html = f"{self._html}\n{html}" if self._html else html
        return self

    @property
    def name(self) -> str:
        """The deck's name (its tab in the page)."""
        return self._name

    @property
    def html(self) -> str:
        """The deck's HTML."""
        return self._html

    def __repr__(self) -> str:
        return f"Deck(name={self._name!r}, {len(self._html)} characters of HTML)"


class _StandardDeck:
    """A deck this plugin adds (source code, inputs...): not in the task's context, so that the
    task's own ``current_context().decks`` holds what its code made, as in flytekit's body."""

    def __init__(self, name: str, html: str) -> None:
        self.name = name
        self.html = html


def standard_decks(
    task: Any, decks: list[Any], inputs: dict[str, Any], outputs: dict[str, Any], timeline: list[dict[str, Any]]
) -> list[Any]:
    """The decks of the page, in flytekit's order: the timeline, the body's decks, then source code,
    dependencies, inputs and outputs, as ``task.deck_fields`` asks."""
    fields = set(task.deck_fields)
    page: list[Any] = []
    if DeckField.TIMELINE in fields:
        page.append(_StandardDeck(DeckField.TIMELINE.value, _timeline_html(timeline)))
    page.extend(decks)
    if DeckField.SOURCE_CODE in fields:
        function = getattr(task, "task_function", None)
        source = _source_html(function) if function is not None else None
        if source is not None:
            page.append(_StandardDeck(DeckField.SOURCE_CODE.value, source))
    if DeckField.DEPENDENCIES in fields:
        page.append(_StandardDeck(DeckField.DEPENDENCIES.value, PythonDependencyRenderer().to_html()))
    interface = task.python_interface
    if DeckField.INPUT in fields:
        page.append(_StandardDeck(DeckField.INPUT.value, _values_html(inputs, interface.inputs)))
    if DeckField.OUTPUT in fields:
        page.append(_StandardDeck(DeckField.OUTPUT.value, _values_html(outputs, interface.outputs)))
    return page


@functools.lru_cache(maxsize=256)
def _source_html(function: Any) -> str | None:
    # Once per task function and process: highlighting costs about a millisecond, and a map's elements
    # would pay it each.
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):  # no source: a function made at run time
        return None
    return SourceCodeRenderer().to_html(source)


def _values_html(values: dict[str, Any], types: dict[str, Any]) -> str:
    if not values:
        return '<p class="empty">none</p>'
    return "".join(
        f'<h3 class="variable">{html.escape(name)}</h3>{value_html(value, types.get(name, Any))}'
        for name, value in values.items()
    )


def _timeline_html(timeline: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(part.get('name', '')))}</td>"
        f"<td>{_utc(part.get('start'))}</td><td>{_utc(part.get('finish'))}</td>"
        f"<td>{float(part.get('wall_time', 0.0)):.6f}</td><td>{float(part.get('process_time', 0.0)):.6f}</td></tr>"
        for part in timeline
    )
    return (
        '<table class="deck-table"><thead><tr><th>Name</th><th>Start (UTC)</th><th>Finish (UTC)</th>'
        f"<th>Wall time (s)</th><th>Process time (s)</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p>Process time counts every thread of the process that ran the task.</p>"
    )


def _utc(timestamp: Any) -> str:
    if not isinstance(timestamp, (int, float)):
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2433; }
header { padding: 12px 20px; background: #2c3e66; color: #fff; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header p { margin: 4px 0 0; font-size: 12px; opacity: .8; }
nav { display: flex; flex-wrap: wrap; gap: 2px; padding: 8px 20px 0; border-bottom: 1px solid #ccd; }
nav button { border: 1px solid #ccd; border-bottom: none; background: #eef0f5; padding: 6px 12px;
  font: inherit; font-size: 13px; cursor: pointer; border-radius: 4px 4px 0 0; }
nav button[aria-selected="true"] { background: #fff; font-weight: 600; }
section { padding: 16px 20px; }
section[hidden] { display: none; }
pre { background: #f6f7f9; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
.deck-table { border-collapse: collapse; font-size: 13px; }
.deck-table th, .deck-table td { border: 1px solid #ccd; padding: 4px 8px; text-align: left; }
.error { color: #a11; }
"""

# Shows the tab clicked and hides the others; the page works without it (every deck shows, stacked).
_SCRIPT = """
document.querySelectorAll("nav button").forEach(function (tab) {
  tab.addEventListener("click", function () {
    document.querySelectorAll("nav button").forEach(function (other) {
      other.setAttribute("aria-selected", String(other === tab));
    });
    document.querySelectorAll("section.deck").forEach(function (deck) {
      deck.hidden = deck.id !== tab.getAttribute("aria-controls");
    });
  });
});
document.querySelectorAll("section.deck").forEach(function (deck, index) { deck.hidden = index > 0; });
"""


def render_page(title: str, subtitle: str, decks: list[Any]) -> str:
    """One self-contained HTML page with a tab per deck (names escaped, HTML as the deck holds it)."""
    tabs = []
    sections = []
    for index, deck in enumerate(decks):
        selected = "true" if index == 0 else "false"
        tabs.append(
            f'<button type="button" role="tab" aria-selected="{selected}" aria-controls="deck-{index}">'
            f"{html.escape(str(deck.name))}</button>"
        )
        sections.append(
            f'<section class="deck" id="deck-{index}" role="tabpanel" data-deck="{html.escape(str(deck.name))}">'
            f"{deck.html}</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f'<nav role="tablist">{"".join(tabs)}</nav>{"".join(sections)}'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def deck_path(execution_id: str, node_path: str | None) -> str | None:
    """Where the deck of the node ``node_path`` of ``execution_id`` is written, or None when the
    execution keeps no directory (a direct call, or a run that is not recorded)."""
    if node_path is None:
        return None
    directory = execution_directory(execution_id)
    if directory is None:
        return None
    return os.path.join(directory, "decks", f"{file_name(node_path)}.html")


def file_name(text: str) -> str:
    """A node path as a file name, as the execution store names its files: node paths are letters,
    digits and ``-``, kept as they are; anything else is hashed."""
    if re.fullmatch(r"[A-Za-z0-9_.\-]{1,120}", text) and not text.startswith("."):
        return text
    return "x-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def write_decks(
    task: Any,
    decks: list[Any],
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    execution_id: str,
    node_path: str | None,
    timeline: list[dict[str, Any]],
    output_prefix: str | None = None,
) -> str | None:
    """Write the deck page of a succeeded task execution; return where it went.

    A node of a recorded execution: its file in the execution's directory. Run by a container
    entrypoint (``output_prefix``, ``loom-execute``): ``deck.html`` under that prefix, as flytekit
    uploads it for Flyte's console. Otherwise a new temporary directory, logged. A page that cannot be
    written (a full disk, storage that refuses it) is one :class:`~taskloom.extend.PluginWarning`
    naming the task and where, and None: the task's outcome does not depend on its deck.
    """
    page = render_page(
        f"{task.name}" + (f" ({node_path})" if node_path else ""),
        f"execution {execution_id}",
        standard_decks(task, decks, inputs, outputs, timeline),
    )
    target = deck_path(execution_id, node_path)
    try:
        if target is not None:
            _write(target, page)
            return target
        target = os.path.join(tempfile.mkdtemp(prefix="taskloom-deck-"), DECK_FILE_NAME)
        _write(target, page)
        if output_prefix:
            local, target = target, f"{output_prefix.rstrip('/')}/{DECK_FILE_NAME}"
            upload(local, target)
            _logger.info("task %s wrote its deck to %s", task.name, target)
        else:
            _logger.info("task %s wrote its deck to file://%s", task.name, target)
    except (OSError, StorageError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        warnings.warn(
            f"task {task.name!r}: its deck could not be written to {target}: {reason}", PluginWarning, stacklevel=2
        )
        return None
    return target


def _write(target: str, page: str) -> None:
    # Beside the execution store's files, and as private: directories 0700 and files 0600 whatever
    # the umask. Written to a temporary name and renamed, so a reader sees a whole page or none.
    directory = os.path.dirname(target)
    make_private_directory(directory)  # the store's rule: this user's only, whatever the umask
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
