"""What a recorded node ran (taskloom_local.fingerprints): the walk stays on what nodes run."""

from __future__ import annotations

from taskloom import map_task, task, workflow
from taskloom.testing import task_mock
from taskloom_local.fingerprints import entity_fingerprint
from taskloom_local.store import ExecutionStore


def test_a_task_recorded_while_mocked_is_fingerprinted_without_walking_the_mock(monkeypatch, tmp_path):
    """task_mock sets a MagicMock as the task's ``execute``; a mock has every attribute, so it looked like
    an entity the task holds, and the walk followed mock after new mock, calling each, until memory ran out
    (a CI run's worker at 23 GB; it hung only when the task had not been fingerprinted before it was mocked)."""
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
    monkeypatch.delenv("TASKLOOM_RECORD", raising=False)
    monkeypatch.setenv("TASKLOOM_DATA_DIR", str(tmp_path / "data"))

    @task
    def halve(x: int) -> int:
        return x // 2

    @workflow
    def halved(xs: list[int]) -> list[int]:
        return map_task(halve)(x=xs)

    with task_mock(halve) as mocked:
        mocked.side_effect = lambda x: -x
        entity_fingerprint(halve)  # returns: the walk leaves the mock alone (the old walk ran out of memory here)
        assert halved(xs=[2, 4]) == [-2, -4]  # recorded: the recorder fingerprints every node
    assert mocked.call_count == 2  # the two elements; the walk never called the mock
    assert [record.status for record in ExecutionStore(str(tmp_path / "data")).executions()] == ["succeeded"]
