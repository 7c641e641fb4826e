"""Every hook is documented, prefixed, and the generated reference is up to date."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from taskloom import hookspecs

ROOT = Path(__file__).resolve().parents[2]


def hook_functions():
    return [
        value for name, value in vars(hookspecs).items() if inspect.isfunction(value) and name.startswith("taskloom_")
    ]


def test_every_hook_has_a_docstring_and_the_taskloom_prefix():
    hooks = hook_functions()
    assert hooks
    for hook in hooks:
        assert hook.__doc__ and len(hook.__doc__.strip()) > 80, hook.__name__


def test_every_function_in_hookspecs_is_a_hook_specification():
    assert all(hasattr(hook, "taskloom_spec") for hook in hook_functions())


def test_the_hook_reference_in_docs_is_generated_from_the_docstrings():
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev" / "hooks_reference.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
