#!/usr/bin/env python3
"""What lifecycle events cost a run: the same workflows with nobody listening and with one listener.

    python3 benchmarks/events.py [--repeat 7] [--taskloom-python PATH]

Lifecycle hooks (``taskloom_node_started``, ``taskloom_node_finished``...) are announced for every node
and every map element. With nobody listening the executor skips them (the fast path every run takes
without a progress display); with a listener each event is one call through pluggy. Printed per
figure: the median and min of ``--repeat`` runs, in one child process per run, inside the process
(``time.perf_counter`` around the call), so start-up is not in the figure:

* ``map 10k silent`` / ``map 10k listened``: ``map_task`` of a trivial task over 10,000 ints, in process;
* ``chain 500 silent`` / ``chain 500 listened``: 500 trivial tasks, each reading the previous output;
* ``announce``: one ``node_finished`` event to one listener, per event (100,000 events).

The listener counts ``taskloom_node_finished`` events and implements nothing else.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import DEFAULT_TASKLOOM_PYTHON, child_env

CHILD = r"""
import json, sys, time
from taskloom import task, workflow, map_task
from taskloom.core.events import listeners
from taskloom.hookspecs import hookimpl
from taskloom.plugins import get_plugin_manager

class Counter:
    finished = 0

    @hookimpl
    def taskloom_node_finished(self, event):
        Counter.finished += 1

figure, listened = sys.argv[1], sys.argv[2] == "listened"
if listened:
    get_plugin_manager().register(Counter(), name="counter")

@task
def inc(x: int) -> int:
    return x + 1

@workflow
def mapped() -> list[int]:
    return map_task(inc)(x=list(range(10_000)))

@workflow
def chain() -> int:
    value = inc(x=0)
    for _ in range(499):
        value = inc(x=value)
    return value

if figure == "announce":
    announcer = listeners()
    count = 100_000
    start = time.perf_counter()
    for index in range(count):
        announcer.node_finished("e", "n0", "inc")
    elapsed = (time.perf_counter() - start) / count
else:
    workflow_ = mapped if figure == "map" else chain
    workflow_()  # warm: compile, load plugins
    start = time.perf_counter()
    workflow_()
    elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "events": Counter.finished}))
"""

FIGURES = [
    ("map 10k silent", "map", "silent"),
    ("map 10k listened", "map", "listened"),
    ("chain 500 silent", "chain", "silent"),
    ("chain 500 listened", "chain", "listened"),
    ("announce (per event)", "announce", "listened"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    arguments = parser.parse_args()
    environment = child_env()
    environment["TASKLOOM_RECORD"] = "0"  # the figure is the events' cost, not the store's
    print(f"{'figure':<24} {'median':>12} {'min':>12}")
    for label, figure, mode in FIGURES:
        times = []
        for _ in range(arguments.repeat):
            done = subprocess.run(
                [arguments.taskloom_python, "-c", CHILD, figure, mode],
                capture_output=True,
                text=True,
                env=environment,
                check=True,
            )
            times.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
        unit, scale = ("µs", 1e6) if figure == "announce" else ("ms", 1e3)
        print(f"{label:<24} {statistics.median(times) * scale:>9.2f} {unit} {min(times) * scale:>9.2f} {unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
