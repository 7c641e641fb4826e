"""The standard plugins behave like any other plugin: listed, replaceable, blockable."""

from __future__ import annotations

import json

import pytest

from taskloom.core.type_engine import SimpleTransformer, TypeEngine
from taskloom.exceptions.user import UnsupportedTypeError
from taskloom.hookspecs import hookimpl
from taskloom.models.literals import Literal, Primitive, Scalar
from taskloom.models.types import LiteralType, SimpleType
from tests.kernel.distributions import make_distribution, run_loom, run_python


class DoublingInts:
    """A third-party plugin whose `int` transformer stores every value doubled."""

    @hookimpl
    def taskloom_type_transformers(self):
        return [
            SimpleTransformer(
                "doubling-int",
                int,
                LiteralType(simple=SimpleType.INTEGER),
                lambda value: Literal(scalar=Scalar(primitive=Primitive(integer=value * 2))),
                lambda literal: literal.scalar.primitive.integer // 2,
            )
        ]


def test_a_third_party_transformer_for_int_replaces_the_standard_one(taskloom_plugins):
    assert TypeEngine.get_transformer(int).name != "doubling-int"
    taskloom_plugins.register(DoublingInts(), name="doubling")
    assert TypeEngine.to_literal(None, 21, int).scalar.primitive.integer == 42
    # the standard transformers still serve everything else, and use the winner for nested ints
    assert TypeEngine.to_literal(None, [1], list[int]).collection.literals[0].scalar.primitive.integer == 2


def test_an_installed_third_party_plugin_wins_whatever_the_load_order(tmp_path):
    root = make_distribution(
        tmp_path,
        "demo-ints",
        files={
            "demo_ints/__init__.py": "",
            "demo_ints/hooks.py": """
                from taskloom.core.type_engine import SimpleTransformer
                from taskloom.hookspecs import hookimpl
                from taskloom.models.literals import Literal, Primitive, Scalar
                from taskloom.models.types import LiteralType, SimpleType

                @hookimpl
                def taskloom_type_transformers():
                    return [SimpleTransformer("demo-int", int, LiteralType(simple=SimpleType.INTEGER),
                        lambda v: Literal(scalar=Scalar(primitive=Primitive(integer=v))),
                        lambda lv: lv.scalar.primitive.integer)]
            """,
        },
        entry_points={"taskloom.plugins": {"ints": "demo_ints.hooks"}},
    )
    result = run_python(
        """
        import json
        from taskloom.plugins import get_plugin_manager
        from taskloom import TypeEngine
        manager = get_plugin_manager()
        manager.load("ints")            # the third party is imported first...
        manager.load("types")           # ...and the standard plugin after it
        print(json.dumps([TypeEngine.get_transformer(int).name, TypeEngine.get_transformer(str).name]))
        """,
        path=root,
    )
    assert result[0] == "demo-int" and result[1] != "demo-int"


def test_disabling_the_standard_types_plugin_leaves_a_kernel_that_explains_what_is_missing():
    result = run_python(
        """
        import json
        from taskloom import TypeEngine
        from taskloom.exceptions.user import UnsupportedTypeError
        try:
            TypeEngine.get_transformer(int)
        except UnsupportedTypeError as error:
            print(json.dumps(str(error)))
        """,
        env={"TASKLOOM_DISABLE_PLUGINS": "types"},
    )
    assert result.startswith("no type transformer supports int")


def test_loom_plugins_lists_the_standard_plugin_with_its_hooks():
    done = run_loom(["plugins", "--json"])
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["types"]["distribution"] == "taskloom-types"
    assert rows["types"]["standard"] is True
    assert rows["types"]["state"] == "loaded"
    assert rows["types"]["hooks"] == ["taskloom_type_transformers"]


def test_the_fixture_can_disable_a_standard_plugin(taskloom_plugins):
    taskloom_plugins.disable("types")
    with pytest.raises(UnsupportedTypeError):
        TypeEngine.get_transformer(str)
