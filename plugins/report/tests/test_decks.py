"""Decks (issue 27, point 1): tasks with ``enable_deck`` run on the local executor (threads, a map, retries,
worker processes) and leave their page at ``<execution directory>/decks/<node path>.html``.

Each run gets a data directory of its own (``TASKLOOM_DATA_DIR``), so the execution it made is the only
directory under ``executions/``. The tasks are at module level, where worker processes find them.
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from taskloom import Deck, DeckField, current_context, map_task, task, workflow
from taskloom.deck import MarkdownRenderer
from taskloom.extend import PluginWarning, UserValueError

from taskloom_report.deck_command import find_deck
from taskloom_report.decks import write_decks


@task(enable_deck=True)
def greet(name: str) -> str:
    Deck("profile", MarkdownRenderer().to_html("# Profile\n\n*bold* text"))
    current_context().default_deck.append("<p>first line</p>")
    current_context().default_deck.append("<p>second line</p>")
    return f"hello {name}"


@task(enable_deck=True, deck_fields=(DeckField.INPUT,))
def measure(text: str) -> int:
    return len(text)


@task
def plain(n: int) -> int:
    return n + 1


@workflow
def greeting(name: str) -> int:
    return plain(n=measure(text=greet(name=name)))


HOSTILE = "<script>alert('value')</script>"


@task(enable_deck=True, deck_fields=(DeckField.INPUT, DeckField.OUTPUT))
def hostile(text: str) -> str:
    Deck("<img src=x onerror=alert('name')>", "<p>kept</p>")
    Deck("markdown", MarkdownRenderer().to_html("<script>alert('md')</script>\n\n[link](javascript:alert('link'))"))
    return text


@workflow
def hostile_flow(text: str) -> str:
    return hostile(text=text)


@task(enable_deck=True, deck_fields=(DeckField.INPUT,))
def element(n: int) -> int:
    return n * 10


@workflow
def mapped(ns: list[int]) -> list[int]:
    return map_task(element)(n=ns)


@task(enable_deck=True, deck_fields=(), retries=2, retry_on=(ValueError,))
def flaky(n: int) -> int:
    Deck("attempt", f"<p>attempt {current_context().attempt}</p>")
    if current_context().attempt < 1:
        raise ValueError("the first attempt fails")
    return n


@workflow
def retried(n: int) -> int:
    return flaky(n=n)


@task(enable_deck=True, deck_fields=(DeckField.OUTPUT,))
def where() -> int:
    Deck("process", f"<p>pid {os.getpid()}</p>")
    return os.getpid()


@workflow
def in_a_worker() -> int:
    return where()


class _Uppercase:
    """A renderer given in a type (``Annotated[str, _Uppercase()]``), as flytekit's ``TopFrameRenderer(10)``."""

    def to_html(self, value: str) -> str:
        return f"<p>{html.escape(value.upper())}</p>"


class _Broken:
    def to_html(self, value: Any) -> str:
        raise RuntimeError("<b>renderer failed</b>")


@task(enable_deck=True, deck_fields=(DeckField.INPUT, DeckField.OUTPUT))
def annotated(text: Annotated[str, _Uppercase()], n: Annotated[int, _Broken()]) -> str:
    return text * 3000  # an output longer than the repr shown


@workflow
def annotated_flow(text: str, n: int) -> str:
    return annotated(text=text, n=n)


def _tabs(page: str) -> list[str]:
    return [html.unescape(name) for name in re.findall(r'<button type="button" role="tab"[^>]*>(.*?)</button>', page)]


def _deck(page: str, name: str) -> str:
    match = re.search(rf'<section class="deck" id="deck-\d+" role="tabpanel" data-deck="{re.escape(name)}">', page)
    assert match is not None, f"no deck {name!r} in the page"
    return page[match.end() : page.index("</section>", match.end())]


def _run(data: Path, entity: Any, processes: int | None = None, **inputs: Any) -> tuple[Any, Path]:
    """Run ``entity`` on the local executor (with ``processes`` worker processes) with ``data`` as the data
    directory; its outputs and its execution's directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TASKLOOM_DATA_DIR", str(data))
        if processes:
            patch.setenv("TASKLOOM_PROCESSES", str(processes))
        outputs = entity(**inputs)
    (execution,) = (data / "executions").iterdir()
    return outputs, execution


@pytest.fixture(scope="module")
def greeting_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return _run(tmp_path_factory.mktemp("greeting"), greeting, name="ana")


def test_a_task_with_enable_deck_writes_its_page_with_its_decks_and_flytekits_default_ones(greeting_run):
    outputs, execution = greeting_run
    assert outputs == len("hello ana") + 1
    page = (execution / "decks" / "n0.html").read_text()
    # flytekit's order: the timeline, the body's decks, then source code, dependencies, inputs, outputs
    assert _tabs(page) == ["Timeline", "profile", "default", "Source Code", "Dependencies", "Input", "Output"]
    assert "<h1>Profile</h1>" in _deck(page, "profile") and "<em>bold</em>" in _deck(page, "profile")
    assert "def greet(name: str) -> str:" in html.unescape(re.sub(r"<[^>]+>", "", _deck(page, "Source Code")))
    assert "taskloom-report" in _deck(page, "Dependencies")
    assert "&#x27;ana&#x27;" in _deck(page, "Input") and "&#x27;hello ana&#x27;" in _deck(page, "Output")
    assert "Execute user level code" in _deck(page, "Timeline")


def test_the_default_deck_is_one_deck_for_the_whole_task_execution(greeting_run):
    page = (greeting_run[1] / "decks" / "n0.html").read_text()
    assert _tabs(page).count("default") == 1
    assert "<p>first line</p>\n<p>second line</p>" in _deck(page, "default")


def test_deck_fields_choose_the_standard_decks_and_tasks_without_decks_leave_none(greeting_run):
    decks = greeting_run[1] / "decks"
    assert _tabs((decks / "n1.html").read_text()) == ["Input"]
    assert sorted(path.name for path in decks.iterdir()) == ["n0.html", "n1.html"]  # plain (n2) has none


def test_the_page_is_self_contained(greeting_run):
    page = (greeting_run[1] / "decks" / "n0.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page


def test_names_markdown_and_values_with_html_are_escaped_not_run(tmp_path):
    outputs, execution = _run(tmp_path, hostile_flow, text=HOSTILE)
    assert outputs == HOSTILE
    page = (execution / "decks" / "n0.html").read_text()
    assert page.count("<script>") == 1  # the page's own tab script, nothing else
    assert "<img" not in page
    assert 'href="javascript:' not in page  # markdown-it refuses the link: it stays text
    assert "<img src=x onerror=alert('name')>" in _tabs(page)
    assert _deck(page, "markdown").startswith("<p>&lt;script&gt;alert('md')&lt;/script&gt;</p>")
    assert html.escape(repr(HOSTILE)) in _deck(page, "Input")


def test_a_renderer_in_the_declared_type_shows_the_value_and_a_failing_one_shows_its_error(tmp_path):
    _, execution = _run(tmp_path, annotated_flow, text="abc", n=4)
    page = (execution / "decks" / "n0.html").read_text()
    inputs = _deck(page, "Input")
    assert "<p>ABC</p>" in inputs
    assert "_Broken could not render this value: RuntimeError: &lt;b&gt;renderer failed&lt;/b&gt;" in inputs
    assert '<pre class="value">4</pre>' in inputs
    assert "(7002 more characters)" in _deck(page, "Output")  # 9,002 characters of repr, 2,000 shown


def test_each_map_element_has_a_deck_of_its_own(tmp_path):
    outputs, execution = _run(tmp_path, mapped, ns=[1, 2, 3])
    assert outputs == [10, 20, 30]
    decks = execution / "decks"
    assert sorted(path.name for path in decks.iterdir()) == ["n0-0.html", "n0-1.html", "n0-2.html"]
    assert '<pre class="value">2</pre>' in _deck((decks / "n0-1.html").read_text(), "Input")


def test_a_retried_node_keeps_the_deck_of_its_last_attempt(tmp_path):
    assert _run(tmp_path, retried, n=5)[0] == 5
    page = (tmp_path / "executions").iterdir().__next__() / "decks" / "n0.html"
    assert _deck(page.read_text(), "attempt") == "<p>attempt 1</p>"


def test_tasks_run_in_worker_processes_write_their_decks(tmp_path):
    pid, execution = _run(tmp_path, in_a_worker, processes=1)
    assert pid != os.getpid()
    page = (execution / "decks" / "n0.html").read_text()
    assert _deck(page, "process") == f"<p>pid {pid}</p>"


def test_a_direct_call_writes_its_deck_to_a_temporary_file_and_logs_where(caplog):
    with caplog.at_level(logging.INFO, logger="taskloom.report"):
        assert measure(text="abcd") == 4
    (message,) = [record.getMessage() for record in caplog.records if "wrote its deck" in record.getMessage()]
    path = message.rsplit("file://", 1)[1]
    assert path.endswith("deck.html") and _tabs(Path(path).read_text()) == ["Input"]


def test_runs_not_recorded_write_their_decks_to_a_temporary_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    with caplog.at_level(logging.INFO, logger="taskloom.report"):
        assert greeting(name="bo") == len("hello bo") + 1
    written = [record.getMessage() for record in caplog.records if "wrote its deck" in record.getMessage()]
    assert len(written) == 2 and all(Path(message.rsplit("file://", 1)[1]).is_file() for message in written)


def test_a_deck_that_cannot_be_written_is_a_warning_and_the_task_still_succeeds(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(blocker / "data"))
    with pytest.warns(PluginWarning, match=r"task '.*measure': its deck could not be written to .*n4\.html"):
        assert write_decks(measure, [], {"text": "x"}, {"o0": 1}, "l123", "n4", []) is None


def test_deck_checks_its_arguments():
    with pytest.raises(TypeError, match="Deck: name expects a str, got int 3"):
        Deck(3, "")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Deck 'x': append expects a str, got bytes"):
        Deck("x", auto_add_to_deck=False).append(b"<p>")  # type: ignore[arg-type]


def test_a_deck_made_outside_a_task_with_decks_joins_the_current_context():
    made = Deck("loose", "<p>x</p>")
    assert current_context().decks[-1] is made and made.html == "<p>x</p>"


@pytest.fixture(scope="module")
def loom(greeting_run: tuple[Any, Path]) -> Iterator[Any]:
    execution = greeting_run[1]
    data = execution.parent.parent

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "taskloom.cli", "deck", *arguments],
            capture_output=True,
            text=True,
            env={**os.environ, "TASKLOOM_DATA_DIR": str(data)},
            timeout=60,
        )

    yield run


def test_loom_deck_prints_the_path_of_a_nodes_deck(loom, greeting_run):
    execution = greeting_run[1]
    done = loom(execution.name, "n1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{execution / 'decks' / 'n1.html'}\n"


def test_loom_deck_says_in_one_line_when_the_execution_or_the_deck_does_not_exist(loom, greeting_run):
    execution = greeting_run[1]
    missing_node = loom(execution.name, "n2")
    assert missing_node.returncode != 0
    assert missing_node.stderr.strip().splitlines() == [
        f"Error: execution '{execution.name}' has no deck for node 'n2' (nodes with decks: n0, n1)"
    ]
    missing_execution = loom("l-nothing", "n0")
    assert missing_execution.returncode != 0 and len(missing_execution.stderr.strip().splitlines()) == 1
    assert "execution 'l-nothing' is not in the execution store" in missing_execution.stderr
    assert "Traceback" not in missing_node.stderr + missing_execution.stderr


def test_no_warning_is_given_for_tasks_with_decks_when_the_plugin_is_installed(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        assert _run(tmp_path, retried, n=1)[0] == 1


def test_find_deck_never_leaves_the_executions_directory(greeting_run, monkeypatch):
    execution = greeting_run[1]
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(execution.parent.parent))
    assert find_deck(execution.name, "n0") == str(execution / "decks" / "n0.html")
    with pytest.raises(UserValueError, match=r"has no deck for node '\.\./\.\./n0'"):
        find_deck(execution.name, "../../n0")
    with pytest.raises(UserValueError, match=r"execution '\.\./executions' is not in the execution store"):
        find_deck("../executions", "n0")


def test_find_deck_says_when_runs_are_not_recorded(monkeypatch):
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    with pytest.raises(UserValueError, match="no installed executor records executions here"):
        find_deck("l1", "n0")
