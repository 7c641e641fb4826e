"""A deck page in a real browser (issue 27, point 1): Debian's chromium, headless, driven by Playwright for Python
with the system's browser (``executable_path``; ``playwright install`` is never run).

The page of a task whose deck names, markdown and values carry script is opened: its tabs switch decks, nothing
of what the task was given runs, and the page asks the network for nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from taskloom import Deck, DeckField, task, workflow
from taskloom.deck import MarkdownRenderer

INJECTED = "</script><script>window.injected=1</script><img src=x onerror='window.injected=2'>"


@task(enable_deck=True, deck_fields=(DeckField.INPUT, DeckField.OUTPUT))
def shown(text: str) -> str:
    Deck(f"notes {INJECTED}", MarkdownRenderer().to_html(f"# Notes\n\n{INJECTED}"))
    Deck("plain", "<p id='plain'>plain deck</p>")
    return text


@workflow
def showing(text: str) -> str:
    return shown(text=text)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("browser")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TASKLOOM_DATA_DIR", str(data))
        showing(text=INJECTED)
    (page,) = data.glob("executions/*/decks/n0.html")
    return page


@pytest.fixture
def opened(browser: Any, page_file: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The deck page open in chromium, with every request it made and every error its script raised."""
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        yield page, requests, errors
    finally:
        page.close()


def test_the_page_opens_on_its_first_deck_and_a_tab_shows_its_own(opened):
    page, _, errors = opened
    tabs = page.locator("nav button")
    assert tabs.all_text_contents() == [f"notes {INJECTED}", "plain", "Input", "Output"]
    assert page.locator("section.deck:visible").count() == 1
    assert page.locator("section.deck").first.is_visible()
    tabs.nth(1).click()
    assert page.locator("#plain").is_visible() and page.locator("section.deck:visible").count() == 1
    assert tabs.nth(1).get_attribute("aria-selected") == "true"
    assert tabs.nth(0).get_attribute("aria-selected") == "false"
    assert errors == []


def test_what_the_task_was_given_is_shown_as_text_and_never_runs(opened):
    page, _, _ = opened
    for index in range(4):
        page.locator("nav button").nth(index).click()
    assert page.evaluate("window.injected") is None
    assert page.locator("img").count() == 0
    page.locator("nav button").nth(2).click()
    assert INJECTED in (page.locator("section.deck:visible").text_content() or "")


def test_the_page_asks_the_network_for_nothing(opened, page_file):
    _, requests, _ = opened
    assert requests == [page_file.as_uri()]
