"""How integration tests install into a virtual environment of their own: with uv's pip interface, the
installer ``dev/install.py`` puts into ``.venv``.

The tests that install this tree's wheels or a rendered plugin into a fresh environment check what gets
installed (entry points, package data, dependencies), not pip itself; uv resolves and installs the same
requirements in seconds where pip took most of a minute (55 s for every distribution's wheels here).
"""

from __future__ import annotations

import os
import sys


def install_command(python: str) -> list[str]:
    """``uv pip install`` into ``python``, with the wheel directories pip's configuration names (uv reads its own)."""
    command = [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", python]
    return command + [f"--find-links={links}" for links in os.environ.get("PIP_FIND_LINKS", "").split()]
