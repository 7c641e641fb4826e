"""A damaged, unwritable or hostile execution store: runs go on with one warning naming the file,
``loom executions`` says what is wrong in one line, the store is private to its user, and a row never
leads outside its execution's directory.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from taskloom import task, workflow
from taskloom_local.executor import LocalExecutor
from taskloom_local.store import ExecutionStore, StoreUnreadable

SCRIPT = """
from taskloom import task, workflow

@task
def add(a: int, b: int) -> int:
    return a + b

@workflow
def wf() -> int:
    return add(a=add(a=1, b=2), b=3)
"""


@pytest.fixture
def flows(tmp_path):
    path = tmp_path / "flows.py"
    path.write_text(SCRIPT)
    return path


def loom(arguments, data):
    return subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        env={**os.environ, "TASKLOOM_DATA_DIR": str(data), "TASKLOOM_EXECUTOR": "local"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def mounted(directory, options: str):
    """A tmpfs at ``directory`` with ``options`` (``ro``, ``size=64k``); skips where mounting is not allowed."""
    directory.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def damaged(tmp_path, kind: str):
    data = tmp_path / "data"
    if kind == "corrupt":
        data.mkdir()
        (data / "executions.sqlite").write_bytes(os.urandom(8192))
    elif kind == "truncated":
        ExecutionStore(str(data)).connect().close()
        (data / "executions.sqlite").write_bytes((data / "executions.sqlite").read_bytes()[:100])
    elif kind == "not a directory":
        data.write_text("a file where the data directory should be")
    return data


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "not a directory"])
def test_a_damaged_store_warns_once_and_the_run_goes_on(flows, tmp_path, kind):
    data = damaged(tmp_path, kind)
    done = loom(["run", "--progress", "never", str(flows), "wf"], data)
    assert done.returncode == 0 and done.stdout == "6\n"
    warnings = [line for line in done.stderr.splitlines() if line]
    assert (
        len(warnings) == 1
        and warnings[0].startswith("taskloom: cannot record executions (")
        and str(data) in warnings[0]
    )


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "not a directory"])
@pytest.mark.parametrize(
    "command",
    [["executions", "list"], ["executions", "show", "lsomething"], ["executions", "prune", "--older-than", "1d"]],
)
def test_loom_executions_on_a_damaged_store_is_one_clear_line(tmp_path, kind, command):
    data = damaged(tmp_path, kind)
    done = loom(command, data)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: the execution store {data}/executions.sqlite cannot be read (")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_resuming_from_a_damaged_store_is_one_clear_line(flows, tmp_path):
    data = damaged(tmp_path, "corrupt")
    done = loom(["run", str(flows), "wf", "--resume", "lsomething"], data)
    assert done.returncode == 1 and "cannot be read" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_read_only_or_full_store_warns_and_the_run_goes_on(flows, tmp_path):
    with mounted(tmp_path / "ro", "ro,size=1m") as data:
        done = loom(["run", "--progress", "never", str(flows), "wf"], data)
        assert done.returncode == 0 and done.stdout == "6\n"
        assert "taskloom: cannot record executions (" in done.stderr and "Read-only file system" in done.stderr
    with mounted(tmp_path / "full", "size=64k") as data:
        (data / "filler").write_bytes(b"\0" * (60 * 1024))  # leaves too little for the database
        done = loom(["run", "--progress", "never", str(flows), "wf"], data)
        assert done.returncode == 0 and done.stdout == "6\n"
        assert "taskloom: cannot record executions (" in done.stderr


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_store_is_private_to_its_user_whatever_the_umask(flows, tmp_path, umask):
    data = tmp_path / "data" / "nested"
    previous = os.umask(umask)
    try:
        done = loom(["run", "--progress", "never", str(flows), "wf"], data)
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stderr
    made = [data.parent, data, *data.rglob("*")]
    for path in made:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, (path, oct(mode))
        else:
            assert mode == 0o600, (path, oct(mode))
    names = {path.name for path in made}
    assert {"executions.sqlite", "inputs.literals", "outputs.literals", "lock"} <= names


@task
def plus_one(x: int) -> int:
    return x + 1


@workflow
def two_steps(x: int = 1) -> int:
    return plus_one(x=plus_one(x=x))


def test_a_row_naming_a_file_outside_its_execution_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))
    store = ExecutionStore(str(tmp_path / "data"))
    secret = tmp_path / "secret.literals"
    secret.write_bytes(b"not for you")
    for name in ("../../../secret.literals", str(secret), "nodes/../../../../secret.literals"):
        with pytest.raises(ValueError, match="which is not inside its directory"):
            store.read_literals("lsome", name)

    executor = LocalExecutor()
    assert executor.execute(two_steps, {"x": 1}) == 3
    (record,) = store.executions()
    # A hostile row: the execution "failed", and its first node's outputs point outside.
    connection = sqlite3.connect(store.path)
    with connection:
        connection.execute("UPDATE executions SET status = 'failed' WHERE id = ?", (record.id,))
        connection.execute(
            "UPDATE nodes SET outputs = ?, outputs_state = 'stored' WHERE execution = ? AND path = 'n0'",
            ("../../../secret.literals", record.id),
        )
        connection.execute("DELETE FROM nodes WHERE execution = ? AND path = 'n1'", (record.id,))
    connection.close()
    assert executor.resume(record.id, two_steps) == 3  # n0 ran again instead of reading the file


def test_reading_a_damaged_store_raises_store_unreadable(tmp_path):
    data = damaged(tmp_path, "corrupt")
    with pytest.raises(StoreUnreadable, match="cannot be read"):
        ExecutionStore(str(data)).executions()
