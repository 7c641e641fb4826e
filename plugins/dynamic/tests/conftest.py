"""Every test runs on the local executor (the default), whatever the environment says."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)
