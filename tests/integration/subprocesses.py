"""What the integration tests that start ``loom`` and kill it share: starting it, waiting for what it
writes, reading the log its tasks keep, and making sure no process outlives its test.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable, Iterator


def start_loom(arguments: list[str], environment: dict[str, str]) -> subprocess.Popen:
    """``loom ARGUMENTS`` in a fresh interpreter, its output captured as text, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def reaped(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """``process`` inside the block; killed and waited for after it if it still runs."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``condition`` until it gives something true, and give that; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def logged(path: Any) -> list[str]:
    """The words of the log file ``path`` (empty while it does not exist)."""
    return path.read_text().split() if path.exists() else []


def serialized_templates(directory: Any, program: str) -> tuple[Any, dict[str, Any]]:
    """Write ``program`` as the module ``flows.jobs`` under ``directory/app`` and ``loom serialize`` it
    (project ``proj``, domain ``dev``, version ``v1``); give the app directory and the task templates
    (flyteidl messages) by name, to run with ``plugins.flyte.tests.test_entrypoint.run_container``.
    """
    from flyteidl.admin import task_pb2  # protobuf: only for the tests that read templates

    root = Path(directory) / "app"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "__init__.py").write_text("")
    (root / "flows" / "jobs.py").write_text(textwrap.dedent(program))
    serialized = Path(directory) / "serialized"
    arguments = ["serialize", str(root / "flows"), "--image", "default=example/app:1"]
    arguments += ["-p", "proj", "-d", "dev", "--version", "v1", "-o", str(serialized)]
    completed = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "loom"), *arguments],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert completed.returncode == 0, completed.stderr
    templates = {}
    for path in serialized.glob("*_1.pb"):
        spec = task_pb2.TaskSpec()
        spec.ParseFromString(path.read_bytes())
        templates[spec.template.id.name] = spec.template
    return root, templates


def packaged_templates(archive: Any) -> dict[str, Any]:
    """The task templates (flyteidl messages) by name in the archive ``loom package`` wrote at ``archive``."""
    import tarfile

    from flyteidl.admin import task_pb2  # protobuf: only for the tests that read templates

    templates = {}
    with tarfile.open(archive) as package:
        for member in package.getmembers():
            if member.name.endswith("_1.pb"):
                spec = task_pb2.TaskSpec()
                spec.ParseFromString(package.extractfile(member).read())
                templates[spec.template.id.name] = spec.template
    return templates
