#!/usr/bin/env python3
"""The execution report (taskloom-report): its size and how long Chromium takes to draw it (issue 27, point 4:
a 10,000-element map's report under 5 MB, drawn in under 2 seconds).

    python3 benchmarks/report.py [--repeat 5] [--chromium /usr/bin/chromium]

Programs, each run once by ``loom run --progress never FILE wf`` (recorded), then written by ``loom report``:

* ``map 10k``: ``map_task`` of ``inc`` over 10,000 ints (one node of the graph, its elements a histogram);
* ``chain 500``: 500 ``inc`` calls, each reading the previous one's output (500 layers);
* ``fan 300``: 300 ``inc`` calls side by side, summed by a task (one layer of 300 nodes).

The render time is what the page's script says: the ``rendered`` performance mark it sets when drawing is
done, in milliseconds from the start of the navigation, read in Debian's Chromium (headless, driven by
Playwright for Python; a fresh profile per run, so nothing is cached). Median and min of ``--repeat`` loads.
There is no flytekit figure: flytekit has no execution report to compare with. Timing lives here, never in
unit tests (STYLE §7); the size bound is also asserted by taskloom-report's tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import BENCH, DEFAULT_TASKLOOM_PYTHON, child_env

PROGRAMS = {
    "map 10k": """
from taskloom import task, workflow, map_task

@task
def inc(x: int) -> int:
    return x + 1

@task
def numbers(n: int) -> list[int]:
    return list(range(n))

@workflow
def wf(n: int = 10_000) -> list[int]:
    return map_task(inc)(x=numbers(n=n))
""",
    "chain 500": """
from taskloom import task, workflow

@task
def inc(x: int) -> int:
    return x + 1

@workflow
def wf(x: int = 0) -> int:
    for _ in range(500):
        x = inc(x=x)
    return x
""",
    "fan 300": """
from taskloom import task, workflow

@task
def inc(x: int) -> int:
    return x + 1

@task
def add(values: list[int]) -> int:
    return sum(values)

@workflow
def wf(x: int = 0) -> int:
    return add(values=[inc(x=x) for _ in range(300)])
""",
}
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
LIMIT_BYTES = 5 * 1024 * 1024
LIMIT_SECONDS = 2.0


def render_times(page: Path, chromium: str, repeat: int) -> list[float]:
    """Seconds from navigation to the page's ``rendered`` mark, one fresh browser profile per load."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        for _ in range(repeat + 1):  # the first load warms the browser's own files up, and is dropped
            with tempfile.TemporaryDirectory(prefix="report-bench-") as profile:
                context = playwright.chromium.launch_persistent_context(profile, executable_path=chromium, args=FLAGS)
                try:
                    tab = context.new_page()
                    tab.goto(page.as_uri())
                    tab.wait_for_selector("body[data-rendered=true]", timeout=60_000)
                    times.append(tab.evaluate("performance.getEntriesByName('rendered')[0].startTime") / 1000)
                finally:
                    context.close()
    return times[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    arguments = parser.parse_args()
    loom = str(Path(arguments.taskloom_python).parent / "loom")
    (BENCH / ".work").mkdir(exist_ok=True)  # beside the other benchmarks' work, gitignored
    work = Path(tempfile.mkdtemp(prefix="report-", dir=BENCH / ".work"))
    env = child_env()
    env["TASKLOOM_DATA_DIR"] = str(work / "data")
    rows = []
    failed = False
    try:
        for name, program in PROGRAMS.items():
            file = work / f"{name.replace(' ', '_')}.py"
            file.write_text(program)
            subprocess.run(
                [loom, "run", "--progress", "never", str(file), "wf"],
                env=env,
                cwd=work,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            listed = subprocess.run(
                [loom, "executions", "list", "--json", "--limit", "1"],
                env=env,
                cwd=work,
                check=True,
                capture_output=True,
                text=True,
            )
            execution = json.loads(listed.stdout)[0]["id"]
            page = work / f"{name.replace(' ', '_')}.html"
            subprocess.run(
                [loom, "report", execution, "-o", str(page)], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL
            )
            size = page.stat().st_size
            times = render_times(page, arguments.chromium, arguments.repeat)
            median = statistics.median(times)
            within = size < LIMIT_BYTES and median < LIMIT_SECONDS
            failed = failed or (name == "map 10k" and not within)
            rows.append(
                (
                    name,
                    f"{size / 1024:.0f} KiB",
                    f"{median * 1000:.0f} ms",
                    f"{min(times) * 1000:.0f} ms",
                    "yes" if within else "NO",
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    headers = ("report of", "size", "render (median)", "render (min)", "< 5 MB and < 2 s")
    widths = [max(len(str(row[index])) for row in (headers, *rows)) for index in range(len(headers))]
    for row in (headers, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
