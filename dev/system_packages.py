#!/usr/bin/env python3
"""Install the Debian packages the tests need and the machine lacks (a PostgreSQL server, a container runtime).

    python3 dev/system_packages.py [--check]

Each distribution that needs system programs for its tests lists their Debian packages in
``plugins/<name>/debian-packages.txt`` (one a line, ``#`` comments), so that a plugin says what it needs
beside its code and nobody edits a shared list. PyPI cannot bring these (a database server, podman), and
a fresh machine has none of them: ``.ci/run`` runs this first. Packages already installed are left as
they are; the rest are installed with ``apt-get`` (after one ``apt-get update``), which needs root.
``--check`` only says what is missing (exit 1 if anything is).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wanted() -> list[str]:
    """Every package the distributions list, in order, each once."""
    names: dict[str, None] = {}
    for listing in sorted((ROOT / "plugins").glob("*/debian-packages.txt")):
        for line in listing.read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                names[name] = None
    return list(names)


def installed(name: str) -> bool:
    """Whether dpkg has ``name`` installed (``ii``)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", name], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.startswith("ii")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what is missing")
    arguments = parser.parse_args()
    if shutil.which("dpkg-query") is None:  # not a Debian system: the plugins' READMEs say what their tests need
        print(f"not a Debian system: install by hand what the tests need ({' '.join(wanted())})", file=sys.stderr)
        return 0
    missing = [name for name in wanted() if not installed(name)]
    if not missing:
        return 0
    if arguments.check:
        print("missing Debian packages: " + " ".join(missing))
        return 1
    if os.geteuid() != 0:
        print(f"the tests need these Debian packages: {' '.join(missing)}; install them as root", file=sys.stderr)
        return 1
    print(f"installing Debian packages: {' '.join(missing)}", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        if subprocess.run(command, env=environment).returncode != 0:
            print(f"`{' '.join(command)}` failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
