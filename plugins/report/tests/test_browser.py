"""The report in a real browser: Debian's chromium, headless, driven by Playwright for Python.

Playwright rather than Selenium: ``page.on("request")`` sees every request the page makes, so "no network
request" is observed directly, and one Python API clicks, measures boxes and takes screenshots. The browser
is the system's (``executable_path``); ``playwright install`` is never run. A browser for each test (conftest).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from plugins.report.tests.conftest import loom


@pytest.fixture
def opened(browser: Any, twenty: Any) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The 20-node run's report (written by ``loom report``) open in a page, with every request it made
    and every error its script raised."""
    target = twenty.data / "report.html"
    done = loom(["report", twenty.execution_id, "-o", str(target)], twenty.data)
    assert done.returncode == 0, done.stderr
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(target.as_uri())
    page.wait_for_selector("body[data-rendered=true]", timeout=10_000)
    yield page, requests, errors
    page.close()


def test_the_graph_has_the_workflows_20_nodes(opened):
    page, _, errors = opened
    assert page.locator("#dag g.node").count() == 20
    assert page.locator("#dag g.node.state-failed").count() == 1
    assert errors == []


def test_clicking_the_failed_node_shows_its_error_and_traceback(opened):
    page, _, _ = opened
    page.locator('#dag g.node[data-path="n18"]').click()
    error = page.locator("#panel .node-error").text_content()
    assert error is not None and error.startswith("ValueError: no luck with 4: </script><script>window.injected=1")
    assert "Traceback (most recent call last)" in (page.locator("#panel .traceback").text_content() or "")
    assert (page.locator("#panel .logs").text_content() or "").startswith("trying 4 with </script><script>")
    # The hostile text is shown as text: none of it ran, and no element came of it.
    assert page.evaluate("window.injected") is None
    assert page.locator("img").count() == 0


def test_the_timeline_shows_nodes_that_ran_at_the_same_time_side_by_side(opened):
    page, _, _ = opened
    boxes = {}
    for bar in page.locator("#timeline rect.bar").all():
        boxes[bar.get_attribute("data-path")] = bar.bounding_box()
    works = [boxes[f"n{index}"] for index in range(4, 18) if f"n{index}" in boxes]
    overlapping = [
        (a, b)
        for position, a in enumerate(works)
        for b in works[position + 1 :]
        if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
    ]
    assert overlapping, "no two work nodes overlap in time"
    # Overlapping in time, they are drawn in different lanes: neither hides the other.
    assert all(a["y"] != b["y"] for a, b in overlapping)


def test_a_screenshot_of_the_report_is_not_blank(opened, browser):
    page, _, _ = opened
    shot = page.screenshot(full_page=True)
    # Decoded by the browser itself (a blank page of its own, no policy), as pixel data: their variance.
    decoder = browser.new_page()
    try:
        variance = decoder.evaluate(
            """async (data) => {
                const image = new Image();
                image.src = "data:image/png;base64," + data;
                await image.decode();
                const canvas = document.createElement("canvas");
                canvas.width = image.width; canvas.height = image.height;
                const context = canvas.getContext("2d");
                context.drawImage(image, 0, 0);
                const pixels = context.getImageData(0, 0, image.width, image.height).data;
                let sum = 0, squares = 0, count = 0;
                for (let index = 0; index < pixels.length; index += 4) {
                    const grey = (pixels[index] + pixels[index + 1] + pixels[index + 2]) / 3;
                    sum += grey; squares += grey * grey; count += 1;
                }
                const mean = sum / count;
                return squares / count - mean * mean;
            }""",
            base64.b64encode(shot).decode(),
        )
    finally:
        decoder.close()
    assert variance > 100  # a blank (one-colour) page is 0


def test_the_page_makes_no_network_request(opened):
    page, requests, _ = opened
    page.locator('#dag g.node[data-path="n1"]').click()  # a map's panel draws its elements' histogram
    assert page.locator("#panel svg.histogram rect.state-succeeded").count() == 20
    page.locator('#timeline rect.bar[data-path="n4"]').click()
    assert page.locator("#panel svg.histogram").count() == 0  # n4's panel replaced n1's
    assert (page.locator("#panel h2").text_content() or "").startswith("n4 ")
    assert requests == [page.url] and page.url.startswith("file://")
