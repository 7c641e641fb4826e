"""flytekit's ``flytekit.testing`` as ported tests use it (issue 21, point 3): ``task_mock``, ``patch``,
``SecretsManager``. A mock replaces what a task does, in workflows declared before the mock and run
by taskloom's concurrent executor, its process pool, or inside a map.
"""

from __future__ import annotations

import os

import pytest

from taskloom import Cache, map_task, task, workflow
from taskloom.exceptions.user import ValidationError
from taskloom.testing import SecretsManager, patch, task_mock
from taskloom_local.executor import LocalExecutor

# Workers of the process pool find tasks by reference: the tasks live at module level.


@task
def fetch(day: str) -> list[int]:
    raise ConnectionError(f"no network in tests (asked for {day})")


@task
def total(values: list[int]) -> int:
    return sum(values)


@task
def worker_pid(x: int) -> int:
    return os.getpid()


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def pipeline(day: str) -> int:
    return total(values=fetch(day=day))


@workflow
def two_branches(day: str) -> tuple[int, int]:
    values = fetch(day=day)
    return total(values=values), total(values=fetch(day="sunday"))


@workflow
def pids(x: int) -> tuple[int, int]:
    return worker_pid(x=x), double(x=x)


@workflow
def doubled(xs: list[int]) -> list[int]:
    return map_task(double)(x=xs)


def test_task_mock_replaces_the_task_in_a_workflow_declared_before():
    with task_mock(fetch) as mocked:
        mocked.return_value = [1, 2, 3]
        assert pipeline(day="monday") == 6
    mocked.assert_called_once_with(day="monday")
    with pytest.raises(ConnectionError, match="monday"):  # the mock ends with the block
        pipeline(day="monday")


def test_a_side_effect_sees_each_calls_inputs_by_name_on_the_concurrent_executor():
    with task_mock(fetch) as mocked:
        mocked.side_effect = lambda day: [len(day)]
        assert two_branches(day="friday") == (6, 6)
    assert sorted(call.kwargs["day"] for call in mocked.call_args_list) == ["friday", "sunday"]


def test_a_mocked_task_called_alone_returns_the_mocks_value():
    with task_mock(double) as mocked:
        mocked.return_value = 100
        assert double(x=1) == 100
    assert double(x=1) == 2


def test_a_mock_replaces_the_task_run_through_the_process_pool():
    executor = LocalExecutor(processes=2)
    try:
        real_pid, _ = executor.execute(pids, {"x": 1})
        assert real_pid != os.getpid()  # the real task runs in a worker
        with task_mock(worker_pid) as mocked:
            mocked.return_value = -1
            assert executor.execute(pids, {"x": 4}) == (-1, 8)
        mocked.assert_called_once_with(x=4)
    finally:
        executor.close()


def test_a_mock_replaces_each_element_of_a_map_also_in_worker_processes():
    executor = LocalExecutor(processes=2)
    try:
        with task_mock(double) as mocked:
            mocked.side_effect = lambda x: -x
            assert doubled(xs=[1, 2, 3]) == [-1, -2, -3]
            assert executor.execute(doubled, {"xs": [4, 5]}) == [-4, -5]
        assert mocked.call_count == 5
        assert executor.execute(doubled, {"xs": [4, 5]}) == [8, 10]
    finally:
        executor.close()


def test_a_mocked_result_never_reaches_the_task_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_CACHE_PATH", str(tmp_path / "cache.sqlite"))
    calls = []

    @task(cache=Cache(version="1"))
    def expensive(x: int) -> int:
        calls.append(x)
        return x + 1

    @workflow
    def cached(x: int) -> int:
        return expensive(x=x)

    with task_mock(expensive) as mocked:
        mocked.return_value = 999
        assert cached(x=1) == 999
    assert cached(x=1) == 2 and calls == [1]  # the real task ran: the mock's 999 was not cached
    with task_mock(expensive) as mocked:
        mocked.return_value = 999
        assert cached(x=1) == 999  # nor does the cached 2 hide the mock
    assert expensive.cache is not None and expensive.cache.version == "1"


@patch(fetch)
def test_patch_gives_the_mock_to_the_test_and_keeps_its_fixtures(mock_fetch, tmp_path):
    mock_fetch.return_value = [10, 20]
    assert tmp_path.is_dir()  # pytest still injects fixtures after the mock
    assert pipeline(day="tuesday") == 30
    mock_fetch.assert_called_once_with(day="tuesday")


def test_patch_restores_the_task_when_the_test_fails():
    @patch(double)
    def failing(mock_double):
        mock_double.return_value = 0
        raise AssertionError("the test failed")

    with pytest.raises(AssertionError, match="the test failed"):
        failing()
    assert double(x=3) == 6


def test_a_workflow_or_a_function_cannot_be_mocked():
    with pytest.raises(ValidationError, match="mock the tasks it calls"):
        with task_mock(pipeline):
            pass
    with pytest.raises(ValidationError, match="expects a task"):
        patch(len)


def test_a_task_mocked_twice_at_once_is_an_error():
    with task_mock(double):
        with pytest.raises(ValidationError, match="mocked already"):
            with task_mock(double):
                pass


def test_secrets_manager_is_flytekits_testing_name_for_the_secrets(monkeypatch):
    monkeypatch.setenv("_FSEC_DB_PASSWORD", "hunter2")  # flytekit's environment form of a secret
    assert SecretsManager().get("db", "password") == "hunter2"
