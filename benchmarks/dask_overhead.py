#!/usr/bin/env python3
"""The executor ``dask`` against plain ``dask.distributed`` doing the same work, on one LocalCluster, as ratios.

    .venv/bin/python benchmarks/dask_overhead.py [--map 10000] [--fanout 1000] [--workers 2] [--repeat 5]

One LocalCluster (``--workers`` worker processes of one thread each, TCP on 127.0.0.1) serves both sides;
each figure is the median (and min) wall time of ``--repeat`` runs after one warm-up run (the fan-out's runs take
turns with plain Dask's):

* map: a workflow mapping a trivial task (``inc(x) -> x + 1``) over ``--map`` items (``map_task``), run by
  ``DaskExecutor``, unrecorded and recorded; plain Dask: ``client.gather(client.map(inc, items, pure=False))``;
* fan-out: a workflow of ``--fanout`` independent ``inc`` nodes and one node summing their outputs, unrecorded and
  recorded (``loom run``'s default); plain Dask: ``client.submit(inc, i, pure=False)`` for each, then one
  ``client.submit(total, futures)``, gathered.

flytekit has no executor that runs a workflow on a Dask cluster (its Dask plugin runs one task's body as a Dask
job), so the other side is Dask itself; the target (DESIGN §5) is taskloom within 1.5× of it. Timing lives
here, never in unit tests (STYLE §7).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from taskloom import map_task, task, workflow

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: DESIGN §5: taskloom's time over plain Dask's.
TARGET = 1.5


# The workers find the tasks (and the plain functions) in this file, loaded as __mp_main__: module level only.
def inc_plain(x: int) -> int:
    return x + 1


def total_plain(values: list[int]) -> int:
    return sum(values)


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(values: list[int]) -> int:
    return sum(values)


@workflow
def mapped(xs: list[int]) -> list[int]:
    return map_task(inc)(x=xs)


def fan_out(width: int) -> Any:
    @workflow
    def fanned() -> int:
        return total(values=[inc(x=i) for i in range(width)])

    return fanned


def timed(run, repeat: int) -> tuple[float, float]:
    run()  # warm-up: workers import the tasks' module, the client's connections open
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), min(times)


def timed_in_turns(ours, theirs, repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both sides' (median, min), their runs taking turns: a machine that slows down for a while slows both."""
    ours(), theirs()  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, kept in ((theirs, times[1]), (ours, times[0])):
            began = time.perf_counter()
            run()
            kept.append(time.perf_counter() - began)
    return (statistics.median(times[0]), min(times[0])), (statistics.median(times[1]), min(times[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()

    import dask
    from distributed import Client, LocalCluster
    from startup import print_rows

    from taskloom_dask import DaskExecutor

    os.environ.setdefault("TASKLOOM_DATA_DIR", str(Path(__file__).resolve().parent / ".work" / "dask-data"))
    items = list(range(arguments.map))
    fanned = fan_out(arguments.fanout)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=arguments.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    rows = []

    def executor_for(client: Any, record: str) -> Any:
        # Whether runs are recorded is read when the (local) executor is made.
        os.environ["TASKLOOM_RECORD"] = record
        return DaskExecutor(client, name=f"dask-record-{record}")

    try:
        with Client(cluster, set_as_default=False) as client:
            unrecorded, recorded = executor_for(client, "0"), executor_for(client, "1")

            def plain_map() -> None:
                assert client.gather(client.map(inc_plain, items, pure=False))[-1] == arguments.map

            def plain_fanout() -> None:
                futures = [client.submit(inc_plain, i, pure=False) for i in range(arguments.fanout)]
                assert client.submit(total_plain, futures, pure=False).result() > 0

            # Plain Dask's map takes ~25 s a run here: measured once for both map figures. The fan-out, near its
            # target, takes turns with plain Dask's.
            plain_map_times = timed(plain_map, arguments.repeat)
            figures = [
                (
                    f"map of {arguments.map:,} (unrecorded)",
                    lambda: (
                        timed(lambda: unrecorded.execute(mapped, {"xs": items}), arguments.repeat),
                        plain_map_times,
                    ),
                ),
                (
                    f"map of {arguments.map:,} (recorded)",
                    lambda: (timed(lambda: recorded.execute(mapped, {"xs": items}), arguments.repeat), plain_map_times),
                ),
                (
                    f"fan-out of {arguments.fanout:,} nodes (unrecorded)",
                    lambda: timed_in_turns(lambda: unrecorded.execute(fanned, {}), plain_fanout, arguments.repeat),
                ),
                (
                    f"fan-out of {arguments.fanout:,} nodes (recorded)",
                    lambda: timed_in_turns(lambda: recorded.execute(fanned, {}), plain_fanout, arguments.repeat),
                ),
            ]
            for name, measure in figures:
                (ours_median, ours_min), (theirs_median, theirs_min) = measure()
                ratio = ours_median / theirs_median
                rows.append(
                    (
                        name,
                        f"{ours_median * 1000:.0f} ms (min {ours_min * 1000:.0f})",
                        f"{theirs_median * 1000:.0f} ms (min {theirs_min * 1000:.0f})",
                        f"{ratio:.2f}×",
                        f"≤ {TARGET}×",
                        "yes" if ratio <= TARGET else "NO",
                    )
                )
            unrecorded.close()
            recorded.close()
    finally:
        cluster.close()
    print(f"LocalCluster: {arguments.workers} worker processes × 1 thread, {os.cpu_count()} cores")
    print_rows(("figure", "taskloom (DaskExecutor)", "plain dask.distributed", "ratio", "target", "met?"), rows)


if __name__ == "__main__":
    main()
