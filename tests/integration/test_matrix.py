"""The tox/nox matrix (issue 22, point 3): the same sessions under both tools, one per distribution at each
supported Python and at the lowest and latest versions of what it depends on, and lowest pins that are
exactly the floors the pyprojects declare."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every distribution with tests of its own: the kernel and each plugin directory of the tree.
DISTRIBUTIONS = ["kernel"] + sorted(
    path.name for path in (ROOT / "plugins").iterdir() if (path / "pyproject.toml").is_file()
)
# The Pythons the matrix covers: requires-python's floor and every later minor version this machine installs.
PYTHONS = ["311", "312", "313"]
TOOL_SESSIONS = {"integration", "lint", "type", "build", "docs", "template"}


def _tox_sessions() -> list[str]:
    done = subprocess.run([sys.executable, "-m", "tox", "-l"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split()


def _nox_sessions() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [session["session"] for session in json.loads(done.stdout)]


def test_tox_and_nox_offer_the_same_sessions():
    assert sorted(_tox_sessions()) == sorted(_nox_sessions())


def test_each_distribution_has_a_session_per_python_and_factor_and_the_tool_sessions_exist():
    expected = {
        f"py{python}-{name}-{factor}" for python in PYTHONS for name in DISTRIBUTIONS for factor in ("lowest", "latest")
    }
    assert set(_tox_sessions()) == expected | TOOL_SESSIONS


def test_the_matrix_covers_the_python_floor_of_every_distribution():
    for directory in [ROOT, ROOT / "kernel", *(ROOT / "plugins" / name for name in DISTRIBUTIONS[1:])]:
        with open(directory / "pyproject.toml", "rb") as file:
            floor = tomllib.load(file)["project"]["requires-python"]
        assert floor == ">=3.11", f"{directory}: requires-python {floor}; the matrix starts at 3.11"


def _lowest(names: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "lowest.py"), names], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("==") for line in done.stdout.split())


def _declared_floors(name: str) -> dict[str, str]:
    directory = ROOT / "kernel" if name == "kernel" else ROOT / "plugins" / name
    with open(directory / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    floors = {}
    for requirement in dependencies:
        match = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*(.*)", requirement)
        assert match, requirement
        floor = re.search(r">=\s*([^,;\s]+)", match[2])
        if floor and not match[1].startswith("taskloom"):
            floors[match[1].lower()] = floor[1]
    return floors


def test_the_lowest_factor_pins_every_floor_the_kernel_and_the_distribution_declare():
    for name in DISTRIBUTIONS:
        pins = _lowest(name)
        assert pins == _declared_floors("kernel") | _declared_floors(name), name
        assert not any(dependency.startswith("taskloom") for dependency in pins)


def test_an_unknown_distribution_is_refused_by_name():
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "lowest.py"), "kernel,nope"], capture_output=True, text=True
    )
    assert done.returncode != 0 and "unknown distribution 'nope'" in done.stderr


def test_the_readme_says_how_to_run_one_session_and_ci_runs_the_sessions_it_names():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Running sessions") :].split("\n## ")[0]
    named = set(re.findall(r"`(?:tox|nox) -[es] ([\w-]+)`", section))
    assert named, section
    assert named <= set(_tox_sessions())
    ci = (ROOT / ".ci" / "run").read_text()
    for session in re.findall(r"^\S*tox -e ([\w,-]+)", ci, re.MULTILINE):
        assert set(session.split(",")) <= set(_tox_sessions()), session
        assert all(name in section for name in session.split(",")), f"the README does not say CI runs {session}"


@pytest.mark.slow
def test_a_lowest_session_installs_each_floor_exactly_with_uv(tmp_path: Path):
    # What tox and nox run before a session's tests: here the kernel's lowest session into a fresh venv.
    sys.path.insert(0, str(ROOT / "dev"))
    try:
        import matrix
    finally:
        sys.path.remove(str(ROOT / "dev"))
    assert matrix.find_uv() is not None, "dev/install.py installs uv into .venv"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "matrix.py"), "install", "--python", str(python), "kernel", "lowest"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A venv without pip: only uv can have installed into it.
    report = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m, sys; print(*(m.version(n) for n in sys.argv[1:]))"]
        + sorted(_declared_floors("kernel")),
        capture_output=True,
        text=True,
        check=True,
    )
    installed = dict(zip(sorted(_declared_floors("kernel")), report.stdout.split(), strict=True))
    for dependency, floor in _declared_floors("kernel").items():
        assert tuple(installed[dependency].split(".")[: len(floor.split("."))]) == tuple(floor.split(".")), (
            dependency,
            floor,
            installed[dependency],
        )


def test_dev_install_uses_uv_with_the_wheel_directories_and_constraints_pip_would_read(monkeypatch, tmp_path):
    # uv reads none of pip's configuration: dev/install.py passes PIP_FIND_LINKS and PIP_CONSTRAINT (which
    # dev/lowest.py's recipe sets) on, so an install with uv takes what one with pip would.
    sys.path.insert(0, str(ROOT / "dev"))
    try:
        import install
    finally:
        sys.path.remove(str(ROOT / "dev"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "lowest.txt").write_text("")
    monkeypatch.setenv("PIP_FIND_LINKS", f"{tmp_path / 'a'} {tmp_path / 'b'}")
    monkeypatch.setenv("PIP_CONSTRAINT", str(tmp_path / "lowest.txt"))
    command = install.installer(sys.executable)  # uv is already there: pip only says so
    assert command[:5] == [sys.executable, "-m", "uv", "pip", "install"]
    assert "--compile-bytecode" in command  # as pip compiles what it installs
    assert command[-3:] == [
        f"--find-links={tmp_path / 'a'}",
        f"--find-links={tmp_path / 'b'}",
        f"--constraints={tmp_path / 'lowest.txt'}",
    ]
