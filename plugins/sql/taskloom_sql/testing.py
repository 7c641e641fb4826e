"""A real PostgreSQL server on 127.0.0.1 for tests: a throwaway cluster in a directory made for it.

Debian's ``postgresql`` package provides ``initdb`` and ``postgres`` (``/usr/lib/postgresql/N/bin``);
PostgreSQL refuses to run as root, so when the tests run as root both run as the ``postgres`` user
in a directory owned by it. The server listens on a free port of 127.0.0.1 only, its socket in the
cluster's directory (not ``/run/postgresql``), and checks passwords (``scram-sha-256``)::

    server = start_postgres(tmp_dir)            # in a session-scoped fixture
    server.create_role("ana", "s3cret")         # a login role owning a database of its name
    server.url("ana", "s3cret")                 # postgresql+psycopg://ana:s3cret@127.0.0.1:PORT/ana
    ...
    server.stop()                               # at the end of the session, by process id

Nothing here is imported by the plugin itself; the driver (psycopg) comes with taskloom-sql's
``testing`` extra.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

#: Where the server listens; it is never reachable from another machine.
HOST = "127.0.0.1"


def hostile_strings(table: str) -> list[str]:
    """Values that would change a statement on ``table`` if they were pasted into its text, as flytekit pastes
    query inputs: tests pass each as an input and check that it is matched literally and ``table`` survives."""
    return [
        f"'; DROP TABLE {table}; --",
        "' OR '1'='1",
        f"x' UNION SELECT * FROM {table} --",
        f'"; DELETE FROM {table}; --',
        "{{ .inputs.name }}",
        f"Robert'); DROP TABLE {table};--",
        f"\\'; DROP TABLE {table}; --",
    ]


#: The superuser of the cluster and the account the server runs as when the tests run as root.
SUPERUSER = "postgres"


class ServerError(RuntimeError):
    """The PostgreSQL server could not be found, started or reached."""


@dataclass
class PostgresServer:
    """A running PostgreSQL cluster: where it listens, its superuser's password and its process."""

    port: int
    password: str
    directory: str
    process: subprocess.Popen[bytes]
    log_path: str

    def url(self, user: str = SUPERUSER, password: str | None = None, database: str | None = None) -> str:
        """A SQLAlchemy URL for psycopg 3 (``password`` None: the URL carries none)."""
        credentials = user if password is None else f"{user}:{password}"
        return f"postgresql+psycopg://{credentials}@{HOST}:{self.port}/{database or user}"

    def connect(self, user: str = SUPERUSER, password: str | None = None, database: str | None = None) -> Any:
        """A psycopg connection (autocommit), by default the superuser's to database ``postgres``."""
        import psycopg

        return psycopg.connect(
            host=HOST,
            port=self.port,
            user=user,
            password=self.password if password is None and user == SUPERUSER else password,
            dbname=database or user,
            autocommit=True,
            connect_timeout=10,
        )

    def create_role(self, name: str, password: str) -> None:
        """A login role ``name`` with ``password``, owning a new database ``name``."""
        from psycopg import sql

        with self.connect() as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
            )
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name))
            )

    def log(self) -> str:
        """What the server wrote to its log so far."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as file:
                return file.read()
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (fast shutdown: SIGINT, then SIGKILL after ``timeout``) and remove its cluster."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_bindir() -> str:
    """The directory holding ``initdb`` and ``postgres``: Debian's newest ``/usr/lib/postgresql/N/bin``, else PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]), reverse=True
    )
    found = candidates[0] if candidates else shutil.which("initdb")
    if found is None:
        raise ServerError(
            "PostgreSQL is not installed: initdb is neither in /usr/lib/postgresql/*/bin nor on PATH "
            "(Debian: apt-get install postgresql; .ci/run installs it from plugins/sql/debian-packages.txt)"
        )
    return os.path.dirname(found)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> dict[str, Any]:
    # PostgreSQL refuses to run as root: as root, the child switches to the postgres account before exec.
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(SUPERUSER)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def start_postgres(parent: str | None = None, *, timeout: float = 60.0) -> PostgresServer:
    """Create a cluster in a new directory under ``parent`` and start its server; return once it accepts logins.

    ``parent`` (default: the system's temporary directory) must be reachable by the ``postgres`` user when
    the tests run as root: pytest's ``tmp_path`` directories are private to root, so do not pass one of them.
    """
    bindir = postgres_bindir()
    directory = tempfile.mkdtemp(prefix="taskloom-postgres-", dir=parent)
    data = os.path.join(directory, "data")
    password = os.urandom(12).hex()
    password_file = os.path.join(directory, "superuser-password")
    with open(password_file, "w", encoding="utf-8") as file:
        file.write(password + "\n")
    user = _as_server_user()
    if user:
        os.chmod(directory, 0o700)
        for path in (directory, password_file):
            os.chown(path, user["user"], user["group"])
    log_path = os.path.join(directory, "server.log")
    with open(log_path, "wb") as log:
        initialised = subprocess.run(
            [
                os.path.join(bindir, "initdb"),
                "--pgdata",
                data,
                "--username",
                SUPERUSER,
                "--pwfile",
                password_file,
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            **user,
        )
    if initialised.returncode != 0:
        with open(log_path, encoding="utf-8", errors="replace") as file:
            text = file.read()
        shutil.rmtree(directory, ignore_errors=True)
        raise ServerError(f"initdb failed with exit status {initialised.returncode}:\n{text[-2000:]}")
    port = free_port()
    log = open(log_path, "ab")  # noqa: SIM115 (the server writes to it for as long as it runs)
    process = subprocess.Popen(
        [
            os.path.join(bindir, "postgres"),
            "-D",
            data,
            "-p",
            str(port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            f"unix_socket_directories={directory}",
            "-c",
            "fsync=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        **user,
    )
    log.close()
    server = PostgresServer(port=port, password=password, directory=directory, process=process, log_path=log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            server.stop()
            raise ServerError(f"postgres exited with status {process.returncode}:\n{server.log()[-2000:]}")
        try:
            server.connect(database="postgres").close()
            return server
        except Exception as error:
            if time.monotonic() > deadline:
                server.stop()
                raise ServerError(
                    f"postgres did not accept logins within {timeout} s ({error}):\n{server.log()[-2000:]}"
                ) from error
            time.sleep(0.1)
