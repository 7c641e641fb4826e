"""A griffe extension for the docs site: reST cross-reference roles in docstrings become code spans.

The kernel's docstrings name other objects the way Sphinx reads them (``:class:`~taskloom.x.Y```,
``:meth:`to_literal```), and mkdocstrings renders docstrings as Markdown, where such a role would be
shown as written. mkdocs.yml loads this file (``extensions`` of the Python handler); it rewrites
each role into a code span of the name a reader would see in Sphinx (``~`` keeps the last part, an
explicit title ``text <target>`` keeps the text). Links are not made: most targets are kernel
internals with no page of their own, and an unresolved link is a warning, which fails the build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|const|py:\w+):`(?P<target>[^`]+)`")


def plain(docstring: str) -> str:
    """``docstring`` with every cross-reference role replaced by a code span of what Sphinx would show."""

    def shown(match: re.Match[str]) -> str:
        target = match["target"]
        titled = re.fullmatch(r"(?P<title>.+?)\s*<[^>]+>", target)
        if titled:
            return f"`{titled['title']}`"
        if target.startswith("~"):
            return f"`{target[1:].rsplit('.', 1)[-1]}`"
        return f"`{target}`"

    return ROLE.sub(shown, docstring)


class RstRoles(griffe.Extension):
    """Rewrite the roles of every docstring griffe loads (see the module's docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Called by griffe for each object it visits, before mkdocstrings renders any."""
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
