#!/usr/bin/env python3
"""Generate docs/hooks.md from the docstrings in kernel/taskloom/hookspecs.py.

    python3 dev/hooks_reference.py          # rewrite docs/hooks.md
    python3 dev/hooks_reference.py --check  # exit 1 if docs/hooks.md is out of date (a test runs this)

Reads the module's source with ``ast``, so it needs neither pluggy nor an installed kernel.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "kernel" / "taskloom" / "hookspecs.py"
TARGET = ROOT / "docs" / "hooks.md"
# A Sphinx cross-reference role (:class:`~taskloom.x.Y`), as the kernel's docstrings write them.
ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|const|py:\w+):`(?P<target>[^`]+)`")


def plain_roles(docstring: str) -> str:
    """``docstring`` for a Markdown page: each Sphinx role becomes a code span of what Sphinx shows.

    ``~`` keeps the last part of the name, an explicit title (``text <target>``) the text. Links are
    not made: most targets are kernel internals with no page of their own. The docs site applies the
    same rule to the docstrings mkdocstrings renders (``dev/docs_rst_roles.py``).
    """

    def shown(match: re.Match[str]) -> str:
        target = match["target"]
        titled = re.fullmatch(r"(?P<title>.+?)\s*<[^>]+>", target)
        if titled:
            return f"`{titled['title']}`"
        if target.startswith("~"):
            return f"`{target[1:].rsplit('.', 1)[-1]}`"
        return f"`{target}`"

    return ROLE.sub(shown, docstring)


def render() -> str:
    tree = ast.parse(SOURCE.read_text())
    lines = [
        "# Hook reference",
        "",
        "Generated from `kernel/taskloom/hookspecs.py` by `python3 dev/hooks_reference.py`; edit the docstrings",
        "there, not this file. A plugin implements a hook by defining a function of the same name marked with",
        "`taskloom.extend.hookimpl` in the module its `taskloom.plugins` entry point names.",
        "",
        plain_roles(ast.get_docstring(tree) or ""),
        "",
        "## A hooks module",
        "",
        "Each hook below is shown as a plugin's implementation of it, with every argument the",
        "specification names, in a module that starts like this one (the annotations name kernel types a",
        "real module imports from `taskloom.extend`; postponed, they need no import here):",
        "",
        "```python",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "from taskloom.extend import hookimpl",
        "```",
        "",
    ]
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        firstresult = any(
            isinstance(decorator, ast.Call)
            and any(
                keyword.arg == "firstresult" and getattr(keyword.value, "value", False)
                for keyword in decorator.keywords
            )
            for decorator in node.decorator_list
        )
        parameters = [
            argument.arg + (f": {ast.unparse(argument.annotation)}" if argument.annotation else "")
            for argument in node.args.args
        ]
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        signature = f"def {node.name}({', '.join(parameters)}){returns}: ..."
        if len(signature) > 120:  # as ruff formats it (the docs are checked by `ruff format`): one per line
            signature = "\n".join([f"def {node.name}(", *(f"    {p}," for p in parameters), f"){returns}: ..."])
        lines += [
            f"## `{node.name}`",
            "",
            "```python",
            "@hookimpl",
            signature,
            "```",
            "",
            f"*{'firstresult: the first non-None answer wins' if firstresult else 'every implementation contributes'}*",
            "",
            plain_roles(ast.get_docstring(node) or ""),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python3 dev/hooks_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
