#!/usr/bin/env python3
"""Install one session of the tox/nox matrix into an interpreter: the kernel from source plus one distribution.

    python3 dev/matrix.py install --python PY local lowest

``tox.ini`` and ``noxfile.py`` name the same sessions (``py311-local-lowest``...) and both call this
script, so what a session installs is written once, here. A session installs, editable from this
tree, the kernel with its test extras, the plugins the distribution's tests need to run workflows
(without their test extras), and the distribution itself with its test extras. The ``lowest`` factor
adds the constraints of ``dev/lowest.py``: every floor the kernel and the distribution declare is
installed at exactly that version. ``latest`` lets pip take the newest releases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from install import ROOT, distributions, pip_settings_for_uv
from lowest import floors

# A distribution -> the other plugins its tests need: workflows need transformers and an executor, and the
# standard plugins' tests use map_task, @dynamic and @eager in their workflows.
SUPPORT: dict[str, tuple[str, ...]] = {
    "kernel": (),
    "types": (),
    "local": ("types", "map", "dynamic"),
    "map": ("types", "local", "dynamic"),
    "dynamic": ("types", "local", "map"),
    "flyte": ("types", "local", "map", "dynamic"),
    "s3": ("types", "local", "map", "dynamic"),
    "arrow": ("types", "local", "map", "dynamic"),
    # taskloom-arrow is a dependency of taskloom-sql (its results are tables), installed from the tree.
    "sql": ("types", "local", "map", "dynamic", "arrow"),
    "container": ("types", "local", "map", "dynamic", "flyte"),
    # taskloom-flyte is a dependency of taskloom-agent (its codec), installed from the tree.
    "agent": ("types", "local", "map", "dynamic", "flyte"),
    # taskloom-local is a dependency of taskloom-dask (its scheduler runs the executor dask), installed from the tree.
    "dask": ("types", "local", "map", "dynamic"),
    # taskloom-local and taskloom-flyte are dependencies of taskloom-kubernetes (the scheduler, the templates and
    # loom-execute in the Pods), and its tests keep data on taskloom-s3's servers: all installed from the tree.
    "kubernetes": ("types", "local", "map", "dynamic", "flyte", "s3"),
    # taskloom-local is a dependency of taskloom-report (the execution store it reads), installed from the tree.
    "report": ("types", "local", "map", "dynamic"),
}
FACTORS = ("lowest", "latest")


def install(python: str, name: str, factor: str) -> int:
    """Install session ``name`` at ``factor`` into ``python``; return the installer's exit status."""
    available = distributions()
    # "compat" editable installs, as dev/install.py's: a path in a .pth file, no import hook.
    requirements = ["-e", f"{available['kernel']}[testing]"]
    requirements += [arg for plugin in SUPPORT[name] for arg in ("-e", str(available[plugin]))]
    if name != "kernel":
        requirements += ["-e", f"{available[name]}[testing]"]
    environment = dict(os.environ)
    pins = [f"{dependency}=={floor}" for dependency, floor in sorted(floors(["kernel", name]).items())]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix=f"lowest-{name}-", delete=False) as file:
        file.write("".join(pin + "\n" for pin in pins))
    uv = find_uv()
    if uv is not None:
        command = [uv, "pip", "install", "-q", "--python", python, "--config-setting", "editable_mode=compat"]
        # Wheels only, but for this tree's distributions: no compiler toolchain is assumed. With the
        # floors pinned, py312-s3-lowest otherwise resolved moto's validators to pydantic 2.0, whose
        # pydantic-core has no wheel for 3.12 and whose Rust build needs crates.io.
        command += ["--only-binary", ":all:"]
        for installed in ("kernel", *SUPPORT[name], name):
            command += ["--no-binary", f"taskloom-{installed}"]
        command += pip_settings_for_uv()  # the machine's wheel directories (and a cap it sets), as pip takes them
        if factor == "lowest":
            command += ["--constraint", file.name]
    else:
        command = [python, "-m", "pip", "install", "-q", "--config-settings", "editable_mode=compat"]
        if factor == "lowest":
            # One PIP_CONSTRAINT already in the environment (a machine's cap) is kept beside ours.
            configured = environment.get("PIP_CONSTRAINT", "")
            environment["PIP_CONSTRAINT"] = " ".join(filter(None, [configured, file.name]))
    try:
        if factor == "lowest":
            print(f"{name}-lowest: " + ", ".join(pins), flush=True)
        return subprocess.run(command + requirements, env=environment).returncode
    finally:
        os.unlink(file.name)


def find_uv() -> str | None:
    """The uv that installs sessions: the development environment's (dev/install.py installs it), else one on
    PATH, else None (pip installs them).

    uv rather than pip because pip's resolver, with every floor pinned, backtracks through every
    boto3/aiobotocore pair that moto and s3fs could take and had not finished after eight minutes of
    CPU for taskloom-s3's lowest session; uv resolves the same constraints in seconds. The pins, and so
    what a session tests, are the same with either.
    """
    here = ROOT / ".venv" / "bin" / "uv"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("uv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser("install", help="install one session into an interpreter")
    install_command.add_argument("--python", required=True, help="the session's interpreter")
    install_command.add_argument("name", choices=sorted(SUPPORT))
    install_command.add_argument("factor", choices=FACTORS)
    arguments = parser.parse_args()
    return install(arguments.python, arguments.name, arguments.factor)


if __name__ == "__main__":
    sys.exit(main())
