"""A user's program type-checks clean under mypy and pyright, and the checkers see taskloom's real types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = Path(__file__).with_name("typed_program.py")
# A call the checkers can only refuse if they know Resources' real signature (not Any, not object).
WRONG = "from taskloom import Resources\n\nResources(no_such_argument=1)\n"


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def pyright(path: Path) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).with_name("pyright")
    return subprocess.run(
        [str(executable), "--project", str(ROOT / "pyproject.toml"), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.parametrize("checker", [mypy, pyright], ids=["mypy", "pyright"])
def test_a_user_program_type_checks_clean(checker):
    done = checker(PROGRAM)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("checker", [mypy, pyright], ids=["mypy", "pyright"])
def test_the_checkers_see_the_real_types_of_lazy_names(checker, tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(WRONG)
    done = checker(wrong)
    assert done.returncode != 0 and "no_such_argument" in done.stdout, done.stdout + done.stderr
