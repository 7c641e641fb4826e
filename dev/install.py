#!/usr/bin/env python3
"""Install every distribution of this tree in editable mode into a virtual environment.

    python3 dev/install.py                 # creates ./.venv if needed, installs everything + test and lint tools
    python3 dev/install.py --venv DIR      # another environment (created if missing)
    python3 dev/install.py --python PATH   # an existing interpreter (tox and nox use this)
    python3 dev/install.py --only kernel,types

The distributions are found on disk: the kernel (``kernel/``), every plugin (``plugins/*/``) and the
``taskloom`` meta distribution at the root, installed in dependency order in one call so that
the installer resolves ``taskloom-kernel`` to this tree, never to PyPI. The installer is uv's pip
interface (put into the interpreter by pip first), else pip: the same requirements and the same versions
resolved, in ~40 s with bytecode compiled instead of ~2 min (pip builds each editable distribution in a
build environment of its own). With the test tools, the Debian packages the plugins' tests need
(``plugins/*/debian-packages.txt``, see ``dev/system_packages.py``) are installed first when missing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The type checkers are pinned: tests/typing asserts what they report, which changes between releases.
# kubernetes: tests give a pod template as the official client's V1PodSpec, as flytekit users do.
# build, twine, setuptools, tox, nox: tests build every distribution and read the tox/nox session lists.
TEST_REQUIREMENTS = [
    "pytest>=8",
    # The suite runs on every core (`pytest -n auto`, README and .ci/run): 1.5x faster on two.
    "pytest-xdist>=3.6",
    "hypothesis>=6.100",
    "copier>=9.0",
    "fsspec>=2024.2",
    "mypy==2.4.1",
    "pyright==1.1.414",
    "kubernetes>=28",
    "build>=1.2",
    "twine>=6",
    "setuptools>=77",
    "tox>=4.20",
    "nox>=2024.10",
    # dev/matrix.py installs the tox/nox sessions with uv: pip's resolver does not finish the lowest ones.
    "uv>=0.5",
    # The docs site (mkdocs.yml; tests/integration/test_docs_site.py builds it with --strict). Pinned: a new
    # release may warn about what this one accepts, and the build treats warnings as errors.
    "mkdocs==1.6.1",
    "mkdocs-material==9.8.1",
    "mkdocstrings==1.0.8",
    "mkdocstrings-python==2.0.11",
    "mkdocs-gen-files==0.6.1",
    "mkdocs-literate-nav==0.6.3",
]
# Pinned: another ruff may format or flag differently. .pre-commit-config.yaml pins the same version.
LINT_REQUIREMENTS = ["ruff==0.17.6", "import-linter==2.17"]


def distributions() -> dict[str, Path]:
    """Map each distribution's short name (``kernel``, ``types``..., ``taskloom``) to its directory."""
    found = {"kernel": ROOT / "kernel"}
    for path in sorted((ROOT / "plugins").iterdir()):
        if (path / "pyproject.toml").is_file():
            found[path.name] = path
    found["taskloom"] = ROOT
    return found


def pip_settings_for_uv() -> list[str]:
    """uv's options for what pip would take from the environment: its wheel directories (``PIP_FIND_LINKS``, which
    this machine's configuration sets) and constraints (``PIP_CONSTRAINT``, as ``dev/lowest.py``'s recipe sets
    it). uv reads none of pip's configuration."""
    options = [f"--find-links={links}" for links in os.environ.get("PIP_FIND_LINKS", "").split()]
    return options + [f"--constraints={file}" for file in os.environ.get("PIP_CONSTRAINT", "").split()]


def installer(python: str) -> list[str]:
    """The command that installs requirements into ``python``: uv's pip interface when pip can put uv there
    (with :func:`pip_settings_for_uv`), else pip."""
    pip = [python, "-m", "pip", "install", "-q"]
    if subprocess.run([*pip, "uv>=0.5"], capture_output=True).returncode != 0:
        return pip
    # --compile-bytecode: pip compiles what it installs, uv does not by default; without the .pyc files every
    # interpreter the tests start compiles pandas, dask, grpc... again (PYTHONDONTWRITEBYTECODE keeps it from
    # writing them), which cost CI more than uv saved.
    return [
        python,
        "-m",
        "uv",
        "pip",
        "install",
        "-q",
        "--compile-bytecode",
        "--python",
        python,
        *pip_settings_for_uv(),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--venv", default=str(ROOT / ".venv"), help="virtual environment to create or reuse")
    where.add_argument("--python", help="install into this existing interpreter instead")
    parser.add_argument("--only", help="comma-separated short names (kernel, types, ..., taskloom)")
    parser.add_argument("--no-test-tools", action="store_true", help="skip the test and lint tools")
    arguments = parser.parse_args()

    if arguments.python:
        python = arguments.python
    else:
        env = Path(arguments.venv)
        python = str(env / "bin" / "python")
        if not os.path.exists(python):
            print(f"creating virtual environment {env}", flush=True)
            venv.EnvBuilder(with_pip=True).create(env)
            subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)

    available = distributions()
    wanted = list(available) if not arguments.only else [name.strip() for name in arguments.only.split(",")]
    unknown = [name for name in wanted if name not in available]
    if unknown:
        parser.error(f"unknown distributions {unknown}; known: {sorted(available)}")
    # "compat" editable installs put a plain path in a .pth file; the default import-hook finder
    # costs ~16 ms at every interpreter start, which would distort the startup benchmarks.
    command = [*installer(python), "-C", "editable_mode=compat"]  # -C: pip's --config-settings, uv's --config-setting
    for name in wanted:
        command += ["-e", str(available[name]) + ("" if name == "taskloom" else "[testing]")]
    if not arguments.no_test_tools:
        command += TEST_REQUIREMENTS + LINT_REQUIREMENTS
    if not arguments.no_test_tools:
        # Programs PyPI cannot bring that the plugins' tests need (PostgreSQL, podman): Debian packages,
        # listed by each plugin in debian-packages.txt and installed here when missing (as root).
        sys.path.insert(0, str(ROOT / "dev"))
        from system_packages import ensure

        ensure([available[name] for name in wanted if available[name].parent.name == "plugins"])
    print("installing:", ", ".join(wanted), flush=True)
    # setuptools' build back end is chatty (deprecation banners); show its output only on failure.
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        return done.returncode
    # The tree's own packages, which an editable install does not compile: each `loom` the tests start
    # would compile the modules it imports again where PYTHONDONTWRITEBYTECODE is set.
    packages = [
        path / f"taskloom_{name}"
        for name, path in available.items()
        if name in wanted and name not in ("kernel", "taskloom")
    ]
    packages += [available["kernel"] / "taskloom"] if "kernel" in wanted else []
    return subprocess.run([python, "-m", "compileall", "-q", "-j", "0", *map(str, packages)]).returncode


if __name__ == "__main__":
    sys.exit(main())
