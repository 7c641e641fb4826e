"""Tables (taskloom-arrow) through the local cache and ``loom run``: cross-distribution behaviour."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa

import taskloom_local.cache as cache_module
from taskloom import StructuredDataset, task

PROGRAM = textwrap.dedent(
    """
    import os
    from typing import Annotated

    import pyarrow as pa

    from taskloom import Cache, kwtypes, task, workflow


    @task(cache=Cache(version="1"))
    def make(n: int) -> pa.Table:
        with open(os.environ["SIDE_EFFECTS"], "a") as log:
            log.write("make\\n")
        return pa.table({"a": list(range(n)), "b": ["x"] * n})


    @task
    def count(table: pa.Table) -> int:
        return table.num_rows


    @task
    def wrong(table: Annotated[pa.Table, kwtypes(b=int)]) -> int:
        return table.num_rows


    @workflow
    def counted(n: int) -> int:
        return count(table=make(n=n))


    @workflow
    def mistyped(n: int) -> int:
        return wrong(table=make(n=n))
    """
)


def _environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SIDE_EFFECTS": str(tmp_path / "side-effects.log"),
        "TASKLOOM_CACHE_PATH": str(tmp_path / "cache" / "cache.sqlite"),
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
    }


def _loom(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "tables.py"
    program.write_text(PROGRAM)
    loom = Path(sys.executable).with_name("loom")
    return subprocess.run(
        [str(loom), "run", str(program), *arguments],
        capture_output=True,
        text=True,
        env=_environment(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )


def test_loom_run_names_the_task_input_column_and_types_of_a_mistyped_table(tmp_path):
    done = _loom(tmp_path, "mistyped", "--n", "3")
    assert done.returncode != 0
    assert "task 'tables.wrong': input 'table': column 'b' expects int, got string" in done.stderr


def test_a_cached_table_output_is_kept_beside_the_cache_and_read_back_in_a_new_process(tmp_path):
    first = _loom(tmp_path, "counted", "--n", "4")
    assert first.returncode == 0, first.stderr
    assert "4" in first.stdout
    stored = [path for path in (tmp_path / "cache" / "data").rglob("*") if path.is_file()]
    assert stored, "the cached table was not written beside the cache"
    second = _loom(tmp_path, "counted", "--n", "4")
    assert second.returncode == 0, second.stderr
    assert "4" in second.stdout
    assert (tmp_path / "side-effects.log").read_text().splitlines() == ["make"]  # the second run hit the cache


def test_the_cache_key_of_a_table_input_writes_no_file_and_follows_its_content(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "raw"))
    monkeypatch.chdir(tmp_path)

    @task(cache=True, cache_version="1")
    def rows(sd: StructuredDataset) -> int:
        return 0

    def key(table: pa.Table) -> tuple[str, str, str, str]:
        return cache_module.LocalCache.key(rows, {"sd": StructuredDataset(dataframe=table)})

    same = key(pa.table({"a": [1, 2]}))
    assert same == key(pa.table({"a": [1, 2]}))
    assert same != key(pa.table({"a": [1, 3]}))
    assert sorted(os.listdir(tmp_path)) == []  # no raw output directory, no file anywhere under it
