#!/usr/bin/env python3
"""Install the Debian packages the tests need and the machine lacks (a PostgreSQL server, a container runtime).

    python3 dev/system_packages.py [--check]

Each distribution that needs system programs for its tests lists their Debian packages in
``plugins/<name>/debian-packages.txt`` (one a line, ``#`` comments), so that a plugin says what it needs
beside its code and nobody edits a shared list. PyPI cannot bring these (a database server, podman), and
a fresh machine has none of them: ``dev/install.py`` runs this for the plugins it installs with the test tools
(so the README's test command works on a fresh machine). Packages already installed are left as
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


def wanted(plugins: list[Path] | None = None) -> list[str]:
    """Every package the distributions (the directories ``plugins``; all when None) list, in order, each once."""
    names: dict[str, None] = {}
    directories = sorted((ROOT / "plugins").iterdir()) if plugins is None else plugins
    for listing in [directory / "debian-packages.txt" for directory in directories]:
        if not listing.is_file():
            continue
        for line in listing.read_text().splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                names[name] = None
    return list(names)


def installed(name: str) -> bool:
    """Whether dpkg has ``name`` installed (``ii``)."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", name], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.startswith("ii")


def ensure(plugins: list[Path] | None = None, *, check: bool = False) -> int:
    """Install the Debian packages ``plugins`` list (all plugins when None) that are missing; 0 when none is
    missing in the end. ``check``: only say what is missing."""
    if shutil.which("dpkg-query") is None:  # not a Debian system: the plugins' READMEs say what their tests need
        listed = wanted(plugins)
        if listed:
            print(f"not a Debian system: install by hand what the tests need ({' '.join(listed)})", file=sys.stderr)
        return 0
    missing = [name for name in wanted(plugins) if not installed(name)]
    if not missing:
        return 0
    if check:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what is missing")
    arguments = parser.parse_args()
    return ensure(check=arguments.check)


if __name__ == "__main__":
    sys.exit(main())
