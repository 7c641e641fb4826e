"""current_context() inside tasks run by the local executor: ids, directories, secrets, checkpoints, attempts."""

from __future__ import annotations

import logging

import pytest

from taskloom import current_context, task, workflow
from taskloom.core.context_manager import SecretNotFoundError
from taskloom.exceptions.user import FlyteRecoverableException
from taskloom.hookspecs import hookimpl


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)


@task
def describe(tag: str) -> dict[str, str]:
    context = current_context()
    return {
        "execution": context.execution_id.name,
        "project": context.execution_id.project,
        "task": context.task_id.name,
        "directory": context.working_directory,
        "date": context.execution_date.isoformat(),
        "tag": tag,
    }


@workflow
def twice() -> list[dict[str, str]]:
    return [describe(tag="a"), describe(tag="b")]


def test_tasks_of_one_run_share_the_execution_id_and_get_their_own_working_directory():
    first, second = twice()
    assert first["execution"] == second["execution"] and first["project"] == "local"
    assert first["directory"] != second["directory"]
    assert first["task"].endswith("describe") and first["date"] == second["date"]
    assert twice()[0]["execution"] != first["execution"]  # unique per run


def test_the_attempt_number_and_the_checkpoint_survive_retries():
    seen = []

    @task(retries=2)
    def resumable(x: int) -> int:
        context = current_context()
        previous = context.checkpoint.read()
        seen.append((context.attempt, previous))
        context.checkpoint.write(f"done up to attempt {context.attempt}".encode())
        if context.attempt < 2:
            raise FlyteRecoverableException("not yet")
        return x

    @workflow
    def run(x: int) -> int:
        return resumable(x=x)

    assert run(x=3) == 3
    assert seen == [(0, None), (1, b"done up to attempt 0"), (2, b"done up to attempt 1")]


def test_secrets_come_from_the_environment_with_flytekits_prefix(monkeypatch):
    monkeypatch.setenv("_FSEC_DB_PASSWORD", "s3cret")

    @task
    def connect() -> str:
        return current_context().secrets.get("db", "password")

    assert connect() == "s3cret"


def test_secrets_come_from_files_under_the_secrets_directory(monkeypatch, tmp_path):
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "token").write_text("from-file")
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))

    @task
    def connect() -> bytes:
        return current_context().secrets.get(group="db", key="token", encode_mode="rb")

    assert connect() == b"from-file"


def test_a_missing_secret_names_group_and_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))

    @task
    def connect() -> str:
        return current_context().secrets.get("db", "missing")

    with pytest.raises(
        SecretNotFoundError,
        match=r"secret group='db' key='missing' not found: set the environment variable _FSEC_DB_MISSING",
    ):
        connect()


def test_stats_record_nothing_by_default_and_come_from_a_plugin_when_one_provides_them(taskloom_plugins):
    @task
    def count() -> str:
        stats = current_context().stats
        stats.incr("rows")
        with stats.timer("work"):
            pass
        return type(stats).__name__

    assert count() == "NoopStats"

    class Recorder:
        def __init__(self):
            self.calls = []

        def incr(self, metric, count=1, **tags):
            self.calls.append(metric)

        def timer(self, metric, **tags):
            import contextlib

            self.calls.append(metric)
            return contextlib.nullcontext()

    recorder = Recorder()

    class Metrics:
        @hookimpl
        def taskloom_stats_client(self):
            return recorder

    taskloom_plugins.register(Metrics(), name="metrics")
    assert count() == "Recorder" and recorder.calls == ["rows", "work"]


def test_the_logger_and_a_default_context_outside_tasks():
    context = current_context()
    assert isinstance(context.logging, logging.Logger)
    assert context.task_id is None and context.execution_id.name
