#!/usr/bin/env python3
"""In-process workflow figures, taskloom side by side with flytekit 1.16, printed as ratios.

    python3 benchmarks/workflows.py [--chain 500] [--compile 1000] [--repeat 5]

Each side runs the same generated program in its own interpreter (the taskloom venv and the flytekit
venv of ``startup.py``), differing only in its imports, and reports:

* per-node overhead: a workflow chaining N trivial tasks (``inc(x) -> x + 1``), run after one warm-up
  run, wall time divided by N; beside it, a plain function call plus a dict lookup per node, the floor
  DESIGN §5 measures against;
* compile time: declaring a workflow of M trivial task calls (``@workflow`` on a generated function;
  flytekit compiles lazily, so its ``compile()`` is called too).

Timing lives here, never in unit tests (STYLE §7).
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
import json, sys, time
from PACKAGE import task, workflow

CHAIN, COMPILE, REPEAT = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

@task
def inc(x: int) -> int:
    return x + 1

# The workflow bodies are written out as source (flytekit reads a workflow's source code).
GENERATED

chain = workflow(chain_body)
assert chain(x=0) == CHAIN  # warm-up, and a check that it really ran
runs = []
for _ in range(REPEAT):
    start = time.perf_counter()
    chain(x=0)
    runs.append((time.perf_counter() - start) / CHAIN)

compiles = []
for _ in range(REPEAT):
    start = time.perf_counter()
    compiled = workflow(big_body)
    if hasattr(compiled, "compile"):  # flytekit compiles lazily; taskloom at declaration
        compiled.compile()
    compiles.append(time.perf_counter() - start)

table = {i: i for i in range(CHAIN)}
def plain(x):
    return x + 1
start = time.perf_counter()
for _ in range(REPEAT):
    x = 0
    for i in range(CHAIN):
        x = plain(table[i])
floor = (time.perf_counter() - start) / (REPEAT * CHAIN)
print(json.dumps({"per_node": runs, "compile": compiles, "floor": floor}))
"""


def measure(python: str, package: str, arguments: list[str], env: dict) -> dict:
    """Run the program with ``package``'s imports in ``python``; return its figures (or an error)."""
    chain, size = int(arguments[0]), int(arguments[1])
    generated = "\n\n".join(
        "\n".join([f"def {name}(x: int) -> int:", *["    x = inc(x=x)"] * count, "    return x"])
        for name, count in (("chain_body", chain), ("big_body", size))
    )
    source = PROGRAM.replace("PACKAGE", package).replace("GENERATED", generated)
    return run_generated(python, f"workflows_{package}", source, arguments, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", type=int, default=500, help="tasks in the chain (default 500)")
    parser.add_argument("--compile", type=int, default=1000, help="nodes of the compiled workflow (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV))
    arguments = parser.parse_args()
    env = child_env()
    env.setdefault("TASKLOOM_EXECUTOR", "local")
    program_arguments = [str(arguments.chain), str(arguments.compile), str(arguments.repeat)]
    flytekit_python = str(ensure_flytekit_venv(Path(os.path.abspath(arguments.flytekit_venv))))
    sides = {
        "taskloom": measure(os.path.abspath(arguments.taskloom_python), "taskloom", program_arguments, env),
        "flytekit": measure(flytekit_python, "flytekit", program_arguments, env),
    }
    rows = []
    for label, key, unit, scale, target in (
        (f"per-node overhead, chain of {arguments.chain}", "per_node", "µs", 1e6, "≥ 20×"),
        (f"compile a {arguments.compile}-node workflow", "compile", "ms", 1e3, "≥ 10×"),
    ):
        cells = {}
        for side, figures in sides.items():
            cells[side] = None if "error" in figures else statistics.median(figures[key])
        ratio = cells["flytekit"] / cells["taskloom"] if None not in cells.values() else None
        rows.append(
            (
                label,
                *(
                    "n/a" if cells[side] is None else f"{cells[side] * scale:.1f} {unit}"
                    for side in ("taskloom", "flytekit")
                ),
                "n/a" if ratio is None else f"{ratio:.1f}×",
                target,
            )
        )
    floor = sides["taskloom"].get("floor")
    header = ("figure", "taskloom", "flytekit", "ratio", "target")
    print_rows(header, rows)
    if floor is not None and "error" not in sides["taskloom"]:
        per_node = statistics.median(sides["taskloom"]["per_node"])
        print(
            f"\nplain function call + dict lookup: {floor * 1e6:.2f} µs per node; taskloom is {per_node / floor:.0f}× that"
        )
    for side, figures in sides.items():
        if "error" in figures:
            print(f"{side}: {figures['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
