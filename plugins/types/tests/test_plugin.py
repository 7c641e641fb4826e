"""The plugin as the kernel sees it: found through its entry point, cheap to import, complete."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import UnsupportedTypeError
from taskloom.models.types import LiteralType, SimpleType

PROBE = """
import json, sys
import taskloom_types.hooks as hooks
after_import = sorted(name for name in ("cattrs", "msgpack") if name in sys.modules)
transformers = hooks.taskloom_type_transformers()
after_hook = sorted(name for name in ("cattrs", "msgpack") if name in sys.modules)
print(json.dumps({"after_import": after_import, "after_hook": after_hook, "count": len(transformers)}))
"""


def test_hooks_module_and_hook_import_neither_cattrs_nor_msgpack():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout)
    assert report["after_import"] == [] and report["after_hook"] == []
    assert report["count"] > 10


def test_installed_plugin_serves_the_engine(taskloom_plugins):
    record = taskloom_plugins.get_record("types")
    assert record is not None and record.module == "taskloom_types.hooks"
    assert TypeEngine.get_transformer(int).name == "int"
    assert record.state == "loaded"
    assert taskloom_plugins.failures() == []


def test_disabling_the_plugin_leaves_types_unsupported(taskloom_plugins):
    taskloom_plugins.disable("types")
    with pytest.raises(UnsupportedTypeError, match="no type transformer supports int"):
        TypeEngine.to_literal_type(int)


def test_guessed_types_of_simple_literal_types():
    expected = {
        SimpleType.INTEGER: int,
        SimpleType.FLOAT: float,
        SimpleType.STRING: str,
        SimpleType.BOOLEAN: bool,
        SimpleType.DATETIME: dt.datetime,
        SimpleType.DURATION: dt.timedelta,
        SimpleType.NONE: type(None),
        SimpleType.BINARY: bytes,
        SimpleType.STRUCT: dict,
    }
    for simple, python_type in expected.items():
        assert TypeEngine.guess_python_type(LiteralType(simple=simple)) is python_type
