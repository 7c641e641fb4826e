"""Build throw-away installed distributions (a package plus its ``.dist-info``) for plugin tests.

The result is a directory to put on ``sys.path``/``PYTHONPATH``: Python's metadata machinery, and so
stevedore, finds the entry points exactly as it would for a pip-installed plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path


def make_distribution(
    root: Path,
    name: str,
    *,
    files: dict[str, str],
    entry_points: dict[str, dict[str, str]],
    version: str = "1.0",
) -> Path:
    """Write package ``files`` (relative path -> source) and a dist-info for ``name`` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    tops = sorted({relative.split("/", 1)[0].removesuffix(".py") for relative in files})
    (info / "top_level.txt").write_text("\n".join(tops) + "\n")
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    return root


def run_python(code: str, *, path: Path | None = None, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter (with ``path`` first on PYTHONPATH); return what it printed as JSON.

    The code must print exactly one JSON document on its last line of stdout.
    """
    environment = dict(os.environ)
    if path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), environment.get("PYTHONPATH", "")]))
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=environment, timeout=120
    )
    if done.returncode != 0:
        raise AssertionError(f"subprocess failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_loom(
    arguments: list[str], *, path: Path | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
):
    """Run the ``loom`` command line in a fresh interpreter (in directory ``cwd``); return the CompletedProcess."""
    environment = dict(os.environ)
    if path is not None:
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), environment.get("PYTHONPATH", "")]))
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "from taskloom.cli import main; main()", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
    )
