"""A broken task cache degrades to no cache (DESIGN §7): corrupt, read-only, full or misplaced.

Each fault is made for real: random bytes or damaged pages in the SQLite file; a tmpfs mounted
read-only (as root, ``chmod`` does not stop writes); a tmpfs of 64 KiB filled up; a cache path whose
directory is a regular file, or which is itself a directory. Each is tried through a workflow with
a cached task (it must run, uncached, with one warning naming the file and the reason) and through
``loom cache list`` and ``loom cache clear`` (one line, no traceback). Mounting needs root; where
it fails the cases that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from taskloom import LaunchPlan, task, workflow

LOOM = os.path.join(os.path.dirname(sys.executable), "loom")


# --- making faults ---------------------------------------------------------------------------


def mount_tmpfs(directory, options):
    """Mount a tmpfs on ``directory`` (skipping the test if this machine does not let us)."""
    directory.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): this fault needs one")
    return directory


def remount_read_only(directory):
    subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True, capture_output=True)


@pytest.fixture
def mounts(tmp_path):
    """Mount points made by the test, unmounted after it."""
    made = []
    yield lambda directory, options: made.append(mount_tmpfs(directory, options)) or directory
    for directory in reversed(made):
        subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory):
    """Write into ``directory`` until its file system is full."""
    with open(directory / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError:
            pass


def healthy_cache(path):
    """A cache at ``path`` holding an entry of another task."""
    from taskloom_local.cache import LocalCache

    @task(name="faults.other", cache=True, cache_version="1")
    def other(x: int) -> int:
        return x

    cache = LocalCache(str(path))
    cache.put(other, cache.key(other, {"x": 1}), {"o0": 1})
    return path


def corrupt_random(tmp_path, mounts):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(os.urandom(8192))
    return path, "file is not a database"


def corrupt_pages(tmp_path, mounts):
    path = healthy_cache(tmp_path / "cache.sqlite")
    data = bytearray(path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # the header still says SQLite
    path.write_bytes(bytes(data))
    return path, "malformed"


def corrupt_truncated(tmp_path, mounts):
    path = healthy_cache(tmp_path / "cache.sqlite")
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2 + 1)
    return path, "malformed"


def newer_layout(tmp_path, mounts):
    path = healthy_cache(tmp_path / "cache.sqlite")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    return path, "newer taskloom"


def read_only_with_entries(tmp_path, mounts):
    directory = mounts(tmp_path / "ro", "size=1m")
    path = healthy_cache(directory / "cache.sqlite")
    remount_read_only(directory)
    return path, "read-only"


def read_only_empty(tmp_path, mounts):
    directory = mounts(tmp_path / "ro", "ro,size=1m")
    return directory / "cache.sqlite", "Read-only file system"


def read_only_no_directory(tmp_path, mounts):
    directory = mounts(tmp_path / "ro", "ro,size=1m")
    return directory / "taskloom" / "cache.sqlite", "Read-only file system"


def full_before_first_use(tmp_path, mounts):
    directory = mounts(tmp_path / "full", "size=64k")
    fill(directory)
    return directory / "cache.sqlite", "full"


def full_while_writing(tmp_path, mounts):
    directory = mounts(tmp_path / "full", "size=64k")
    path = healthy_cache(directory / "cache.sqlite")
    fill(directory)
    return path, "full"


def not_a_directory(tmp_path, mounts):
    (tmp_path / "plain-file").write_text("not a directory")
    return tmp_path / "plain-file" / "cache.sqlite", "Not a directory"


def nested_not_a_directory(tmp_path, mounts):
    (tmp_path / "plain-file").write_text("not a directory")
    return tmp_path / "plain-file" / "taskloom" / "cache.sqlite", "Not a directory"


def is_a_directory(tmp_path, mounts):
    (tmp_path / "cache.sqlite").mkdir()
    return tmp_path / "cache.sqlite", "Is a directory"


FAULTS = [
    corrupt_random,
    corrupt_pages,
    corrupt_truncated,
    newer_layout,
    read_only_with_entries,
    read_only_empty,
    read_only_no_directory,
    full_before_first_use,
    full_while_writing,
    not_a_directory,
    nested_not_a_directory,
    is_a_directory,
]


@pytest.fixture(params=FAULTS, ids=[fault.__name__ for fault in FAULTS])
def broken(request, tmp_path, mounts, monkeypatch):
    """A broken cache: (path, a word its reason must contain, the fault's name); TASKLOOM_CACHE_PATH names it."""
    path, reason = request.param(tmp_path, mounts)
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(path))
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.setattr(LaunchPlan, "CACHE", {})
    return path, reason, request.param.__name__


def loom(*arguments):
    return subprocess.run([LOOM, *arguments], capture_output=True, text=True, timeout=120, env=dict(os.environ))


def warnings_in(stderr):
    return [line for line in stderr.splitlines() if "task cache" in line]


# --- a workflow runs, uncached, and says so once ---------------------------------------------


def test_a_workflow_with_a_cached_task_runs_uncached_with_one_warning(broken, capfd):
    path, reason, _fault = broken
    ran = []

    @task(cache=True, cache_version="1")
    def big(x: int) -> list[int]:
        ran.append(x)
        return list(range(x, x + 20_000))  # its entry does not fit in the full file system

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    @workflow
    def pipeline(x: int) -> int:
        return total(values=big(x=x))

    expected = sum(range(1, 20_001))
    assert [pipeline(x=1), pipeline(x=1)] == [expected, expected]
    assert ran == [1, 1]
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr
    (warning,) = warnings_in(stderr)  # once per process and cache path, however many calls
    assert str(path) in warning and reason.lower() in warning.lower(), warning


def test_a_workflow_script_runs_uncached_in_a_subprocess(broken, tmp_path):
    path, reason, _fault = broken
    script = tmp_path / "flows.py"
    script.write_text(
        "from taskloom import task, workflow\n\n"
        "@task(cache=True, cache_version='1')\n"
        "def double(x: int) -> int:\n    return 2 * x\n\n"
        "@workflow\n"
        "def pipeline() -> list[int]:\n    return [double(x=1), double(x=2), double(x=1)]\n\n"
        "if __name__ == '__main__':\n    print(pipeline())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[2, 4, 2]"
    (warning,) = warnings_in(done.stderr)
    assert str(path) in warning and reason.lower() in warning.lower() and "Traceback" not in done.stderr


# --- loom cache list and clear ---------------------------------------------------------------


def test_loom_cache_list_says_in_one_line_why_the_cache_is_unreadable(broken):
    path, reason, fault = broken
    listing = loom("cache", "list")
    assert "Traceback" not in listing.stderr
    if fault in ("read_only_empty", "read_only_no_directory", "full_before_first_use"):
        # nothing is there to read: the cache is empty (a run says why it cannot make it)
        assert listing.returncode == 0 and listing.stdout.startswith("The cache is empty"), listing
        return
    if fault == "full_while_writing":  # a full cache can still be read
        assert listing.returncode == 0 and "faults.other" in listing.stdout, listing
        return
    assert listing.returncode != 0
    (line,) = listing.stderr.strip().splitlines()
    assert "unreadable" in line and str(path) in line and reason.lower() in line.lower(), line


def test_loom_cache_clear_removes_a_cache_it_cannot_use_or_says_why_not(broken):
    path, reason, fault = broken
    cleared = loom("cache", "clear")
    assert "Traceback" not in cleared.stderr
    if fault.startswith("corrupt") or fault == "newer_layout":
        assert cleared.returncode == 0, cleared.stderr
        assert str(path) in cleared.stdout and "removed" in cleared.stdout.lower(), cleared.stdout
        assert not any(os.path.exists(f"{path}{suffix}") for suffix in ("", "-wal", "-shm"))
        assert loom("cache", "list").stdout.startswith("The cache is empty")
    elif fault == "full_while_writing":  # emptied in place if SQLite finds room, else removed
        assert cleared.returncode == 0 and "removed" in cleared.stdout.lower(), cleared
        assert loom("cache", "list").stdout.startswith("The cache is empty")
    elif fault in ("read_only_empty", "read_only_no_directory", "full_before_first_use"):
        assert (cleared.returncode, cleared.stdout.strip()) == (0, "Removed 0 cached entries.")
    else:  # a read-only file system, or a path that cannot be a file: nothing taskloom may fix
        assert cleared.returncode != 0
        (line,) = cleared.stderr.strip().splitlines()
        assert str(path) in line and reason.lower() in line.lower(), line
        assert os.path.lexists(path) == (fault in ("read_only_with_entries", "is_a_directory"))


def test_loom_cache_clear_of_one_task_leaves_an_unreadable_cache_and_says_how_to_remove_it(tmp_path, monkeypatch):
    path, _ = corrupt_random(tmp_path, None)
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(path))
    cleared = loom("cache", "clear", "--task", "some.task")
    assert cleared.returncode != 0 and "Traceback" not in cleared.stderr
    (line,) = cleared.stderr.strip().splitlines()
    assert str(path) in line and "without --task" in line
    assert path.exists()


def test_a_corrupt_cache_cleared_by_loom_caches_again(tmp_path, monkeypatch, capfd):
    path, _ = corrupt_random(tmp_path, None)
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(path))
    monkeypatch.setattr(LaunchPlan, "CACHE", {})
    assert loom("cache", "clear").returncode == 0
    ran = []

    @task(cache=True, cache_version="1")
    def once(x: int) -> int:
        ran.append(x)
        return x

    @workflow
    def pipeline(x: int) -> int:
        return once(x=x)

    assert [pipeline(x=3), pipeline(x=3)] == [3, 3] and ran == [3]
    assert warnings_in(capfd.readouterr().err) == []
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_cache_file_removed_by_another_process_is_made_again(tmp_path, monkeypatch, capfd):
    from taskloom_local.cache import LocalCache

    path = healthy_cache(tmp_path / "cache.sqlite")
    cache = LocalCache(str(path))

    @task(name="faults.again", cache=True, cache_version="1")
    def again(x: int) -> int:
        return x

    key = cache.key(again, {"x": 1})
    cache.put(again, key, {"o0": 1})
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")  # what `loom cache clear` of a corrupt cache does
    previous = os.umask(0o022)
    try:
        assert cache.get(again, key) is None  # SQLite may not make the file: the call notices it is gone
        cache.put(again, key, {"o0": 1})  # and the next one makes it again, private
    finally:
        os.umask(previous)
    assert cache.get(again, key) == {"o0": 1}
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    (warning,) = warnings_in(capfd.readouterr().err)
    assert str(path) in warning
