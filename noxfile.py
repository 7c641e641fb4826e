"""The same sessions as tox.ini, under the same names (tests/integration/test_matrix.py checks it).

``nox -l`` lists them; ``nox -s py311-local-lowest`` runs one. What a distribution's session installs is
written once, in dev/matrix.py, which tox.ini calls too.
"""

from __future__ import annotations

import nox

# Every Python requires-python (>=3.11) allows that this machine can install (pyenv: export
# PYENV_VERSION=3.11:3.12:3.13 to make them all visible).
PYTHONS = ("3.11", "3.12", "3.13")
# A distribution -> the directory of its tests.
TESTS = {
    "kernel": "tests/kernel",
    "types": "plugins/types/tests",
    "local": "plugins/local/tests",
    "map": "plugins/map/tests",
    "dynamic": "plugins/dynamic/tests",
    "flyte": "plugins/flyte/tests",
    "s3": "plugins/s3/tests",
    "arrow": "plugins/arrow/tests",
    "sql": "plugins/sql/tests",
    "container": "plugins/container/tests",
    "agent": "plugins/agent/tests",
    "dask": "plugins/dask/tests",
    "kubernetes": "plugins/kubernetes/tests",
    "report": "plugins/report/tests",
}
FACTORS = ("lowest", "latest")

nox.options.sessions = [
    f"py{python.replace('.', '')}-{name}-{factor}" for python in PYTHONS for name in TESTS for factor in FACTORS
] + ["integration", "lint", "type", "build", "docs", "template"]


def _distribution_session(python: str, name: str, factor: str) -> None:
    def session(session: nox.Session) -> None:
        interpreter = f"{session.virtualenv.bin}/python"
        session.run("python", "dev/matrix.py", "install", "--python", interpreter, name, factor, external=True)
        session.run("python", "-m", "pip", "list", "--format=freeze", "--exclude-editable")
        session.run("python", "-m", "pytest", TESTS[name], *session.posargs)

    session.__doc__ = f"taskloom-{name}'s tests on Python {python}, its dependencies at their {factor} versions."
    nox.session(name=f"py{python.replace('.', '')}-{name}-{factor}", python=python)(session)


for _python in PYTHONS:
    for _name in TESTS:
        for _factor in FACTORS:
            _distribution_session(_python, _name, _factor)


def _install_everything(session: nox.Session) -> None:
    session.run("python", "dev/install.py", "--python", f"{session.virtualenv.bin}/python", external=True)


@nox.session
def integration(session: nox.Session) -> None:
    """Every distribution (dev/install.py): the cross-distribution tests."""
    _install_everything(session)
    session.run("python", "-m", "pytest", "tests/integration", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and the import contracts (lint-imports)."""
    _install_everything(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def type(session: nox.Session) -> None:
    """mypy over every distribution ([tool.mypy] of pyproject.toml)."""
    _install_everything(session)
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """The docs site built with warnings as errors (mkdocs build --strict), and its examples run."""
    _install_everything(session)
    session.run("mkdocs", "build", "--strict", "--site-dir", f"{session.create_tmp()}/site")
    session.run("python", "-m", "pytest", "tests/integration/test_docs_site.py", *session.posargs)


@nox.session
def template(session: nox.Session) -> None:
    """The plugin template rendered, installed from wheels in a fresh venv and tested end to end."""
    _install_everything(session)
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/integration/test_plugin_template.py",
        "tests/integration/test_writing_a_plugin.py",
        *session.posargs,
    )


@nox.session
def build(session: nox.Session) -> None:
    """python -m build of every distribution, then twine check (dev/build.py)."""
    session.install("build>=1.2", "twine>=6", "setuptools>=77")
    session.run("python", "dev/build.py", "--outdir", f"{session.create_tmp()}/dist", "--no-isolation")
