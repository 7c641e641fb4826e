"""Shared by the report's tests: ``loom`` run for real in a private data directory, and the reports it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
