#!/usr/bin/env python3
"""Tables between tasks (pandas, pyarrow, polars), taskloom side by side with flytekit 1.16, as ratios.

    python3 benchmarks/tables.py [--rows 1000000] [--repeat 5] [--rounds 1] [--libraries pandas,pyarrow,polars]

A workflow of two tasks hands a table of ``--rows`` rows and 4 columns (two int64, two float64) from
the first task to the second, which returns its row count. Each case runs in its own interpreter (the
taskloom venv, and the flytekit venv of ``startup.py`` with pandas, pyarrow, polars and
flytekitplugins-polars added when missing), after a small warm-up run and one full-size run, and
reports the wall time of ``--repeat`` runs (median and min) and the peak memory relative to the
table: the child's VmHWM after its runs minus its VmHWM before the table is made, divided by the
table's own size (``nbytes``; pandas ``memory_usage(deep=True)``). The cases, for each library:

* in-process: taskloom's local executor as it is by default (threads); the second task should get
  the very object the first returned (the row says whether it did);
* process pool: taskloom with ``TASKLOOM_PROCESSES=2``, both tasks in worker processes, the table
  pickled through the workers' pipes to the parent and back;
* storage: taskloom doing between the two tasks what two ``loom-execute`` containers do, each in its
  own process as the containers are: the first task's outputs become a literal map (the table written
  as Parquet under a raw output prefix on the local file system, the map as flyteidl protobuf bytes
  in a file), then the second's inputs are read back from those bytes and that Parquet; a run's time
  is the writing side's plus the reading side's, its peak the larger of the two processes' peaks
  (each container holds one table, the one it made or the one it read). The files lie on the local
  file system, standing in for object storage, and are written as taskloom writes them there: Parquet
  compressed with snappy (``TASKLOOM_PARQUET_COMPRESSION=snappy``);
* local storage: the same, with the files as taskloom writes them on this machine's own storage
  (uncompressed Parquet, ``taskloom_arrow.handlers.parquet_compression``): the cache, a recorded
  execution, a local ``loom-execute``;
* flytekit: its local run of the same workflow, the same for every case: flytekit turns every task
  output into a literal, so the table is written as Parquet under its local raw output prefix (a
  temporary directory) and read back for the second task.

The two sides run alternately, library by library (``--rounds`` repeats the whole sweep and pools the
runs). Timing lives here, never in unit tests (STYLE §7).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
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

LIBRARIES = ("pandas", "pyarrow", "polars")
#: What flytekit needs for tables of every library (polars' encoders live in a flytekit plugin).
FLYTEKIT_TABLE_PACKAGES = ("pandas", "pyarrow", "polars", "flytekitplugins-polars==1.16.31")
#: The targets of DESIGN §5: (speed-up over flytekit, peak memory over the table's size).
TARGETS = {"in-process": (20.0, 1.2), "process pool": (2.0, 2.0), "storage": (2.0, 2.0), "local storage": (2.0, 2.0)}
#: The taskloom cases, in the order they run and print.
CASES = ("in-process", "process pool", "storage", "local storage")

PROGRAM = r"""
import json, os, sys, tempfile, time
from PACKAGE import task, workflow

LIBRARY, ROWS, REPEAT, CASE = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

import numpy as np
if LIBRARY == "pandas":
    import pandas as pd
    Table = pd.DataFrame
    def make(n):
        i = np.arange(n, dtype=np.int64)
        return pd.DataFrame({"a": i, "b": i * 0.5, "c": i % 7, "d": np.sqrt(i)})
    def size(table):
        return int(table.memory_usage(deep=True).sum())
elif LIBRARY == "pyarrow":
    import pyarrow as pa
    Table = pa.Table
    def make(n):
        i = np.arange(n, dtype=np.int64)
        return pa.table({"a": i, "b": i * 0.5, "c": i % 7, "d": np.sqrt(i)})
    def size(table):
        return table.nbytes
else:
    import polars as pl
    Table = pl.DataFrame
    def make(n):
        i = np.arange(n, dtype=np.int64)
        return pl.DataFrame({"a": i, "b": i * 0.5, "c": i % 7, "d": np.sqrt(i)})
    def size(table):
        return int(table.estimated_size())

def peak():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process that forked this one.
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) * 1024

def reset_peak():
    # Linux (since 4.0): VmHWM starts again from the resident size now.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")

# Made once per process and kept, so that a run times the hand-over, not the making of the table
# (in a worker process, made there on first use).
TABLES = {}
RECEIVED = []

@task
def produce(n: int) -> Table:
    if n not in TABLES:
        TABLES[n] = make(n)
    return TABLES[n]

@task
def consume(t: Table) -> int:
    RECEIVED.append(t is TABLES.get(len(t)))
    return len(t)

@workflow
def handed(n: int) -> int:
    return consume(t=produce(n=n))

if CASE.startswith("storage"):
    # Two loom-execute containers, each its own process: the first writes its task's outputs as a
    # literal map (the table as Parquet under the raw output prefix, the map as protobuf bytes in a
    # file); the second reads its inputs back from those bytes and that Parquet.
    from taskloom.extend import FileAccessProvider, FlyteContextManager, TypeEngine
    from taskloom_flyte.codec import literal_map_from_bytes, literal_map_to_bytes

    work = sys.argv[5]
    access = FileAccessProvider(local_sandbox_dir=os.path.join(work, "sandbox"), raw_output_prefix=os.path.join(work, "raw"))

    def write(n):
        ctx = FlyteContextManager.current_context().with_file_access(access)
        with FlyteContextManager.with_context(ctx) as ctx:
            outputs = {"o0": produce.task_function(n=n)}
            data = literal_map_to_bytes(TypeEngine.dict_to_literal_map(ctx, outputs, {"o0": Table}))
            with open(os.path.join(work, f"outputs-{n}.pb"), "wb") as file:
                file.write(data)
            return n

    def read(n):
        ctx = FlyteContextManager.current_context().with_file_access(access)
        with FlyteContextManager.with_context(ctx) as ctx:
            with open(os.path.join(work, f"outputs-{n}.pb"), "rb") as file:
                literals = literal_map_from_bytes(file.read())
            # The workflow binds the first task's output o0 to the second's input t.
            bound = type(literals)(literals={"t": literals.literals["o0"]})
            inputs = TypeEngine.literal_map_to_kwargs(ctx, bound, {"t": Table})
            return consume.task_function(**inputs)

    run = write if CASE == "storage write" else read
else:
    def run(n):
        return handed(n=n)

if __name__ == "__main__":  # worker processes import this file too
    assert run(1000) == 1000  # warm-up: imports, encoders, worker processes
    reset_peak()
    baseline = peak()
    assert run(ROWS) == ROWS  # the table is made here (in this process or a worker)
    reset_peak()  # the making of the table (numpy's temporaries) is not the hand-over
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = run(ROWS)
        runs.append(time.perf_counter() - start)
        assert result == ROWS, result
    top = peak()
    table_bytes = size(TABLES.get(ROWS) if ROWS in TABLES else make(ROWS))
    print(json.dumps({
        "runs": runs, "peak": top - baseline, "table": table_bytes,
        "same_object": bool(RECEIVED) and all(RECEIVED[-REPEAT:]),
    }), flush=True)
    # The figures are out: skip the interpreter's teardown, where pyarrow sometimes aborts
    # ("terminate called without an active exception") while its threads are being stopped.
    os._exit(0)
"""


def measure(python: str, package: str, library: str, case: str, arguments: argparse.Namespace, env: dict) -> dict:
    """Run the program for one library and case in ``python``; its figures, or ``{"error": ...}``.

    The storage case runs twice, a writing process then a reading one, over one directory: its runs
    are the sums of the two sides' runs, its peak the larger side's.
    """
    source = PROGRAM.replace("PACKAGE", package)
    program_arguments = [library, str(arguments.rows), str(arguments.repeat)]
    if not case.endswith("storage"):
        return run_generated(
            python, f"tables_{package}_{case.replace(' ', '_')}", source, [*program_arguments, case], env
        )
    with tempfile.TemporaryDirectory(prefix="tables-storage-") as work:
        sides = [
            run_generated(
                python, f"tables_{package}_storage", source, [*program_arguments, f"storage {side}", work], env
            )
            for side in ("write", "read")
        ]
    errors = [side for side in sides if "error" in side]
    if errors:
        return errors[0]
    written, read = sides
    return {
        "runs": [a + b for a, b in zip(written["runs"], read["runs"])],
        "peak": max(written["peak"], read["peak"]),
        "sides": (written["peak"], read["peak"]),
        "table": written["table"],
        "same_object": False,
    }


def ensure_table_packages(python: Path) -> None:
    """Add pandas, pyarrow, polars and flytekit's polars plugin to flytekit's venv when missing (only adds:
    pip's default strategy upgrades nothing already installed)."""
    probe = "import pandas, pyarrow, polars, flytekitplugins.polars"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return
    print(f"adding {', '.join(FLYTEKIT_TABLE_PACKAGES)} to {python.parent.parent}", file=sys.stderr)
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *FLYTEKIT_TABLE_PACKAGES]
    if subprocess.run(command).returncode != 0:
        sys.exit(f"pip could not add {', '.join(FLYTEKIT_TABLE_PACKAGES)} to {python.parent.parent}")


def pooled(results: list[dict]) -> dict:
    """The runs of every round of one case together, and its largest peak; or the first error."""
    errors = [result for result in results if "error" in result]
    if errors:
        return errors[0]
    runs = [run for result in results for run in result["runs"]]
    return {
        "median": statistics.median(runs),
        "min": min(runs),
        "peak": max(result["peak"] for result in results) / results[0]["table"],
        "table": results[0]["table"],
        "same_object": all(result["same_object"] for result in results),
        # storage: the writing and the reading process's peaks, each its largest over the rounds
        "sides": [max(result["sides"][i] for result in results) / results[0]["table"] for i in (0, 1)]
        if "sides" in results[0]
        else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the table (default 1000000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case and round (default 5)")
    parser.add_argument("--rounds", type=int, default=1, help="sweeps over every case, pooled (default 1)")
    parser.add_argument("--libraries", default=",".join(LIBRARIES), help="which table libraries (default all)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="record taskloom's runs as a user's are by default (a table made by a task slower than the "
        "durability threshold is then written as Parquet); without it TASKLOOM_RECORD=0, as flytekit records nothing",
    )
    parser.add_argument("--taskloom-python", default=str(DEFAULT_TASKLOOM_PYTHON))
    parser.add_argument("--flytekit-venv", default=str(DEFAULT_FLYTEKIT_VENV))
    arguments = parser.parse_args()
    libraries = [name for name in arguments.libraries.split(",") if name]
    env = child_env()
    env.setdefault("TASKLOOM_EXECUTOR", "local")
    if not arguments.record:
        env["TASKLOOM_RECORD"] = "0"
    flytekit_python = ensure_flytekit_venv(Path(os.path.abspath(arguments.flytekit_venv)))
    ensure_table_packages(flytekit_python)
    taskloom_python = os.path.abspath(arguments.taskloom_python)
    sides = {
        "in-process": (taskloom_python, "taskloom", env),
        "process pool": (taskloom_python, "taskloom", {**env, "TASKLOOM_PROCESSES": "2"}),
        "storage": (taskloom_python, "taskloom", {**env, "TASKLOOM_PARQUET_COMPRESSION": "snappy"}),
        "local storage": (taskloom_python, "taskloom", env),
        "flytekit": (str(flytekit_python), "flytekit", env),
    }
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(arguments.rounds):
        for library in libraries:
            # flytekit between the taskloom cases, so load from elsewhere hits both sides alike.
            for case in ("in-process", "flytekit", *CASES[1:]):
                python, package, case_env = sides[case]
                results.setdefault((library, case), []).append(
                    measure(python, package, library, case, arguments, case_env)
                )
    rows = []
    errors = []
    for library in libraries:
        flytekit = pooled(results[(library, "flytekit")])
        for case in CASES:
            taskloom = pooled(results[(library, case)])
            speed_target, peak_target = TARGETS[case]
            ratio = (
                flytekit["median"] / taskloom["median"] if "error" not in taskloom and "error" not in flytekit else None
            )
            rows.append(
                (
                    library,
                    case,
                    "n/a"
                    if "error" in taskloom
                    else f"{taskloom['median'] * 1e3:.1f} / {taskloom['min'] * 1e3:.1f} ms",
                    "n/a"
                    if "error" in flytekit
                    else f"{flytekit['median'] * 1e3:.0f} / {flytekit['min'] * 1e3:.0f} ms",
                    "n/a" if ratio is None else f"{ratio:.1f}× (≥ {speed_target:g}×)",
                    "n/a"
                    if "error" in taskloom
                    else f"{taskloom['peak']:.2f}× (≤ {peak_target:g}×)"
                    + ("" if not taskloom["sides"] else " (write {:.2f}×, read {:.2f}×)".format(*taskloom["sides"])),
                    "n/a" if "error" in flytekit else f"{flytekit['peak']:.2f}×",
                    "" if "error" in taskloom or case != "in-process" else ("yes" if taskloom["same_object"] else "no"),
                )
            )
            errors += [
                f"{library}, {name}: {side['error']}"
                for name, side in ((case, taskloom), ("flytekit", flytekit))
                if "error" in side
            ]
    table_mib = next(
        (
            pooled(results[(library, "in-process")])["table"] / 2**20
            for library in libraries
            if "error" not in pooled(results[(library, "in-process")])
        ),
        None,
    )
    print(
        f"a table of {arguments.rows} rows, 4 columns"
        + (f" ({table_mib:.1f} MiB)" if table_mib else "")
        + ("; taskloom's runs recorded" if arguments.record else "; taskloom's runs not recorded (TASKLOOM_RECORD=0)")
    )
    header = (
        "library",
        "case",
        "taskloom median / min",
        "flytekit median / min",
        "ratio",
        "peak / table",
        "flytekit peak / table",
        "same object",
    )
    print_rows(header, rows)
    for error in dict.fromkeys(errors):
        print(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
