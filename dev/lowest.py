#!/usr/bin/env python3
"""Write pip constraints that pin every declared dependency floor of some distributions to that floor.

    python3 dev/lowest.py kernel,types,local > lowest.txt
    PIP_CONSTRAINT=lowest.txt python3 dev/install.py --python PY --only kernel,types,local --no-test-tools

The ``lowest`` factor of the tox and nox sessions installs with these constraints, so the tests run
against the oldest versions each ``pyproject.toml`` claims to support (``attrs>=23.1`` gives
``attrs==23.1``). Only the runtime dependencies (``[project] dependencies``) are pinned: the test
extras and tools stay at their latest, and dependencies of dependencies are whatever pip resolves.
The distributions of this tree (``taskloom-*``) are installed from source and never pinned. A
floor that pip cannot install, or that the tests fail with, is a wrong floor: raise it in the
pyproject.
"""

from __future__ import annotations

import re
import sys
import tomllib

from install import distributions

# A requirement as pyprojects here write them: a name, optional extras, then specifiers; markers after ";".
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)")


def floors(names: list[str]) -> dict[str, str]:
    """Map each dependency of the named distributions that declares a ``>=`` floor to that floor."""
    available = distributions()
    found: dict[str, str] = {}
    for name in names:
        if name not in available:
            raise SystemExit(f"dev/lowest.py: unknown distribution {name!r}; known: {sorted(available)}")
        with open(available[name] / "pyproject.toml", "rb") as file:
            project = tomllib.load(file)["project"]
        for requirement in project.get("dependencies", []):
            match = _REQUIREMENT.match(requirement)
            if match is None:
                raise SystemExit(f"dev/lowest.py: {name}: cannot read the requirement {requirement!r}")
            dependency, _, specifiers = match.groups()
            if dependency.lower().startswith("taskloom"):
                continue
            floor = next(
                (part.strip()[2:].strip() for part in specifiers.split(",") if part.strip().startswith(">=")), None
            )
            if floor is None:
                continue
            # Two distributions declaring floors for one dependency: the highest is what both can run on.
            previous = found.get(dependency.lower())
            if previous is None or _version_key(floor) > _version_key(previous):
                found[dependency.lower()] = floor
    return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    names = ["kernel"] + [name.strip() for name in sys.argv[1].split(",") if name.strip() != "kernel"]
    for dependency, floor in sorted(floors(names).items()):
        print(f"{dependency}=={floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
