"""Tables (taskloom-arrow) through the local cache and ``loom run``: cross-distribution behaviour."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import pytest

import taskloom_local.cache as cache_module
from taskloom import StructuredDataset, task

PROGRAM = textwrap.dedent(
    """
    import os
    from typing import Annotated

    import pandas as pd
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


    @task(cache=Cache(version="1"))
    def other(n: int) -> pa.Table:
        return pa.table({"c": list(range(n))})


    @workflow
    def counted(n: int) -> int:
        return count(table=make(n=n))


    @workflow
    def both(n: int) -> tuple[int, int]:
        return count(table=make(n=n)), count(table=other(n=n))


    @workflow
    def mistyped(n: int) -> int:
        return wrong(table=make(n=n))


    @task
    def ages(df: Annotated[pd.DataFrame, kwtypes(a=int)]) -> str:
        return f"{list(df.columns)} {int(df['a'].sum())}"
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


def test_loom_run_reads_a_table_input_given_by_its_path_with_only_the_declared_columns(tmp_path):
    import pyarrow.parquet as pq

    (tmp_path / "people").mkdir()
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), tmp_path / "people" / "00000")
    done = _loom(tmp_path, "ages", "--df", str(tmp_path / "people"))
    assert done.returncode == 0, done.stderr
    assert "['a'] 6" in done.stdout


def test_loom_run_names_the_task_and_input_of_a_table_path_that_does_not_exist(tmp_path):
    for name in ("ages", "count"):
        option = "--df" if name == "ages" else "--table"
        done = _loom(tmp_path, name, option, str(tmp_path / "missing.parquet"))
        assert done.returncode != 0
        last = done.stderr.strip().splitlines()[-1]
        assert f"task 'tables.{name}': input '{option[2:]}':" in last, done.stderr
        assert "missing.parquet' does not exist: give the path or URI of a Parquet or CSV table" in last
        assert "Traceback" not in done.stderr and "execution" not in done.stderr  # refused before any run


def test_a_cached_table_output_is_kept_beside_the_cache_and_read_back_in_a_new_process(tmp_path):
    first = _loom(tmp_path, "counted", "--n", "4")
    assert first.returncode == 0, first.stderr
    assert "4" in first.stdout
    stored = [path for path in (tmp_path / "cache" / "cache.sqlite-data").rglob("*") if path.is_file()]
    assert stored, "the cached table was not written beside the cache"
    second = _loom(tmp_path, "counted", "--n", "4")
    assert second.returncode == 0, second.stderr
    assert "4" in second.stdout
    assert (tmp_path / "side-effects.log").read_text().splitlines() == ["make"]  # the second run hit the cache
    cleared = subprocess.run(
        [str(Path(sys.executable).with_name("loom")), "cache", "clear"],
        capture_output=True,
        text=True,
        env=_environment(tmp_path),
        timeout=60,
    )
    assert cleared.returncode == 0, cleared.stderr
    assert not (tmp_path / "cache" / "cache.sqlite-data").exists()


def test_clearing_one_task_s_entries_removes_their_tables_and_keeps_the_others(tmp_path):
    done = _loom(tmp_path, "both", "--n", "3")
    assert done.returncode == 0, done.stderr
    data = tmp_path / "cache" / "cache.sqlite-data"
    assert len(list(data.iterdir())) == 2  # make's table and other's
    cleared = subprocess.run(
        [str(Path(sys.executable).with_name("loom")), "cache", "clear", "--task", "tables.other"],
        capture_output=True,
        text=True,
        env=_environment(tmp_path),
        timeout=60,
    )
    assert cleared.returncode == 0, cleared.stderr
    assert len(list(data.iterdir())) == 1
    again = _loom(tmp_path, "counted", "--n", "3")
    assert again.returncode == 0, again.stderr
    assert "3" in again.stdout
    assert (tmp_path / "side-effects.log").read_text().splitlines() == ["make"]  # make's entry and table are kept


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


NESTED = {
    "list": (list[pd.DataFrame], lambda a, b: [a, b]),
    "dict": (dict[str, pd.DataFrame], lambda a, b: {"first": a, "second": b}),
    "optional": (Optional[pd.DataFrame], lambda a, b: a),
}


@pytest.mark.parametrize("kind", list(NESTED))
def test_tables_nested_in_an_input_are_hashed_in_memory_and_the_key_follows_their_content(kind, tmp_path, monkeypatch):
    """A table in a list, dict or optional input (dataclasses refuse tables as fields): without its own in-memory hash it was made a
    literal, a file written under a fresh URI on every run, so the key never matched twice."""
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "raw"))
    monkeypatch.chdir(tmp_path)
    declared, make = NESTED[kind]

    @task(cache=True, cache_version="1")
    def rows(tables: declared) -> int:  # type: ignore[valid-type]
        return 0

    def key(a: list[int], b: list[int]) -> tuple[str, str, str, str]:
        return cache_module.LocalCache.key(rows, {"tables": make(pd.DataFrame({"a": a}), pd.DataFrame({"a": b}))})

    same = key([1, 2], [3])
    assert same == key([1, 2], [3])
    assert same != key([1, 5], [3])
    if kind in ("list", "dict"):
        assert same != key([1, 2], [4])
    assert sorted(os.listdir(tmp_path)) == []  # no raw output directory, no file anywhere under it


def test_a_task_given_a_list_of_tables_is_found_in_the_cache_on_the_next_run(tmp_path):
    (tmp_path / "nested.py").write_text(
        textwrap.dedent(
            """
            import pandas as pd
            from taskloom import Cache, task, workflow

            @task(cache=Cache(version="1"))
            def total(frames: list[pd.DataFrame]) -> int:
                return int(sum(frame["a"].sum() for frame in frames))

            @workflow
            def summed() -> int:
                return total(frames=[pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"a": [3]})])
            """
        )
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "TASKLOOM_CACHE_PATH": str(tmp_path / "cache" / "cache.sqlite"),
    }
    runs = [
        subprocess.run(
            [str(Path(sys.executable).parent / "loom"), "run", "nested.py", "summed"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[-1].stderr
    assert [run.stdout.strip() for run in runs] == ["6", "6"]
    assert "(cached)" not in runs[0].stderr and "(cached)" in runs[1].stderr, runs[1].stderr


RESUMABLE = textwrap.dedent(
    """
    import os

    import pandas as pd

    from taskloom import task, workflow


    @task
    def make(n: int) -> pd.DataFrame:
        with open(os.environ["SIDE_EFFECTS"], "a") as log:
            log.write("make\\n")
        return pd.DataFrame({"a": list(range(n))})


    @task
    def total(df: pd.DataFrame) -> int:
        if not os.path.exists(os.environ["MARKER"]):
            raise RuntimeError("not yet")
        return int(df["a"].sum())


    @workflow
    def summed(n: int) -> int:
        return total(df=make(n=n))
    """
)


def test_a_resume_reads_the_table_a_finished_node_recorded_in_the_execution_directory(tmp_path):
    from taskloom_local.store import ExecutionStore

    (tmp_path / "resumable.py").write_text(RESUMABLE)
    environment = {**_environment(tmp_path), "MARKER": str(tmp_path / "marker")}
    loom = Path(sys.executable).with_name("loom")

    def run(*arguments: str) -> subprocess.CompletedProcess[str]:
        command = [str(loom), "run", "--progress", "never", str(tmp_path / "resumable.py"), "summed", *arguments]
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120)

    failed = run("--n", "5")
    assert failed.returncode != 0 and "not yet" in failed.stderr
    store = ExecutionStore(str(tmp_path / "data"))
    (execution,) = store.executions()
    data = Path(store.execution_directory(execution.id)) / "data"
    assert [path.name for path in data.rglob("*") if path.is_file()] == ["00000"]  # the table, beside its record

    (tmp_path / "marker").touch()
    resumed = run("--n", "5", "--resume", execution.id)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "10"
    assert (tmp_path / "side-effects.log").read_text().splitlines() == ["make"]  # make did not run again


POOLED = textwrap.dedent(
    """
    import os

    import pyarrow as pa

    from taskloom import task, workflow


    @task
    def make(n: int) -> pa.Table:
        return pa.table({"a": list(range(n)), "b": [str(i) for i in range(n)]})


    @task
    def total(table: pa.Table) -> int:
        with open(os.environ["SIDE_EFFECTS"], "a") as log:
            log.write(f"{os.getpid()}\\n")
        return sum(table.column("a").to_pylist())


    @workflow
    def summed(n: int) -> int:
        return total(table=make(n=n))
    """
)


def test_a_table_crosses_the_process_pool_pickled_through_the_pipe_without_a_file(tmp_path):
    (tmp_path / "pooled.py").write_text(POOLED)
    raw = tmp_path / "raw"
    # Not recorded: a recording writes the table (under the raw prefix when there is one), by design.
    environment = {
        **_environment(tmp_path),
        "TASKLOOM_PROCESSES": "2",
        "TASKLOOM_RAW_OUTPUT_PREFIX": str(raw),
        "TASKLOOM_RECORD": "0",
    }
    loom = Path(sys.executable).with_name("loom")
    command = [str(loom), "run", "--progress", "never", str(tmp_path / "pooled.py"), "summed", "--n", "100"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stdout.strip() == "4950"
    assert (tmp_path / "side-effects.log").read_text().split() != [str(process.pid)]  # a worker ran it
    assert not raw.exists()  # the workers got and gave the table pickled, not as a file under the raw prefix


def test_recording_a_table_leaves_the_context_outside_tasks_to_the_calling_thread(tmp_path, monkeypatch):
    # The recorder converts a table on its own thread: the context outside tasks that the caller then sees
    # must still carry the caller's own parameters (taskloom.current_context()).
    from taskloom import FlyteContextManager, current_context, workflow

    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TASKLOOM_RAW_OUTPUT_PREFIX", raising=False)

    @task
    def make() -> pa.Table:
        return pa.table({"a": [1]})

    @task
    def fail(table: pa.Table) -> int:
        raise ValueError("kept for the resume")

    @workflow
    def flow() -> int:
        return fail(table=make())

    try:
        flow()
    except Exception:
        pass
    from taskloom_local.recorder import recorder_for
    from taskloom_local.store import ExecutionStore

    recorder_for(ExecutionStore(str(tmp_path / "data"))).flush(timeout=30)
    assert FlyteContextManager.current_context().user_space_params is current_context()
