"""Fixtures shared by the cross-distribution tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def s3_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Real S3 servers (SeaweedFS, moto) on 127.0.0.1, each started when a test first asks for it and
    stopped (SIGTERM, then SIGKILL) at the end of the session."""
    from taskloom_s3.testing import ServerPool

    pool = ServerPool(str(tmp_path_factory.mktemp("s3-servers")))
    try:
        yield pool
    finally:
        pool.stop_all()
