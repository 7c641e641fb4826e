#!/usr/bin/env python3
"""Build the sdist and wheel of every distribution of this tree, then check them with twine.

    python3 dev/build.py                      # into ./dist, each build in an isolated environment
    python3 dev/build.py --outdir DIR --no-isolation

The distributions are the ones ``dev/install.py`` installs (the kernel, every plugin, the ``taskloom``
distribution at the root). ``python -m build`` makes the sdist, then the wheel from that sdist, so a file
missing from an sdist fails here. ``--no-isolation`` builds with the running interpreter's setuptools
(the tests and the ``build`` session use it: an isolated build installs setuptools afresh, ~20 s a
distribution). Exits non-zero when a build fails or twine reports a problem.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from install import ROOT, distributions


def build(outdir: Path, *, isolation: bool = True, python: str = sys.executable) -> list[Path]:
    """Build every distribution into ``outdir`` and return the files made; raise CalledProcessError on failure."""
    outdir.mkdir(parents=True, exist_ok=True)

    def build_one(name: str, path: Path) -> subprocess.CompletedProcess[str]:
        command = [python, "-m", "build", "--outdir", str(outdir), str(path)]
        if not isolation:
            command.insert(3, "--no-isolation")
        print(f"building {name} ({path.relative_to(ROOT) if path != ROOT else '.'})", flush=True)
        return subprocess.run(command, capture_output=True, text=True)

    # The builds are separate processes that share nothing but the output directory: one per core at a time.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as builders:
        builds = list(builders.map(lambda item: build_one(*item), distributions().items()))
    for done in builds:
        if done.returncode != 0:
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            done.check_returncode()
    made = sorted(outdir.glob("*.whl")) + sorted(outdir.glob("*.tar.gz"))
    subprocess.run([python, "-m", "twine", "check", "--strict", *map(str, made)], check=True)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outdir", default=str(ROOT / "dist"), help="where the sdists and wheels go")
    parser.add_argument("--no-isolation", action="store_true", help="build with this interpreter's setuptools")
    arguments = parser.parse_args()
    try:
        build(Path(arguments.outdir), isolation=not arguments.no_isolation)
    except subprocess.CalledProcessError as error:
        return error.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
