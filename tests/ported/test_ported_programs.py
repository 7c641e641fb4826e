"""Programs written for flytekit run under taskloom with only their imports rewritten (issue 21).

Every module of ``programs/`` is run twice as a script, as its author runs it: under flytekit 1.16 in
its own virtual environment, and under taskloom with ``flytekit`` rewritten to ``taskloom`` in its
import statements. What the two print must be the same, line for line. flytekit's side runs in a
thread pool while the test session starts, two programs at a time (each costs ~1 s of imports).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).resolve().parent / "programs"
NAMES = sorted(path.stem for path in PROGRAMS.glob("*.py") if path.stem != "__init__")
# `from flytekit import ...`, `from flytekit.x import ...`, `import flytekit`: the part a user rewrites.
IMPORT_OF_FLYTEKIT = re.compile(r"^(\s*(?:from|import)\s+)flytekit\b", re.MULTILINE)

pytestmark = pytest.mark.slow  # needs flytekit's virtual environment


def run_program(python: str, source: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as ``directory/<name>.py`` with ``python``, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / Path(source).name
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PORTED_TMP"] = str(directory)
    # Each run has its own home and cache directories: both SDKs keep their local cache there
    # (flytekit: ~/.flyte/local-cache), and a program's first run must find it empty.
    env["HOME"] = env["XDG_CACHE_HOME"] = str(directory / "home")
    # flytekit logs its warnings to stdout, interleaved with what the program prints: errors only.
    env["FLYTE_SDK_LOGGING_LEVEL"] = "40"
    return subprocess.run(
        [python, script.name], cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def write(name: str, directory: Path, *, sdk: str) -> str:
    text = (PROGRAMS / f"{name}.py").read_text()
    if sdk == "taskloom":
        text = IMPORT_OF_FLYTEKIT.sub(r"\1taskloom", text)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.py").write_text(text)
    return f"{name}.py"


@pytest.fixture(scope="module")
def flytekit_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "flyte" / "tests"))
    try:
        from flytekit_reference import flytekit_python
    finally:
        sys.path.pop(0)
    python = str(flytekit_python())
    root = tmp_path_factory.mktemp("flytekit-side")

    def one(name: str) -> subprocess.CompletedProcess[str]:
        directory = root / name
        return run_program(python, write(name, directory, sdk="flytekit"), directory)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(NAMES, pool.map(one, NAMES)))


def test_every_program_runs_under_flytekit(flytekit_outputs):
    # The reference itself: a program flytekit cannot run is a broken program, not a porting gap.
    broken = {name: done.stderr[-400:] for name, done in flytekit_outputs.items() if done.returncode}
    assert not broken


@pytest.mark.parametrize("name", NAMES)
def test_the_ported_program_prints_what_flytekit_prints(name, flytekit_outputs, tmp_path):
    done = run_program(sys.executable, write(name, tmp_path, sdk="taskloom"), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = flytekit_outputs[name]
    assert reference.returncode == 0, reference.stderr[-2000:]
    assert done.stdout.splitlines() == reference.stdout.splitlines()
