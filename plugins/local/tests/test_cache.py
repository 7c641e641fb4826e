"""The local task cache: keys, versions, ignored inputs, overwrite, serialised calls, `loom cache`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

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
    listing = subprocess.run([sys.executable, "-m", "taskloom.cli", "cache", "list"], capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert sum(line.startswith("cache.cli") for line in listing.stdout.splitlines()) == 2
    cleared = subprocess.run(
        [sys.executable, "-m", "taskloom.cli", "cache", "clear", "--task", "cache.cli"], capture_output=True, text=True, env=env
    )
    assert cleared.stdout.strip() == "Removed 2 cached entries."
    empty = subprocess.run([sys.executable, "-m", "taskloom.cli", "cache", "list"], capture_output=True, text=True, env=env)
    assert empty.stdout.startswith("The cache is empty")
