#!/usr/bin/env python3
"""Fan-out figures (map, dynamic, eager), taskloom side by side with flytekit 1.16, printed as ratios.

    python3 benchmarks/fanout.py [--map 10000] [--dynamic 1000] [--eager 1000] [--repeat 3]

Each side runs the same generated program in its own interpreter (the taskloom venv and the flytekit
venv of ``startup.py``), differing only in its imports, and reports the wall time, after one smaller
warm-up run, of:

* a workflow mapping a trivial task (``inc(x) -> x + 1``) over a list of N items (``map_task``);
* a workflow whose ``@dynamic`` node launches N trivial tasks in a loop;
* an ``@eager`` workflow gathering N calls of a trivial ``async def`` task with ``asyncio.gather``.

taskloom runs map elements and gathered calls concurrently on threads; flytekit runs them one after
another locally. Timing lives here, never in unit tests (STYLE §7).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import DEFAULT_FLYTEKIT_VENV, DEFAULT_TASKLOOM_PYTHON, child_env, ensure_flytekit_venv  # noqa: E402

PROGRAM = r'''
import asyncio, json, sys, time
from PACKAGE import dynamic, eager, map_task, task, workflow

MAP, DYNAMIC, EAGER, REPEAT = (int(value) for value in sys.argv[1:5])

@task
def inc(x: int) -> int:
    return x + 1

@task
async def inc_async(x: int) -> int:
    return x + 1

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
assert mapped(xs=list(range(10))) == list(range(1, 11))  # warm-up, and a check that it really ran
figures["map"] = timed(lambda: mapped(xs=list(range(MAP))), list(range(1, MAP + 1)))
assert dynamic_flow(n=10) == list(range(1, 11))
figures["dynamic"] = timed(lambda: dynamic_flow(n=DYNAMIC), list(range(1, DYNAMIC + 1)))
assert asyncio.run(gathered(n=10)) == 55
figures["eager"] = timed(lambda: asyncio.run(gathered(n=EAGER)), EAGER * (EAGER + 1) // 2)
print(json.dumps(figures))
'''


def measure(python: str, package: str, arguments: list[str], env: dict) -> dict:
    """Run the program with ``package``'s imports in ``python``; return its figures (or an error)."""
    work = Path(__file__).resolve().parent / ".work"
    work.mkdir(exist_ok=True)
    script = work / f"fanout_{package}.py"
    script.write_text(PROGRAM.replace("PACKAGE", package))
    done = subprocess.run([python, str(script), *arguments], capture_output=True, text=True, env=env, cwd=work)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--map", type=int, default=10_000, help="items mapped (default 10000)")
    parser.add_argument("--dynamic", type=int, default=1000, help="tasks a dynamic launches (default 1000)")
    parser.add_argument("--eager", type=int, default=1000, help="calls an eager workflow gathers (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV))
    arguments = parser.parse_args()
    env = child_env()
    env.setdefault("TASKLOOM_EXECUTOR", "local")
    program_arguments = [str(arguments.map), str(arguments.dynamic), str(arguments.eager), str(arguments.repeat)]
    flytekit_python = str(ensure_flytekit_venv(Path(os.path.abspath(arguments.flytekit_venv))))
    sides = {
        "taskloom": measure(os.path.abspath(arguments.taskloom_python), "taskloom", program_arguments, env),
        "flytekit": measure(flytekit_python, "flytekit", program_arguments, env),
    }
    rows = []
    for label, key, target in (
        (f"map over {arguments.map} items (threads)", "map", "≥ 20×"),
        (f"dynamic launching {arguments.dynamic} tasks", "dynamic", ""),
        (f"eager gathering {arguments.eager} calls", "eager", ""),
    ):
        cells = {side: None if "error" in figures else statistics.median(figures[key]) for side, figures in sides.items()}
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
    widths = [max(len(str(row[index])) for row in (header, *rows)) for index in range(len(header))]
    for row in (header, tuple("-" * width for width in widths), *rows):
        print("| " + " | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)) + " |")
    for side, figures in sides.items():
        if "error" in figures:
            print(f"{side}: {figures['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
