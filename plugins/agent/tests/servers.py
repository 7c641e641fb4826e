"""Agent servers for the tests: ``loom serve agent --modules sample_agents`` in a subprocess on 127.0.0.1, on a
port it picks (or the one asked for), stopped (SIGTERM, then SIGKILL) when the block ends, whatever happened."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Server:
    """A running ``loom serve agent``: its process, endpoint and everything it printed so far."""

    def __init__(self, arguments: list[str], port: int = 0) -> None:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        self._errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by agent_server) a file, not a pipe: a chatty server never blocks on it
        command = [sys.executable, "-c", "from taskloom.cli import main; main()", "serve", "agent", "--port", str(port)]
        self.process = subprocess.Popen(
            [*command, "--modules", "sample_agents", *arguments],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.lines: list[str] = []
        first = self.process.stdout.readline() if self.process.stdout else ""
        if not first.startswith("serving on "):
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"loom serve agent did not start: {first!r} {self.stderr()}")
        self.lines.append(first)
        self.endpoint = first.split()[2]
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode

    def stderr(self) -> str:
        """What it wrote to stderr so far."""
        self._errors.seek(0)
        return self._errors.read()


@contextlib.contextmanager
def agent_server(*arguments: str, port: int = 0) -> Iterator[Server]:
    """A server for the block, stopped after it (also when the block fails)."""
    server = Server(list(arguments), port)
    try:
        yield server
    finally:
        server.stop()
        server._errors.close()
