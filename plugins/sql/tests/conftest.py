"""A real PostgreSQL server for taskloom-sql's tests, and SQLite databases in files.

The server is started once per test session, when a test first needs it, on 127.0.0.1 and a free port,
and stopped by process id at the end (see :mod:`taskloom_sql.testing`). A missing PostgreSQL fails the
tests that need it: Debian's ``postgresql`` is installed by ``.ci/run`` (plugins/sql/debian-packages.txt).
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterator

import pytest

from taskloom_sql.testing import PostgresServer, start_postgres

_roles = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (its cluster in a new directory of the system's temporary directory, which
    the ``postgres`` user can reach, unlike pytest's private ``tmp_path``; removed when it stops)."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def role(postgres: PostgresServer) -> tuple[str, str]:
    """A new login role with a random password, owning a database of its name: ``(name, password)``."""
    name, password = f"loom{next(_roles)}", "pw-" + os.urandom(8).hex()
    postgres.create_role(name, password)
    return name, password


@pytest.fixture
def chinook(tmp_path: pytest.TempPathFactory) -> str:
    """A SQLite database file with a table ``tracks(id, name, composer)`` of three rows: its path."""
    path = os.path.join(str(tmp_path), "chinook.db")
    with sqlite3.connect(path) as connection:
        connection.execute("create table tracks (id integer primary key, name text, composer text)")
        connection.executemany(
            "insert into tracks values (?, ?, ?)",
            [(1, "Balls to the Wall", "U. Dirkschneider"), (2, "Fast As a Shark", "F. Baltes"), (3, "Evil", None)],
        )
    connection.close()
    return path
