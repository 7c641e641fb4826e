#!/usr/bin/env python3
"""Fan-out figures (map, dynamic, eager), taskloom side by side with flytekit 1.16, printed as ratios.

    python3 benchmarks/fanout.py [--map 10000] [--dynamic 1000] [--eager 1000] [--repeat 3]

Each side runs the same generated program in its own interpreter (the taskloom venv and the flytekit
venv of ``startup.py``), differing only in its imports, and reports the wall time, after one smaller
warm-up run, of:

* a workflow mapping a trivial task (``inc(x) -> x + 1``) over a list of N items (``map_task``);
* a workflow whose ``@dynamic`` node launches N trivial tasks in a loop;
* an ``@eager`` workflow gathering N calls of a trivial ``async def`` task with ``asyncio.gather``;
* a CPU-bound map (16 elements of a loop of ``--cpu`` iterations), on threads and on a process pool of
  2 workers (``TASKLOOM_PROCESSES=2``); the trivial map is measured in process mode too.

taskloom runs map elements and gathered calls concurrently (threads, or worker processes); flytekit
runs them one after another locally. Timing lives here, never in unit tests (STYLE §7).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import (
    DEFAULT_FLYTEKIT_VENV,
    DEFAULT_TASKLOOM_PYTHON,
    child_env,
    ensure_flytekit_venv,
    print_rows,
    run_generated,
)

PROGRAM = r"""
import asyncio, json, sys, time
from PACKAGE import dynamic, eager, map_task, task, workflow

MAP, DYNAMIC, EAGER, REPEAT, CPU = (int(value) for value in sys.argv[1:6])
FIGURES = sys.argv[6].split(",")

@task
def inc(x: int) -> int:
    return x + 1

@task
async def inc_async(x: int) -> int:
    return x + 1

@task
def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i % 7
    return total

@workflow
def cpu_map(ns: list[int]) -> list[int]:
    return map_task(spin)(n=ns)

@workflow
def mapped(xs: list[int]) -> list[int]:
    return map_task(inc)(x=xs)

@dynamic
def fan(n: int) -> list[int]:
    return [inc(x=i) for i in range(n)]

@workflow
def dynamic_flow(n: int) -> list[int]:
    return fan(n=n)

@eager
async def gathered(n: int) -> int:
    values = await asyncio.gather(*[inc_async(x=i) for i in range(n)])
    return sum(values)

def timed(call, expected):
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = call()
        runs.append(time.perf_counter() - start)
        assert result == expected, (result, expected)
    return runs

figures = {}
if __name__ == "__main__":  # worker processes import this file too
    if "map" in FIGURES:
        assert mapped(xs=list(range(10))) == list(range(1, 11))  # warm-up, and a check that it really ran
        figures["map"] = timed(lambda: mapped(xs=list(range(MAP))), list(range(1, MAP + 1)))
    if "dynamic" in FIGURES:
        assert dynamic_flow(n=10) == list(range(1, 11))
        figures["dynamic"] = timed(lambda: dynamic_flow(n=DYNAMIC), list(range(1, DYNAMIC + 1)))
    if "eager" in FIGURES:
        assert asyncio.run(gathered(n=10)) == 55
        figures["eager"] = timed(lambda: asyncio.run(gathered(n=EAGER)), EAGER * (EAGER + 1) // 2)
    if "cpu" in FIGURES:
        ns = [CPU] * 16
        cpu_map(ns=[10, 10])
        figures["cpu"] = timed(lambda: cpu_map(ns=ns), [sum(i % 7 for i in range(CPU))] * 16)
    print(json.dumps(figures))
"""


def measure(python: str, package: str, arguments: list[str], env: dict) -> dict:
    """Run the program with ``package``'s imports in ``python``; return its figures (or an error)."""
    return run_generated(python, f"fanout_{package}", PROGRAM.replace("PACKAGE", package), arguments, dict(env))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", type=int, default=10_000, help="items mapped (default 10000)")
    parser.add_argument("--dynamic", type=int, default=1000, help="tasks a dynamic launches (default 1000)")
    parser.add_argument("--eager", type=int, default=1000, help="calls an eager workflow gathers (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--cpu", type=int, default=2_000_000, help="loop iterations of each CPU-bound element")
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV))
    arguments = parser.parse_args()
    env = child_env()
    env.setdefault("TASKLOOM_EXECUTOR", "local")
    sizes = [
        str(arguments.map),
        str(arguments.dynamic),
        str(arguments.eager),
        str(arguments.repeat),
        str(arguments.cpu),
    ]
    flytekit_python = str(ensure_flytekit_venv(Path(os.path.abspath(arguments.flytekit_venv))))
    taskloom_python = os.path.abspath(arguments.taskloom_python)
    threads = measure(taskloom_python, "taskloom", [*sizes, "map,dynamic,eager,cpu"], env)
    processes = measure(taskloom_python, "taskloom", [*sizes, "map,cpu"], {**env, "TASKLOOM_PROCESSES": "2"})
    flytekit = measure(flytekit_python, "flytekit", [*sizes, "map,dynamic,eager,cpu"], env)
    rows = []
    for label, taskloom_side, key, target in (
        (f"map over {arguments.map} items (threads)", threads, "map", "≥ 20×"),
        (f"map over {arguments.map} items (2 processes)", processes, "map", "≥ 20×"),
        (f"dynamic launching {arguments.dynamic} tasks", threads, "dynamic", ""),
        (f"eager gathering {arguments.eager} calls", threads, "eager", ""),
        ("CPU-bound map, 16 elements (threads)", threads, "cpu", ""),
        ("CPU-bound map, 16 elements (2 processes)", processes, "cpu", "> the threads row"),
    ):
        sides = {"taskloom": taskloom_side, "flytekit": flytekit}
        cells = {
            side: None if "error" in figures or key not in figures else statistics.median(figures[key])
            for side, figures in sides.items()
        }
        ratio = cells["flytekit"] / cells["taskloom"] if None not in cells.values() else None
        rows.append(
            (
                label,
                *("n/a" if cells[side] is None else f"{cells[side] * 1e3:.0f} ms" for side in ("taskloom", "flytekit")),
                "n/a" if ratio is None else f"{ratio:.1f}×",
                target,
            )
        )
    header = ("figure", "taskloom", "flytekit", "ratio", "target")
    print_rows(header, rows)
    for side, figures in (("taskloom (threads)", threads), ("taskloom (processes)", processes), ("flytekit", flytekit)):
        if "error" in figures:
            print(f"{side}: {figures['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
