"""A griffe extension for the docs site: Sphinx cross-reference roles in docstrings become code spans.

The kernel's docstrings name other objects the way Sphinx reads them (``:class:`~taskloom.x.Y```,
``:meth:`to_literal```), and mkdocstrings renders docstrings as Markdown, where such a role would be
shown as written. mkdocs.yml loads this file (``extensions`` of the Python handler); it rewrites
each docstring with the rule that also writes ``docs/hooks.md``: ``plain_roles`` of
``dev/hooks_reference.py``, loaded from its file since ``dev/`` is no package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import griffe

_spec = importlib.util.spec_from_file_location("hooks_reference", Path(__file__).with_name("hooks_reference.py"))
assert _spec is not None and _spec.loader is not None
_hooks_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hooks_reference)
plain_roles = _hooks_reference.plain_roles


class RstRoles(griffe.Extension):
    """Rewrite the roles of every docstring griffe loads (see the module's docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Called by griffe for each object it visits, before mkdocstrings renders any."""
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(obj.docstring.value)
