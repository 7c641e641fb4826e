"""The plugin-facing API (taskloom.extend): one module, every name resolvable, typed for checkers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import taskloom.extend as extend

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(extend.__all__))
def test_every_exported_name_resolves(name):
    assert getattr(extend, name) is not None


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="taskloom.extend' has no attribute 'Nope'"):
        extend.Nope  # noqa: B018


def test_type_checkers_see_every_exported_name():
    # The TYPE_CHECKING block re-exports exactly the table's names, so mypy and pyright know their types.
    tree = ast.parse((ROOT / "kernel" / "taskloom" / "extend.py").read_text())
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for statement in node.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
    }
    assert checked == set(extend.__all__) - {"API_VERSION"}


def test_the_api_version_is_the_one_the_plugin_manager_checks():
    from taskloom.plugins import PLUGIN_API

    assert extend.API_VERSION == PLUGIN_API
    major, minor = (int(part) for part in PLUGIN_API.split("."))
    assert major >= 1 and minor >= 0


def test_models_carries_every_contract_module(tmp_path):
    from tests.kernel.distributions import run_python

    found = run_python(
        """
        import json
        from taskloom.extend import models
        print(json.dumps([models.literals.Literal.__name__, models.dynamic_job.DynamicJobSpec.__name__,
                          models.security.Secret.__name__, models.converter.to_json.__name__]))
        """
    )
    assert found == ["Literal", "DynamicJobSpec", "Secret", "to_json"]


def test_type_checkers_see_every_kernel_name_of_taskloom():
    import taskloom

    tree = ast.parse((ROOT / "kernel" / "taskloom" / "__init__.py").read_text())
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for statement in node.body
        if isinstance(statement, ast.ImportFrom) and statement.module != "typing"
        for alias in statement.names
    }
    assert checked == set(taskloom._KERNEL_NAMES)
    for name in checked:  # and each comes from the module the runtime table names
        module = next(
            statement.module
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for statement in node.body
            if isinstance(statement, ast.ImportFrom) and any(alias.name == name for alias in statement.names)
        )
        assert module == taskloom._KERNEL_NAMES[name], name
