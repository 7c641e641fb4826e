"""The same sessions as tox.ini: one per distribution, installed from this tree by dev/install.py."""

from __future__ import annotations

import nox

nox.options.sessions = ["kernel", "types", "local", "map", "dynamic", "flyte", "s3", "integration"]

SESSIONS = {
    "kernel": ("kernel", "tests/kernel"),
    "types": ("kernel,types", "plugins/types/tests"),
    "local": ("kernel,types,local", "plugins/local/tests"),
    "map": ("kernel,types,local,map", "plugins/map/tests"),
    "dynamic": ("kernel,types,local,dynamic", "plugins/dynamic/tests"),
    "flyte": ("kernel,types,local,map,dynamic,flyte", "plugins/flyte/tests"),
    "s3": ("kernel,types,local,s3", "plugins/s3/tests"),
    "integration": (None, "tests/integration"),
}


def _run(session: nox.Session, name: str) -> None:
    only, tests = SESSIONS[name]
    command = ["python", "dev/install.py", "--python", session.virtualenv.bin + "/python"]
    if only:
        command += ["--only", only]
    session.run(*command)
    session.run("python", "-m", "pytest", tests, *session.posargs)


@nox.session
def kernel(session: nox.Session) -> None:
    """The kernel alone: its tests must pass with no plugin installed."""
    _run(session, "kernel")


@nox.session
def types(session: nox.Session) -> None:
    """The kernel and taskloom-types."""
    _run(session, "types")


@nox.session
def local(session: nox.Session) -> None:
    """The kernel, taskloom-types and taskloom-local."""
    _run(session, "local")


@nox.session
def map(session: nox.Session) -> None:
    """The kernel, taskloom-types, taskloom-local and taskloom-map."""
    _run(session, "map")


@nox.session
def dynamic(session: nox.Session) -> None:
    """The kernel, taskloom-types, taskloom-local and taskloom-dynamic."""
    _run(session, "dynamic")


@nox.session
def integration(session: nox.Session) -> None:
    """Every distribution: cross-distribution tests."""
    _run(session, "integration")


@nox.session
def flyte(session: nox.Session) -> None:
    """The kernel and the standard plugins: types, local, map, dynamic, flyte."""
    _run(session, "flyte")


@nox.session
def s3(session: nox.Session) -> None:
    """The kernel, taskloom-types, taskloom-local and taskloom-s3."""
    _run(session, "s3")
