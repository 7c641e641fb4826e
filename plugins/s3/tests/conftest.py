"""Real S3 servers for taskloom-s3's tests: SeaweedFS (``weed mini``) and moto's standalone server.

Each is started once per test session, on 127.0.0.1 and free ports, when a test first needs it, and
stopped by process id at the end (see :mod:`taskloom_s3.testing`). ``s3_server`` is parametrized
over both; ``seaweedfs`` is for tests that need a server storing data on disk (a 1 GiB file).
A missing ``weed`` binary fails the tests that need it: it comes with ``taskloom-s3[testing]``.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Iterator

import pytest

from taskloom_s3.testing import SERVERS, S3Server, ServerPool, use_server

_buckets = itertools.count()


@pytest.fixture(scope="session")
def s3_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """Every S3 server started by this session's tests."""
    pool = ServerPool(str(tmp_path_factory.mktemp("s3-servers")))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture(scope="session", params=SERVERS)
def s3_server(request: pytest.FixtureRequest, s3_pool: ServerPool) -> S3Server:
    """Each S3 server in turn."""
    return s3_pool.get(request.param)


@pytest.fixture(scope="session")
def seaweedfs(s3_pool: ServerPool) -> S3Server:
    """The SeaweedFS server."""
    return s3_pool.get("seaweedfs")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> S3Server:
    """The AWS environment points at each server in turn."""
    use_server(monkeypatch, s3_server)
    return s3_server


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A new bucket on the server of ``s3``: its name."""
    name = f"taskloom-{next(_buckets)}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(name)
    return name
