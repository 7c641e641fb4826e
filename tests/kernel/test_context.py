"""Checkpoints and secrets on their own (the executor tests cover them inside runs)."""

from __future__ import annotations

import pytest

from taskloom.core.checkpointer import Checkpoint
from taskloom.core.context_manager import SecretsManager, task_execution


def test_a_checkpoint_writes_reads_saves_and_restores(tmp_path):
    checkpoint = Checkpoint(str(tmp_path / "ck"))
    assert checkpoint.read() is None and not checkpoint.prev_exists()
    checkpoint.write(b"state")
    assert checkpoint.read() == b"state" and checkpoint.prev_exists()
    source = tmp_path / "model"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"w")
    checkpoint.save(str(source))
    restored = checkpoint.restore(str(tmp_path / "back"))
    assert (tmp_path / "back" / "weights.bin").read_bytes() == b"w" and restored == str(tmp_path / "back")
    with pytest.raises(TypeError, match="expects bytes"):
        checkpoint.write("text")


def test_secret_names_follow_flytekits_convention(monkeypatch):
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", "/run/secrets")
    secrets = SecretsManager()
    assert secrets.get_secrets_env_var("db", "password") == "_FSEC_DB_PASSWORD"
    assert secrets.get_secrets_env_var("db", "password", group_version="v1") == "_FSEC_DB_V1_PASSWORD"
    assert secrets.get_secrets_file("DB", "Password") == "/run/secrets/db/password"


def test_each_task_execution_gets_a_fresh_working_directory_and_the_given_attempt():
    with task_execution("mod.train", attempt=2) as first:
        pass
    with task_execution("mod.train", execution_id=first.execution_id) as second:
        pass
    assert first.working_directory != second.working_directory
    assert first.attempt == 2 and second.attempt == 0
    assert first.execution_id == second.execution_id and first.task_id.name == "mod.train"
