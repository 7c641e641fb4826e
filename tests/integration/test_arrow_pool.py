"""A polars table crosses the process pool's workers and the scheduler as its Arrow table (issue 23, point 5):
end to end, the workers rebuild it (``taskloom_arrow.tables._polars_from_arrow``) with its schema."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

POLARS_POOLED = textwrap.dedent(
    """
    import os

    import polars as pl

    from taskloom import task, workflow


    @task
    def make(n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"a": range(n), "grade": pl.Series(["x", "y"] * (n // 2), dtype=pl.Enum(["x", "y", "z"]))}
        )


    @task
    def total(table: pl.DataFrame) -> int:
        with open(os.environ["SIDE_EFFECTS"], "a") as log:
            log.write(f"{os.getpid()} {table.schema['grade']}\\n")
        return int(table["a"].sum())


    @workflow
    def summed(n: int) -> int:
        return total(table=make(n=n))
    """
)


def test_a_polars_table_crosses_the_process_pool_with_its_schema(tmp_path: Path) -> None:
    (tmp_path / "pooled.py").write_text(POLARS_POOLED)
    environment = {
        **os.environ,
        "SIDE_EFFECTS": str(tmp_path / "side-effects.log"),
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "TASKLOOM_PROCESSES": "2",
        "TASKLOOM_RECORD": "0",
    }
    loom = Path(sys.executable).with_name("loom")
    command = [str(loom), "run", "--progress", "never", str(tmp_path / "pooled.py"), "summed", "--n", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stdout.strip() == str(sum(range(1000)))
    pid, grade = (tmp_path / "side-effects.log").read_text().split(" ", 1)
    assert pid != str(process.pid)  # a worker ran it, the table sent to it and back as Arrow
    assert grade.strip() == "Enum(categories=['x', 'y', 'z'])"
