"""The parts of taskloom-local talk through public names: no object reads another's private attributes."""

from __future__ import annotations

import ast
from pathlib import Path

import taskloom_local

PACKAGE = Path(taskloom_local.__file__).parent
# Private names of the standard library that are the documented way to do something, or the one way
# around a defect of CPython's (named where they are used).
ALLOWED = {
    ("os", "_exit"),
    ("process", "_popen"),  # processes._one_reader_of_the_exit_status: CPython gh-130895
}


def _parse(source: str) -> ast.Module:
    """``ast.parse(source)``, once more if CPython 3.11 reports its AST recursion counter out of step.

    That counter is shared by every thread before 3.12 (CPython issue gh-106905): a thread that an
    earlier test of this worker left behind (Dask's, for one, reads its configuration with
    ``ast.literal_eval``) can make a parse here fail with ``SystemError: AST constructor recursion depth
    mismatch``, which says nothing about the source.
    """
    try:
        return ast.parse(source)
    except SystemError as error:
        if "recursion depth mismatch" not in str(error):
            raise
        return ast.parse(source)


def private_reads_of_other_objects(source: str) -> list[tuple[int, str]]:
    """``(line, expression)`` of every ``x._name`` whose ``x`` is not ``self`` or ``cls``."""
    found = []
    for node in ast.walk(_parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and (owner.id in ("self", "cls") or (owner.id, name) in ALLOWED):
            continue
        found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_check_finds_a_read_of_another_objects_private_attribute():
    source = "class Runner:\n    def limit(self):\n        return self._executor._max_workers\n"
    assert private_reads_of_other_objects(source) == [(3, "self._executor._max_workers")]


def test_no_module_of_the_local_executor_reads_another_objects_private_attributes():
    reads = {
        path.name: found
        for path in sorted(PACKAGE.glob("*.py"))
        if (found := private_reads_of_other_objects(path.read_text()))
    }
    assert reads == {}
