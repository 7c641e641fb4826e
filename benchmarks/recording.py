#!/usr/bin/env python3
"""What recording costs a whole ``loom run``: each program run recorded and with ``TASKLOOM_RECORD=0``,
as wall time and peak memory of the process, with the ratio recorded / unrecorded (DESIGN §5: at most
1.25, memory bounded by a fixed backlog, not by the run's size). With a flytekit environment, the
10,000-element map is also run by ``pyflyte run`` and printed as a ratio.

    python3 benchmarks/recording.py [--repeat 5] [--flytekit-venv DIR] [--sizes small|all]

Programs (each a workflow of trivial tasks, run by ``loom run FILE wf``):

* ``map 10k``: ``map_task`` of ``inc`` over 10,000 ints, summed by a task;
* ``chain 500``: 500 ``inc`` calls, each reading the previous one's output;
* ``map 100k``: ``map_task`` over 100,000 ints (``--sizes all``);
* ``mixed 137k``: chains of 100 to 20,000 tasks and maps of 100 to 100,000 elements in one run, about
  137,000 records (``--sizes all``), the probe of issue 19.

Every timed figure is the median of ``--repeat`` runs after one warm-up, runs alternating between the
two modes so that load elsewhere hits both. Peak memory is the child's ``ru_maxrss``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import BENCH, DEFAULT_TASKLOOM_PYTHON, child_env

MAPPED = """
from PACKAGE import task, workflow, map_task

@task
def inc(x: int) -> int:
    return x + 1

@task
def total(values: list[int]) -> int:
    return sum(values)

@workflow
def wf() -> int:
    return total(values=map_task(inc)(x=list(range(SIZE))))
"""

PROGRAMS = {
    "map 10k": MAPPED.replace("SIZE", "10_000"),
    "chain 500": """
from PACKAGE import task, workflow

@task
def inc(x: int) -> int:
    return x + 1

@workflow
def wf() -> int:
    value = inc(x=0)
    for _ in range(499):
        value = inc(x=value)
    return value
""",
    "map 100k": MAPPED.replace("SIZE", "100_000"),
    "mixed 137k": """
from PACKAGE import task, workflow, map_task

@task
def inc(x: int) -> int:
    return x + 1

@task
def total(values: list[int]) -> int:
    return sum(values)

def chain(length: int):
    def body() -> int:
        value = inc(x=0)
        for _ in range(length - 1):
            value = inc(x=value)
        return value
    body.__name__ = body.__qualname__ = f"chain_{length}"
    return workflow(body)

def mapped(size: int):
    def body() -> int:
        return total(values=map_task(inc)(x=list(range(size))))
    body.__name__ = body.__qualname__ = f"map_{size}"
    return workflow(body)

parts = [chain(100), chain(1_000), chain(5_000), chain(20_000), mapped(100), mapped(1_000), mapped(10_000), mapped(100_000)]

@workflow
def wf() -> list[int]:
    return [part() for part in parts]
""",
}
SMALL = ("map 10k", "chain 500")


def run_once(argv: list[str], env: dict, cwd: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; raises if it fails."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(argv)} failed ({code}): {errors.read().decode().strip()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", help="a venv with flytekit 1.16 (pyflyte), for the 10k map ratio")
    parser.add_argument("--sizes", choices=["small", "all"], default="small")
    arguments = parser.parse_args()
    loom = str(Path(arguments.taskloom_python).parent / "loom")
    names = list(PROGRAMS) if arguments.sizes == "all" else list(SMALL)
    (BENCH / ".work").mkdir(exist_ok=True)  # beside the other benchmarks' work, gitignored
    work = Path(tempfile.mkdtemp(prefix="recording-", dir=BENCH / ".work"))
    env = child_env()
    env["TASKLOOM_DATA_DIR"] = str(work / "data")
    rows = []
    for name in names:
        file = work / f"{name.replace(' ', '_')}.py"
        file.write_text(PROGRAMS[name].replace("PACKAGE", "taskloom"))
        argv = [loom, "run", "--progress", "never", str(file), "wf"]
        modes = {"recorded": dict(env, TASKLOOM_RECORD="1"), "unrecorded": dict(env, TASKLOOM_RECORD="0")}
        for mode_env in modes.values():
            run_once(argv, mode_env, str(work))  # warm-up (bytecode, plugin index)
        walls: dict[str, list[float]] = {mode: [] for mode in modes}
        peaks: dict[str, list[float]] = {mode: [] for mode in modes}
        for _ in range(arguments.repeat):
            for mode, mode_env in modes.items():
                wall, peak = run_once(argv, mode_env, str(work))
                walls[mode].append(wall)
                peaks[mode].append(peak)
        recorded, unrecorded = statistics.median(walls["recorded"]), statistics.median(walls["unrecorded"])
        rows.append(
            (
                name,
                f"{recorded * 1000:.0f} ms",
                f"{unrecorded * 1000:.0f} ms",
                f"{recorded / unrecorded:.2f}x",
                f"{statistics.median(peaks['recorded']):.0f} MiB",
                f"{statistics.median(peaks['unrecorded']):.0f} MiB",
            )
        )
        if name == "map 10k" and arguments.flytekit_venv:
            flyte_file = work / "map_10k_flytekit.py"
            flyte_file.write_text(PROGRAMS[name].replace("PACKAGE", "flytekit"))
            pyflyte = [str(Path(arguments.flytekit_venv) / "bin" / "pyflyte"), "run", str(flyte_file), "wf"]
            run_once(pyflyte, env, str(work))
            flyte_walls = [run_once(pyflyte, env, str(work))[0] for _ in range(max(1, arguments.repeat // 2))]
            flytekit = statistics.median(flyte_walls)
            rows.append(
                (
                    "  pyflyte run, same map",
                    f"{flytekit * 1000:.0f} ms",
                    "",
                    f"{flytekit / recorded:.1f}x faster recorded",
                    "",
                    "",
                )
            )
    shutil.rmtree(work, ignore_errors=True)
    headers = ("program (whole loom run)", "recorded", "unrecorded", "ratio", "peak recorded", "peak unrecorded")
    widths = [max(len(str(row[index])) for row in (headers, *rows)) for index in range(len(headers))]
    for row in (headers, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
