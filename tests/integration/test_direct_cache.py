"""Direct calls of cached tasks read and write the local cache, as flytekit's do (issue 21, point 8).

A ported program that calls a cached task outside any workflow (``square(x=3)`` in a script or a
test) gets flytekit's behaviour: the body runs once per inputs and cache version, and the entry is the
one a workflow's call of the task uses. Each program counts its body's runs in a file, as a user
would see side effects.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.kernel.distributions import run_loom

PROGRAM = """
import os
import sys

from taskloom import task, workflow

VERSION = "{version}"


@task(cache=True, cache_version=VERSION)
def square(x: int) -> int:
    with open(os.environ["SIDE_EFFECTS"], "a") as log:
        log.write(f"square {{x}}\\n")
    return x * x


@task
def plain(x: int) -> int:
    with open(os.environ["SIDE_EFFECTS"], "a") as log:
        log.write(f"plain {{x}}\\n")
    return x + 1


@workflow
def pipeline(x: int) -> int:
    return square(x=x)


if __name__ == "__main__":
    calls = sys.argv[1:]
    results = []
    for call in calls:
        kind, _, value = call.partition("=")
        entity = {{"square": square, "plain": plain, "pipeline": pipeline}}[kind]
        results.append(entity(x=int(value)))
    print(" ".join(map(str, results)))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


def write_program(directory: Path, version: str = "1", imports: str = "taskloom") -> Path:
    source = textwrap.dedent(PROGRAM).format(version=version).replace("from taskloom ", f"from {imports} ")
    path = directory / "squares.py"
    path.write_text(source)
    return path


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SIDE_EFFECTS": str(tmp_path / "side-effects.log"),
        "TASKLOOM_CACHE_PATH": str(tmp_path / "cache.sqlite"),
        "TASKLOOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
    }


def run_program(program: Path, *calls: str, env: dict[str, str], python: str = sys.executable):
    done = subprocess.run(
        [python, str(program), *calls], capture_output=True, text=True, env=env, cwd=program.parent, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def side_effects(tmp_path: Path) -> list[str]:
    log = tmp_path / "side-effects.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_cached_task_called_twice_directly_runs_its_body_once(tmp_path, project):
    program = write_program(project)
    done = run_program(program, "square=3", "square=3", env=environment(tmp_path))
    assert done.stdout.split() == ["9", "9"]
    assert side_effects(tmp_path) == ["square 3"]


def test_the_entry_outlives_the_process_that_wrote_it(tmp_path, project):
    program = write_program(project)
    env = environment(tmp_path)
    run_program(program, "square=3", env=env)
    assert run_program(program, "square=3", env=env).stdout.split() == ["9"]
    assert side_effects(tmp_path) == ["square 3"]


def test_a_different_input_runs_the_body_again(tmp_path, project):
    program = write_program(project)
    done = run_program(program, "square=3", "square=4", "square=3", env=environment(tmp_path))
    assert done.stdout.split() == ["9", "16", "9"]
    assert side_effects(tmp_path) == ["square 3", "square 4"]


def test_a_new_cache_version_runs_the_body_again(tmp_path, project):
    env = environment(tmp_path)
    run_program(write_program(project, version="1"), "square=3", env=env)
    run_program(write_program(project, version="2"), "square=3", "square=3", env=env)
    run_program(write_program(project, version="1"), "square=3", env=env)
    assert side_effects(tmp_path) == ["square 3", "square 3"]


def test_a_direct_call_and_a_workflow_share_the_entry(tmp_path, project):
    program = write_program(project)
    env = environment(tmp_path)
    assert run_program(program, "square=5", "pipeline=5", env=env).stdout.split() == ["25", "25"]
    assert run_program(program, "pipeline=6", "square=6", env=env).stdout.split() == ["36", "36"]
    assert side_effects(tmp_path) == ["square 5", "square 6"]


def test_an_uncached_task_called_directly_runs_every_time(tmp_path, project):
    program = write_program(project)
    run_program(program, "plain=1", "plain=1", env=environment(tmp_path))
    assert side_effects(tmp_path) == ["plain 1", "plain 1"]


def test_loom_cache_list_shows_the_entry_of_a_direct_call(tmp_path, project):
    program = write_program(project)
    env = environment(tmp_path)
    run_program(program, "square=3", env=env)
    done = run_loom(["cache", "list"], env=env)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    # The script ran as __main__; its entry is named after the file, as loom run names it.
    assert [(row[0], row[1], row[-1]) for row in rows] == [("squares.square", "1", str(project.resolve()))]


def test_a_direct_call_is_not_recorded_as_an_execution(tmp_path, project):
    program = write_program(project)
    env = environment(tmp_path)
    run_program(program, "square=3", env=env)
    done = run_loom(["executions", "list", "--json"], env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_broken_cache_degrades_to_no_cache_with_a_warning(tmp_path, project):
    program = write_program(project)
    env = environment(tmp_path)
    broken = tmp_path / "not-a-file"
    broken.mkdir()  # a directory where the cache file should be
    env["TASKLOOM_CACHE_PATH"] = str(broken)
    done = run_program(program, "square=3", "square=3", env=env)
    assert done.stdout.split() == ["9", "9"]
    assert side_effects(tmp_path) == ["square 3", "square 3"]
    warnings = [line for line in done.stderr.splitlines() if str(broken) in line]
    assert len(warnings) == 1, done.stderr  # one line per process and cache path


ASYNC_AND_NESTED = """
import asyncio
import os

from taskloom import task


def note(text):
    with open(os.environ["SIDE_EFFECTS"], "a") as log:
        log.write(text + "\\n")


@task(cache=True, cache_version="1")
async def fetch(x: int) -> int:
    note(f"fetch {x}")
    await asyncio.sleep(0)
    return x + 100


@task(cache=True, cache_version="1")
def square(x: int) -> int:
    note(f"square {x}")
    return x * x


@task
def twice(x: int) -> int:
    return square(x=x) + square(x=x)


async def from_async_code() -> int:
    return await fetch(x=1)  # an async task called from async code gives an awaitable


if __name__ == "__main__":
    print(fetch(x=1), asyncio.run(from_async_code()), twice(x=7), twice(x=7))
"""


def test_cached_async_tasks_and_calls_inside_a_task_body_use_the_cache(tmp_path, project):
    program = project / "nested.py"
    program.write_text(textwrap.dedent(ASYNC_AND_NESTED))
    done = run_program(program, env=environment(tmp_path))
    assert done.stdout.split() == ["101", "101", "98", "98"]
    assert side_effects(tmp_path) == ["fetch 1", "square 7"]


@pytest.mark.slow
def test_flytekit_runs_the_same_program_with_the_same_side_effects(tmp_path, project):
    from plugins.flyte.tests.flytekit_reference import flytekit_python

    calls = ("square=3", "square=3", "square=4", "pipeline=3", "plain=1", "plain=1")
    ours = tmp_path / "taskloom"
    ours.mkdir()
    run_program(write_program(project), *calls, env=environment(ours))

    theirs = tmp_path / "flytekit"
    (theirs / "program").mkdir(parents=True)
    env = {key: value for key, value in environment(theirs).items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HOME"] = str(theirs)  # flytekit's local cache lives in ~/.flyte
    program = write_program(theirs / "program", imports="flytekit")
    done = run_program(program, *calls, env=env, python=str(flytekit_python()))
    assert done.stdout.split()[-6:] == ["9", "9", "16", "9", "2", "2"]
    assert side_effects(theirs) == side_effects(ours) == ["square 3", "square 4", "plain 1", "plain 1"]
