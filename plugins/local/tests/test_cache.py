"""The local task cache: keys, versions, ignored inputs, overwrite, serialised calls, `loom cache`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from plugins.local.tests.opaque import Opaque, OpaqueTransformer
from taskloom import Cache, LaunchPlan, task, workflow


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.sqlite"))
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.setattr(LaunchPlan, "CACHE", {})
    return tmp_path / "cache.sqlite"


def counted(name, **options):
    calls = []

    @task(name=name, **options)
    def work(x: int, seed: int = 0) -> int:
        calls.append(x)
        return x * 10

    @workflow
    def run(x: int, seed: int = 0) -> int:
        return work(x=x, seed=seed)

    return work, run, calls


def test_a_cached_task_computes_once_per_inputs():
    _, run, calls = counted("cache.once", cache=True, cache_version="1")
    assert [run(x=1), run(x=1), run(x=2)] == [10, 10, 20]
    assert calls == [1, 2]


def test_a_new_cache_version_recomputes():
    _, first, calls_one = counted("cache.versioned", cache=Cache(version="1"))
    _, second, calls_two = counted("cache.versioned", cache=Cache(version="2"))
    first(x=1), second(x=1), first(x=1)
    assert (calls_one, calls_two) == ([1], [1])


def test_an_unversioned_cache_follows_the_functions_source():
    _, first, calls_one = counted("cache.source", cache=True)
    first(x=1)

    @task(name="cache.source", cache=True)
    def work(x: int, seed: int = 0) -> int:
        return x * 10 + 1  # a different body: a different key

    @workflow
    def second(x: int) -> int:
        return work(x=x)

    assert second(x=1) == 11 and first(x=1) == 10 and calls_one == [1]


def test_ignored_inputs_are_left_out_of_the_key():
    _, run, calls = counted("cache.ignored", cache=Cache(version="1", ignored_inputs=("seed",)))
    assert run(x=1, seed=1) == run(x=1, seed=2) == 10
    assert calls == [1]


def test_overwrite_cache_recomputes_and_stores_the_new_result():
    _, run, calls = counted("cache.overwrite", cache=True, cache_version="1")
    run(x=1)
    LaunchPlan.get_or_create(run, name="fresh", overwrite_cache=True)(x=1)
    run(x=1)
    assert calls == [1, 1]


def test_a_node_can_opt_out_of_the_cache():
    work, _, calls = counted("cache.optout", cache=True, cache_version="1")

    @workflow
    def uncached(x: int) -> int:
        return work(x=x).with_overrides(cache=False)

    uncached(x=1), uncached(x=1)
    assert calls == [1, 1]


def test_cache_serialize_makes_identical_concurrent_calls_compute_once():
    lock = threading.Lock()
    calls = []

    @task(cache=True, cache_version="1", cache_serialize=True)
    def slow(x: int) -> int:
        with lock:
            calls.append(x)
        time.sleep(0.2)
        return x + 1

    @workflow
    def fan(x: int) -> list[int]:
        return [slow(x=x), slow(x=x), slow(x=x), slow(x=x)]

    assert fan(x=1) == [2, 2, 2, 2]
    assert calls == [1]


def test_outputs_of_every_shape_come_back_from_the_cache():
    calls = []

    @task(cache=True, cache_version="1")
    def pair(x: int) -> tuple[int, list[str]]:
        calls.append(x)
        return x, [str(x)] * x

    @workflow
    def run(x: int) -> tuple[int, list[str]]:
        return pair(x=x)

    assert run(x=2) == run(x=2) == (2, ["2", "2"])
    assert calls == [2]


WRITER = """
import sys
from taskloom import task
from taskloom_local.cache import LocalCache

@task(cache=True, cache_version="1", name="cache.writer")
def work(x: int) -> int:
    return x

cache = LocalCache()
for x in range(int(sys.argv[1]), int(sys.argv[1]) + 40):
    cache.put(work, cache.key(work, {"x": x}), {"o0": x})
"""


def test_concurrent_writers_from_several_processes_lose_nothing(private_cache):
    env = dict(os.environ)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(start)], env=env) for start in (0, 1000, 2000)]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0, 0]
    from taskloom_local.cache import LocalCache

    assert len(list(LocalCache(str(private_cache)).entries())) == 120


def test_loom_cache_lists_and_clears(private_cache):
    _, run, _ = counted("cache.cli", cache=True, cache_version="9")
    run(x=1), run(x=2)
    env = dict(os.environ)
    listing = subprocess.run(
        [sys.executable, "-m", "taskloom.cli", "cache", "list"], capture_output=True, text=True, env=env
    )
    assert listing.returncode == 0, listing.stderr
    assert sum(line.startswith("cache.cli") for line in listing.stdout.splitlines()) == 2
    cleared = subprocess.run(
        [sys.executable, "-m", "taskloom.cli", "cache", "clear", "--task", "cache.cli"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert cleared.stdout.strip() == "Removed 2 cached entries."
    empty = subprocess.run(
        [sys.executable, "-m", "taskloom.cli", "cache", "list"], capture_output=True, text=True, env=env
    )
    assert empty.stdout.startswith("The cache is empty")


def test_clearing_one_task_keeps_every_stored_value_while_an_entry_cannot_be_read(private_cache):
    """Data under ``<cache>-data/`` is removed when no entry names it; an entry whose outputs cannot be
    read might name any of it, so nothing is removed then."""
    import sqlite3

    from taskloom_local.cache import LocalCache

    _, run, _ = counted("cache.kept", cache=True, cache_version="1")
    run(x=1)
    cache = LocalCache(os.environ["TASKLOOM_CACHE_PATH"])
    data = cache.data_directory
    os.makedirs(os.path.join(data, "orphan"))
    with sqlite3.connect(os.environ["TASKLOOM_CACHE_PATH"]) as connection:
        connection.execute("UPDATE entries SET outputs = 'not json'")
    assert cache.clear(task="cache.other") == 0
    assert os.listdir(data) == ["orphan"]
    with sqlite3.connect(os.environ["TASKLOOM_CACHE_PATH"]) as connection:
        connection.execute("DELETE FROM entries")
    cache.clear(task="cache.other")
    assert os.listdir(data) == []  # named by no entry


# --- what a key covers: projects, code, output types (issue 19) --------------------------------

LOOM = os.path.join(os.path.dirname(sys.executable), "loom")

PROJECT = """
import os
from taskloom import task, workflow

{helpers}

@task(cache=True{version})
def f() -> {output}:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls"), "a") as log:
        log.write("f\\n")
    return {body}


@workflow
def wf() -> {output}:
    return f()


if __name__ == "__main__":
    print(wf())
"""


def write_project(directory, body, output="str", version=', cache_version="1"', helpers=""):
    directory.mkdir(exist_ok=True)
    (directory / "tasks.py").write_text(PROJECT.format(body=body, output=output, version=version, helpers=helpers))
    return directory


def calls(project):
    log = project / "calls"
    return len(log.read_text().splitlines()) if log.exists() else 0


def run_script(project, cwd):
    """``python PROJECT/tasks.py`` from ``cwd``: its stdout, stripped (the run must succeed)."""
    command = [sys.executable, str(project / "tasks.py")]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def run_loom(project, entity, cwd=None):
    """``loom run tasks.py ENTITY`` from the project's directory (or ``loom run /abs/tasks.py`` from ``cwd``)."""
    file = "tasks.py" if cwd is None else str(project / "tasks.py")
    done = subprocess.run([LOOM, "run", file, entity], cwd=cwd or project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def test_a_script_and_loom_run_of_the_same_file_share_the_entry(tmp_path):
    # Run as a script, the task's module is __main__; its name is taken from the file (tasks.f), as
    # flytekit names it, so that both ways of running the file find the same entry.
    project = write_project(tmp_path / "project", '"once"')
    assert run_script(project, tmp_path)[0] == "once"
    assert run_loom(project, "wf")[0] == "once"
    assert calls(project) == 1


def test_two_projects_with_the_same_task_never_share_an_entry(tmp_path):
    first = write_project(tmp_path / "first", '"first"')
    second = write_project(tmp_path / "second", '"second"')
    assert run_script(first, tmp_path)[0] == "first"
    assert run_script(second, tmp_path)[0] == "second"
    assert run_loom(first, "f")[0] == "first"
    assert run_loom(second, "f")[0] == "second"
    assert (calls(first), calls(second)) == (1, 1)  # each project's script run filled its own entry


def test_runs_of_one_project_hit_whether_run_by_python_or_by_loom_run(tmp_path):
    project = write_project(tmp_path / "project", '"value"')
    assert run_script(project, tmp_path)[0] == "value"
    assert run_loom(project, "f")[0] == "value"
    assert run_loom(project, "wf", cwd=tmp_path)[0] == "value"
    assert run_script(project, project)[0] == "value"
    assert calls(project) == 1


def test_a_package_module_is_keyed_by_the_directory_its_package_is_imported_from(tmp_path):
    from taskloom_local.cache import project_of

    package = tmp_path / "root" / "pkg" / "sub"
    package.mkdir(parents=True)
    for directory in (package.parent, package):
        (directory / "__init__.py").write_text("")
    (package / "tasks.py").write_text("")
    sys.path.insert(0, str(tmp_path / "root"))
    try:
        import pkg.sub.tasks  # noqa: F401

        assert project_of("pkg.sub.tasks") == project_of("pkg.sub") == project_of("pkg") == str(tmp_path / "root")
    finally:
        sys.path.remove(str(tmp_path / "root"))
        for name in ("pkg.sub.tasks", "pkg.sub", "pkg"):
            sys.modules.pop(name, None)


def test_an_explicit_cache_version_leaves_invalidation_to_the_user(tmp_path):
    project = write_project(tmp_path / "project", "1", output="int")
    assert run_loom(project, "f")[0] == "1"
    write_project(project, "2", output="int")  # the body changed, the version did not: the old entry is served
    assert run_loom(project, "f")[0] == "1"
    assert calls(project) == 1


def test_without_a_version_the_key_follows_the_tasks_file_but_not_modules_it_imports(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "helpers.py").write_text("def imported():\n    return 1\n")
    local = "from helpers import imported\n\n\ndef local():\n    return {}\n"
    write_project(project, "imported() + local()", output="int", version="", helpers=local.format(10))
    assert run_loom(project, "f")[0] == "11"
    assert run_loom(project, "f")[0] == "11" and calls(project) == 1  # stable across processes
    (project / "helpers.py").write_text("def imported():\n    return 2\n")
    assert run_loom(project, "f")[0] == "11" and calls(project) == 1  # another module: not covered
    write_project(project, "imported() + local()", output="int", version="", helpers=local.format(20))
    assert run_loom(project, "f")[0] == "22" and calls(project) == 2  # a helper in the task's file
    write_project(project, "imported() + local() + 100", output="int", version="", helpers=local.format(20))
    assert run_loom(project, "f")[0] == "122" and calls(project) == 3  # the function's body


def test_an_entry_of_another_output_type_is_a_miss_with_a_warning(tmp_path):
    project = write_project(tmp_path / "project", "1", output="int")
    assert run_script(project, tmp_path)[0] == "1"
    write_project(project, '"one"', output="str")  # same version, another output type
    value, warning = run_script(project, tmp_path)
    assert value == "one" and calls(project) == 2
    assert "'tasks.f'" in warning and "int" in warning and "str" in warning and "Traceback" not in warning
    value, warning = run_script(project, tmp_path)
    assert (value, calls(project)) == ("one", 2)  # the new entry replaced the old one
    assert "cached outputs" not in warning


# --- a private cache (issue 19) --------------------------------------------------------------


def mode(path):
    return oct(os.stat(path).st_mode & 0o777)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_cache_is_private_to_its_user_whatever_the_umask(tmp_path, monkeypatch, umask):
    import sqlite3

    path = tmp_path / "private" / "cache.sqlite"
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(path))
    _, run, _ = counted("cache.private", cache=True, cache_version="1")
    previous = os.umask(umask)
    try:
        run(x=1)
        reader = sqlite3.connect(path)  # keeps the -wal and -shm files while the next entry is written
        try:
            reader.execute("SELECT count(*) FROM entries").fetchone()
            run(x=2)
            assert {name: mode(tmp_path / "private" / name) for name in os.listdir(tmp_path / "private")} == {
                "cache.sqlite": "0o600",
                "cache.sqlite-wal": "0o600",
                "cache.sqlite-shm": "0o600",
            }
        finally:
            reader.close()
    finally:
        os.umask(previous)
    assert mode(tmp_path / "private") == "0o700"


def test_the_default_cache_directory_and_an_older_cache_file_are_made_private(tmp_path, monkeypatch):
    monkeypatch.delenv("TASKLOOM_CACHE_PATH")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    directory = tmp_path / "xdg" / "taskloom"
    directory.mkdir(parents=True, mode=0o755)
    os.chmod(directory, 0o755)  # as the plugin index (or an older taskloom) leaves it
    (directory / "cache.sqlite").touch(mode=0o644)
    os.chmod(directory / "cache.sqlite", 0o644)
    _, run, _ = counted("cache.default", cache=True, cache_version="1")
    assert run(x=1) == 10
    assert (mode(directory), mode(directory / "cache.sqlite")) == ("0o700", "0o600")


def test_an_existing_directory_named_by_taskloom_cache_path_is_left_as_it_is(tmp_path, monkeypatch):
    os.chmod(tmp_path, 0o755)
    _, run, _ = counted("cache.shared_directory", cache=True, cache_version="1")
    assert run(x=1) == 10
    assert (mode(tmp_path), mode(tmp_path / "cache.sqlite")) == ("0o755", "0o600")


# --- entries that cannot be used are misses (issue 19) ------------------------------------------


def test_an_entry_that_cannot_be_read_back_is_a_miss_with_a_warning(private_cache, capfd):
    import sqlite3

    _, run, calls = counted("cache.unreadable_entry", cache=True, cache_version="1")
    run(x=1)
    with sqlite3.connect(private_cache) as connection:
        connection.execute("UPDATE entries SET outputs = '{\"literals\": 5}'")
    assert run(x=1) == 10 and calls == [1, 1]
    warning = capfd.readouterr().err
    assert "'cache.unreadable_entry'" in warning and "cannot be read back" in warning
    assert run(x=1) == 10 and calls == [1, 1]  # the entry written by the second run is read


def test_outputs_that_cannot_be_literals_are_not_cached_and_the_run_goes_on(capfd):
    from taskloom.core.type_engine import TypeEngine

    transformer = OpaqueTransformer()
    TypeEngine.register(transformer)
    try:
        made = []

        @task(cache=True, cache_version="1")
        def make(x: int) -> Opaque:
            made.append(x)
            return Opaque(x)

        @task
        def unwrap(o: Opaque) -> int:
            return o.value

        @workflow
        def opaque(x: int) -> int:
            return unwrap(o=make(x=x))

        assert [opaque(x=5), opaque(x=5)] == [5, 5] and made == [5, 5]
        assert "an opaque value has no literal" in capfd.readouterr().err
    finally:
        TypeEngine.unregister(transformer)


def test_a_cache_file_of_an_older_layout_is_emptied_on_first_use(private_cache, capfd):
    import sqlite3

    with sqlite3.connect(private_cache) as connection:  # the layout before projects were keyed
        connection.execute(
            "CREATE TABLE entries (task TEXT NOT NULL, version TEXT NOT NULL, inputs TEXT NOT NULL, "
            "outputs TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (task, version, inputs))"
        )
        connection.execute("INSERT INTO entries VALUES ('cache.older', '1', 'x', '{}', 0)")
    from taskloom_local.cache import LocalCache

    assert LocalCache(str(private_cache)).entries() == []  # listing does not change the file
    _, run, calls = counted("cache.older", cache=True, cache_version="1")
    assert [run(x=1), run(x=1)] == [10, 10] and calls == [1]
    assert [entry.task for entry in LocalCache(str(private_cache)).entries()] == ["cache.older"]
    assert "task cache" not in capfd.readouterr().err


KEY_OF_A_TASK_WITHOUT_A_FILE = """
from taskloom import task
from taskloom_local.cache import LocalCache

@task(cache=True)
def f(x: int) -> int:
    return x + len({"a", "b", "c"} & {"a"}) + (lambda y: y * %d)(1)

print(LocalCache.key(f, {"x": 1}))
"""


def test_a_task_with_no_source_file_keeps_its_key_across_processes_until_its_code_changes(tmp_path):
    def key(factor, seed):
        env = dict(os.environ, PYTHONHASHSEED=str(seed))
        code = KEY_OF_A_TASK_WITHOUT_A_FILE % factor
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert key(1, seed=1) == key(1, seed=2) != key(2, seed=1)
    assert repr(str(tmp_path.resolve())) in key(1, seed=1)  # code with no file belongs to the current directory


def test_a_module_run_with_python_m_is_keyed_as_when_it_is_imported(tmp_path):
    package = tmp_path / "root" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(
        "from taskloom import task\nfrom taskloom_local.cache import LocalCache\n\n"
        "@task(cache=True, cache_version='1')\ndef f(x: int) -> int:\n    return x\n\n"
        "print(LocalCache.key(f, {'x': 1})[:2])\n"
    )
    run = {"capture_output": True, "text": True, "timeout": 120}
    as_main = subprocess.run([sys.executable, "-m", "pkg.tasks"], cwd=tmp_path / "root", **run)
    imported = subprocess.run([sys.executable, "-c", "import pkg.tasks"], cwd=tmp_path / "root", **run)
    assert as_main.returncode == imported.returncode == 0, as_main.stderr + imported.stderr
    assert as_main.stdout == imported.stdout == f"{('pkg.tasks.f', str((tmp_path / 'root').resolve()))}\n"
