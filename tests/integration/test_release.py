"""Release hygiene (issue 22, point 5): one version per distribution from one source, a changelog each,
sdists and wheels that build and pass twine, and wheels that run the README's example once installed."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from tests.integration.installing import install_command

ROOT = Path(__file__).resolve().parents[2]
# The distributions of the tree, as dev/install.py finds them: short name -> (directory, import package).
DISTRIBUTIONS = {"kernel": (ROOT / "kernel", "taskloom")} | {
    path.name: (path, f"taskloom_{path.name}")
    for path in sorted((ROOT / "plugins").iterdir())
    if (path / "pyproject.toml").is_file()
}
# A version written as a literal in Python: `__version__ = "1.2"`.
PYTHON_VERSION = re.compile(r'^__version__\s*=\s*["\']', re.MULTILINE)


def _project(directory: Path) -> dict:
    with open(directory / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def _package_version(directory: Path, package: str) -> str:
    """The literal assigned to ``__version__`` in the package's ``__init__.py``, read without importing it."""
    tree = ast.parse((directory / package / "__init__.py").read_text())
    (value,) = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", None) for target in node.targets] == ["__version__"]
        and isinstance(node.value, ast.Constant)
    ]
    return value


def _version_literals(directory: Path) -> list[str]:
    """Every place in a distribution's directory (its tests and build output left out) that writes a version."""
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if any(part in {"tests", "build", "dist"} or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.name == "pyproject.toml" and "version" in tomllib.loads(path.read_text())["project"]:
            found.append(f"{relative}: [project] version")
        elif path.suffix == ".py" and PYTHON_VERSION.search(path.read_text()):
            found.append(f"{relative}: __version__")
    return found


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_each_distribution_reads_its_version_from_its_package_and_writes_it_once(name):
    directory, package = DISTRIBUTIONS[name]
    project = _project(directory)
    assert "version" in project["project"]["dynamic"], f"taskloom-{name}: the version is not dynamic"
    assert "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": f"{package}.__version__"}
    assert _version_literals(directory) == [f"{package}/__init__.py: __version__"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", _package_version(directory, package))


def test_the_taskloom_distribution_writes_its_version_once_and_pins_each_distribution_at_its_version():
    root = _project(ROOT)
    # The root distribution has no package (its wheel holds metadata only): its pyproject's literal is the one source.
    assert root["tool"]["setuptools"]["packages"] == [] and "dynamic" not in root["project"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", root["project"]["version"])
    pins = dict(re.fullmatch(r"(taskloom-\w+)==(.+)", pin).groups() for pin in root["project"]["dependencies"])
    for extra in root["project"]["optional-dependencies"].values():
        pins |= dict(re.fullmatch(r"(taskloom-\w+)==(.+)", pin).groups() for pin in extra)
    expected = {f"taskloom-{name}": _package_version(*DISTRIBUTIONS[name]) for name in DISTRIBUTIONS}
    assert pins == {name: expected[name] for name in pins}
    assert set(pins) == set(expected), "a distribution of the tree is neither a dependency nor an extra"


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_the_installed_metadata_carries_the_package_version(name):
    directory, package = DISTRIBUTIONS[name]
    assert importlib.metadata.version(f"taskloom-{name}") == _package_version(directory, package)


@pytest.mark.parametrize("name", ["taskloom", *sorted(DISTRIBUTIONS)])
def test_each_distribution_has_a_changelog_with_a_section_for_its_version(name):
    if name == "taskloom":
        directory, version = ROOT, _project(ROOT)["project"]["version"]
    else:
        directory, version = DISTRIBUTIONS[name][0], _package_version(*DISTRIBUTIONS[name])
    changelog = (directory / "CHANGELOG.md").read_text()
    distribution = "taskloom" if name == "taskloom" else f"taskloom-{name}"
    assert changelog.startswith(f"# Changelog of `{distribution}`\n")
    assert re.search(rf"^## {re.escape(version)}\b", changelog, re.MULTILINE), changelog
    # Started from the landed issues: each entry names the issue that brought it.
    entries = re.findall(r"^- (.*(?:\n  .*)*)", changelog, re.MULTILINE)
    assert entries and all(re.search(r"\(issues? \d+", entry) for entry in entries), entries


# --- building -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Every distribution's sdist and wheel, made by dev/build.py (which also runs twine check)."""
    outdir = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "build.py"), "--outdir", str(outdir), "--no-isolation"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return outdir


def test_every_distribution_builds_an_sdist_and_a_wheel_that_twine_accepts(built):
    versions = {"taskloom": _project(ROOT)["project"]["version"]} | {
        f"taskloom_{name}": _package_version(*DISTRIBUTIONS[name]) for name in DISTRIBUTIONS
    }
    expected = {f"{stem}-{version}.tar.gz" for stem, version in versions.items()}
    expected |= {f"{stem}-{version}-py3-none-any.whl" for stem, version in versions.items()}
    assert {path.name for path in built.iterdir()} == expected
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(built.iterdir()))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.count("PASSED") == len(expected), done.stdout + done.stderr


def test_a_broken_readme_fails_the_build_script(tmp_path):
    # The check is real: an sdist whose description does not render is refused by twine check --strict.
    project = tmp_path / "broken"
    project.mkdir()
    (project / "README.rst").write_text("Title\n=====\n\n.. this-directive-does-not-exist::\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "broken"\nversion = "1.0"\nreadme = "README.rst"\n[tool.setuptools]\npackages = []\n'
    )
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(tmp_path / "out"), str(project)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, (tmp_path / "out").iterdir())],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "FAILED" in done.stdout, done.stdout


@pytest.mark.slow
def test_the_wheels_installed_in_a_fresh_venv_run_the_readme_example(built, tmp_path):
    # The README's first command, `loom run examples/hello.py wf --name world`, from the built wheels
    # (not editable, not this tree): the entry points, plugin discovery and every module must be in them.
    environment = tmp_path / "venv"
    venv.EnvBuilder().create(environment)
    python = environment / "bin" / "python"
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    wheels = sorted(str(path) for path in built.glob("*.whl"))
    install = subprocess.run(
        [*install_command(str(python)), *wheels], env=clean, capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stdout + install.stderr
    work = tmp_path / "work"
    (work / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "hello.py", work / "examples" / "hello.py")
    where = subprocess.run(
        [str(python), "-c", "import taskloom, taskloom_local; print(taskloom.__file__, taskloom_local.__file__)"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    assert all(Path(file).is_relative_to(environment) for file in where.stdout.split()), where.stdout
    run = subprocess.run(
        [str(environment / "bin" / "loom"), "run", "examples/hello.py", "wf", "--name", "world", "--progress", "never"],
        cwd=work,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "HELLO, WORLD! HELLO, WORLD!"
    plugins = subprocess.run(
        [str(environment / "bin" / "loom"), "plugins"], cwd=work, env=clean, capture_output=True, text=True
    )
    assert plugins.returncode == 0, plugins.stderr
    for name in ("types", "local", "map", "dynamic", "flyte"):
        assert re.search(rf"\b{name}\b", plugins.stdout), plugins.stdout
