"""Custom cache hashes and batch sizes as flytekit programs write them (issue 21, point 3):
``Annotated[T, HashMethod(fn)]`` makes ``fn(value)`` the value's cache key part; ``BatchSize`` is
accepted and ignored (README, "Porting from flytekit").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import pytest

from plugins.flyte.tests.test_entrypoint import inputs_file, run_container
from taskloom import BatchSize, FlyteDirectory, HashMethod, TypeEngine, current_context, task, workflow
from taskloom_flyte.codec import literal_map_from_bytes
from tests.integration.subprocesses import serialized_templates

#: The values the cached task really summed (it does not run on a cache hit).
SUMMED: list[list[int]] = []


def length_hash(values: list[int]) -> str:
    return f"length-{len(values)}"


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.setenv("TASKLOOM_RECORD", "0")
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.db"))
    SUMMED.clear()


@task
def numbers(start: int, n: int) -> Annotated[list[int], HashMethod(length_hash)]:
    return list(range(start, start + n))


@task(cache=True, cache_version="1")
def total(values: list[int]) -> int:
    SUMMED.append(values)
    return sum(values)


@workflow
def pipeline(start: int, n: int) -> int:
    return total(values=numbers(start=start, n=n))


def test_values_with_the_same_custom_hash_hit_the_cache():
    assert pipeline(start=0, n=3) == 3
    # Other numbers, the same length: the custom hash is the same, so the cached sum comes back.
    assert pipeline(start=10, n=3) == 3
    assert SUMMED == [[0, 1, 2]]


def test_a_different_custom_hash_misses_the_cache():
    assert pipeline(start=0, n=3) == 3
    assert pipeline(start=0, n=4) == 6
    assert SUMMED == [[0, 1, 2], [0, 1, 2, 3]]


def test_without_a_hash_method_other_values_miss_the_cache():
    @task
    def plain_numbers(start: int, n: int) -> list[int]:
        return list(range(start, start + n))

    @workflow
    def plain(start: int, n: int) -> int:
        return total(values=plain_numbers(start=start, n=n))

    assert plain(start=0, n=3) == 3
    assert plain(start=10, n=3) == 33
    assert SUMMED == [[0, 1, 2], [10, 11, 12]]


def test_a_hash_method_on_the_cached_tasks_own_input_keys_its_cache():
    @task(cache=True, cache_version="1")
    def count(values: Annotated[list[int], HashMethod(length_hash)]) -> int:
        SUMMED.append(values)
        return len(values)

    @workflow
    def counted(values: list[int]) -> int:
        return count(values=values)

    assert counted(values=[1, 2]) == 2
    assert counted(values=[5, 6]) == 2
    assert SUMMED == [[1, 2]]


def test_the_literal_carries_the_custom_hash_as_flytekit_writes_it():
    literal = TypeEngine.to_literal(None, [4, 5], Annotated[list[int], HashMethod(length_hash)])
    assert literal.hash == "length-2"
    assert TypeEngine.to_literal(None, [4, 5], list[int]).hash == ""
    assert TypeEngine.to_python_value(None, literal, list[int]) == [4, 5]


def test_loom_execute_writes_the_custom_hash_into_outputs_pb(tmp_path):
    root, templates = serialized_templates(tmp_path, PROGRAM)
    completed, prefix = run_container(
        templates["flows.jobs.numbers"], root, tmp_path, inputs_file(tmp_path, {"n": 4}, {"n": int})
    )
    assert completed.returncode == 0, completed.stderr
    literal = literal_map_from_bytes((prefix / "outputs.pb").read_bytes()).literals["o0"]
    assert literal.hash == "4"
    assert len(literal.collection.literals) == 4


PROGRAM = """
from typing import Annotated

from taskloom import HashMethod, task


def count(values: list[int]) -> str:
    return str(len(values))


@task
def numbers(n: int) -> Annotated[list[int], HashMethod(count)]:
    return list(range(n))
"""


# --- BatchSize: accepted, ignored -----------------------------------------------------------------


@task
def write_files(n: int) -> Annotated[FlyteDirectory, BatchSize(2)]:
    directory = Path(current_context().working_directory) / "numbers"
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(n):
        (directory / f"{index}.txt").write_text(str(index * index))
    return FlyteDirectory(str(directory))


@task
def read_files(directory: Annotated[FlyteDirectory, BatchSize(3)]) -> list[int]:
    path = directory.download()
    return sorted(int((Path(path) / name).read_text()) for name in os.listdir(path))


@workflow
def squares(n: int) -> list[int]:
    return read_files(directory=write_files(n=n))


def test_a_batch_size_is_accepted_and_the_program_returns_the_same_values():
    assert squares(n=5) == [0, 1, 4, 9, 16]


def test_a_batch_size_leaves_the_literal_type_as_it_is():
    assert TypeEngine.to_literal_type(Annotated[FlyteDirectory, BatchSize(4)]) == TypeEngine.to_literal_type(
        FlyteDirectory
    )
    assert BatchSize(4).val == 4
