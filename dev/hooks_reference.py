#!/usr/bin/env python3
"""Generate docs/hooks.md from the docstrings in kernel/taskloom/hookspecs.py.

    python3 dev/hooks_reference.py          # rewrite docs/hooks.md
    python3 dev/hooks_reference.py --check  # exit 1 if docs/hooks.md is out of date (a test runs this)

Reads the module's source with ``ast``, so it needs neither pluggy nor an installed kernel.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "kernel" / "taskloom" / "hookspecs.py"
TARGET = ROOT / "docs" / "hooks.md"


def render() -> str:
    tree = ast.parse(SOURCE.read_text())
    lines = [
        "# Hook reference",
        "",
        "Generated from `kernel/taskloom/hookspecs.py` by `python3 dev/hooks_reference.py`; edit the docstrings",
        "there, not this file. A plugin implements a hook by defining a function of the same name marked with",
        "`taskloom.extend.hookimpl` in the module its `taskloom.plugins` entry point names.",
        "",
        ast.get_docstring(tree) or "",
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
        arguments = ", ".join(
            argument.arg + (f": {ast.unparse(argument.annotation)}" if argument.annotation else "")
            for argument in node.args.args
        )
        returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
        lines += [
            f"## `{node.name}`",
            "",
            "```python",
            "@hookimpl",
            f"def {node.name}({arguments}){returns}: ...",
            "```",
            "",
            f"*{'firstresult: the first non-None answer wins' if firstresult else 'every implementation contributes'}*",
            "",
            ast.get_docstring(node) or "",
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
