"""Shared by the report's tests: ``loom`` run for real in a private data directory, and the reports it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FLOWS = Path(__file__).with_name("report_flows.py")


def loom(arguments: list[str], data: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """``loom ARGUMENTS`` in a process of its own, its execution store under ``data``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TASKLOOM_")}
    env.update(TASKLOOM_DATA_DIR=str(data / "store"), XDG_CACHE_HOME=str(data / "cache"), **environment)
    return subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        capture_output=True,
        text=True,
        cwd=data,
        env=env,
        timeout=180,
    )


def newest_execution(data: Path) -> str:
    """The id of the newest execution recorded under ``data``."""
    listed = loom(["executions", "list", "--json"], data)
    assert listed.returncode == 0, listed.stderr
    return str(json.loads(listed.stdout)[0]["id"])


class TwentyRun:
    """The 20-node workflow run by ``loom run --report`` (its report written when it ended)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.report = data / "run-report.html"
        self.run = loom(["run", str(FLOWS), "twenty", "--report", str(self.report)], data)
        self.execution_id = newest_execution(data)


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory) -> TwentyRun:
    """One real run of ``report_flows.twenty`` for the module's tests."""
    return TwentyRun(tmp_path_factory.mktemp("twenty"))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless and quiet: as root without a sandbox, and none of the background traffic (updates, sync, QUIC)
# that Chromium would otherwise send into a closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright for Python (``playwright install`` is never run): a
    browser with a fresh profile for each test that opens a page (~0.3 s each).

    Not one for the session: while Playwright's sync API is started, its event loop counts as running in
    the thread that started it, and every test that ran after a browser test in the same pytest worker
    saw a running loop (an async task called from plain code returned its coroutine, an eager workflow's
    resume ran every call again: a CI worker that ran tests in another order failed both). Stopped after
    each test, it leaves the thread as it found it; the root conftest fails a test that does not."""
    # Here, not at the top: the tests that open no page need not import Playwright.
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, viewport={"width": 1400, "height": 1000}
        )
        try:
            yield context
        finally:
            context.close()
