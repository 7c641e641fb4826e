"""How integration tests install into a virtual environment of their own: with uv's pip interface, the
installer ``dev/install.py`` puts into ``.venv``.

The tests that install this tree's wheels or a rendered plugin into a fresh environment check what gets
installed (entry points, package data, dependencies), not pip itself; uv resolves and installs the same
requirements in seconds where pip took most of a minute (55 s for every distribution's wheels here).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dev"))
try:
    from install import pip_settings_for_uv
finally:
    sys.path.pop(0)


def install_command(python: str) -> list[str]:
    """``uv pip install`` into ``python``, with what pip would take from the environment (uv reads its own)."""
    return [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", python, *pip_settings_for_uv()]
