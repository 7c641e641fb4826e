"""The execution report of runs on other executors: built from the execution store that taskloom-local's
scheduler writes for each of them (the process pool, Dask), so it shows what a local run's report shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[2] / "plugins" / "report" / "tests" / "report_flows.py"


def loom(arguments: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TASKLOOM_")}
    env.update(TASKLOOM_DATA_DIR=str(data / "store"), XDG_CACHE_HOME=str(data / "cache"))
    return subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        capture_output=True,
        text=True,
        cwd=data,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("executor", [["--processes", "2"], ["--executor", "dask"]], ids=["processes", "dask"])
def test_the_report_of_a_run_on_another_executor_shows_its_graph_timeline_and_values(executor, tmp_path):
    report = tmp_path / "report.html"
    done = loom(["run", *executor, str(FLOWS), "small", "--report", str(report)], tmp_path)
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    data = json.loads(page.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0])
    assert data["execution"]["state"] == "succeeded"
    nodes = {node["path"]: node for node in data["nodes"]}
    assert sorted(nodes) == ["n0", "n1", "n2", "n3", "n4", "n5"]
    assert {node["state"] for node in nodes.values()} == {"succeeded"}
    assert nodes["n1"]["kind"] == "map" and nodes["n1"]["children"] == {"succeeded": 6, "failed": 0}
    assert nodes["n4"]["upstream"] == ["n0", "n2", "n3"] and nodes["n4"]["outputs"] == {"o0": "15"}
    assert nodes["n2"]["inputs"] == {"x": "n0.o0 = 2", "label": "'left'"}
    bars = {bar["path"]: bar for bar in data["timeline"]}
    assert set(bars) == set(nodes)
    # The map and the two slow tasks were ready at once, and two workers run bodies: at least two of them ran at
    # the same time (which two depends on who got a worker first), and bars that overlap are in different lanes.
    ready = [bars[path] for path in ("n1", "n2", "n3")]
    overlapping = [
        (left, right)
        for index, left in enumerate(ready)
        for right in ready[index + 1 :]
        if left["start"] < right["end"] and right["start"] < left["end"]
    ]
    assert overlapping, ready
    assert all(left["lane"] != right["lane"] for left, right in overlapping)
