"""The kernel's type dispatch, with toy transformers registered by the test (no standard plugin)."""

from __future__ import annotations

import dataclasses
import enum
import typing

import pytest

from taskloom.core.type_engine import SimpleTransformer, TypeEngine, TypeTransformer, type_name
from taskloom.exceptions.system import PluginWarning
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.hookspecs import hookimpl
from taskloom.models.literals import Literal, LiteralCollection, Primitive, Scalar
from taskloom.models.types import LiteralType, SimpleType

INTEGER = LiteralType(simple=SimpleType.INTEGER)


def int_transformer(name="int"):
    return SimpleTransformer(
        name,
        int,
        INTEGER,
        lambda value: Literal(scalar=Scalar(primitive=Primitive(integer=value))),
        lambda literal: literal.scalar.primitive.integer,
    )


class ListTransformer(TypeTransformer[list]):
    def __init__(self):
        super().__init__("list", list)

    def get_literal_type(self, t):
        (item,) = typing.get_args(t)
        return LiteralType(collection_type=TypeEngine.to_literal_type(item))

    def to_literal(self, ctx, python_val, python_type, expected):
        self.assert_type(python_type, python_val)
        (item,) = typing.get_args(python_type)
        return Literal(collection=LiteralCollection([TypeEngine.to_literal(ctx, v, item) for v in python_val]))

    def to_python_value(self, ctx, lv, expected_python_type):
        (item,) = typing.get_args(expected_python_type)
        return [TypeEngine.to_python_value(ctx, v, item) for v in lv.collection.literals]


class Claimer(TypeTransformer[object]):
    """Claims dataclasses, as a structural transformer would."""

    def __init__(self):
        super().__init__("claimer", object)

    def handles(self, t):
        return dataclasses.is_dataclass(t)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRUCT)


class EnumByBase(TypeTransformer[enum.Enum]):
    def __init__(self):
        super().__init__("enum", enum.Enum)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRING)


class Toys:
    def __init__(self, *transformers):
        self.transformers = list(transformers)

    @hookimpl
    def taskloom_type_transformers(self):
        return self.transformers


@pytest.fixture
def toys(bare_plugins):
    bare_plugins.register(Toys(int_transformer(), ListTransformer(), Claimer(), EnumByBase()), name="toys")
    return bare_plugins


def test_exact_type_is_found(toys):
    assert TypeEngine.get_transformer(int).name == "int"


def test_generic_alias_finds_the_transformer_of_its_origin(toys):
    assert TypeEngine.get_transformer(list[int]).name == "list"
    assert TypeEngine.to_literal_type(list[list[int]]) == LiteralType(
        collection_type=LiteralType(collection_type=INTEGER)
    )


def test_annotated_is_looked_up_as_its_type(toys):
    assert TypeEngine.get_transformer(typing.Annotated[int, "meta"]).name == "int"
    assert TypeEngine.to_literal(None, 4, typing.Annotated[int, "meta"]).scalar.primitive.integer == 4


def test_structural_claims_come_before_base_classes(toys):
    @dataclasses.dataclass
    class Point:
        x: int

    assert TypeEngine.get_transformer(Point).name == "claimer"


def test_subclasses_find_the_transformer_of_their_nearest_base(toys):
    class Colour(enum.Enum):
        RED = "red"

    assert TypeEngine.get_transformer(Colour).name == "enum"


def test_unsupported_type_is_an_error_naming_the_type_and_the_opt_in(toys):
    class Opaque:
        pass

    with pytest.raises(UnsupportedTypeError, match=r"no type transformer supports .*Opaque.*allow_pickle\(.*Opaque\)"):
        TypeEngine.get_transformer(Opaque)


def test_typing_any_is_unsupported(toys):
    with pytest.raises(UnsupportedTypeError, match="typing.Any is not supported"):
        TypeEngine.get_transformer(typing.Any)


def test_an_unsupported_item_type_fails_the_whole_literal_type(toys):
    class Opaque:
        pass

    with pytest.raises(UnsupportedTypeError, match="Opaque"):
        TypeEngine.to_literal_type(list[Opaque])


def test_wrong_value_names_expected_and_got(toys):
    with pytest.raises(TypeTransformerFailedError, match=r"^expected int, got str 'abc'$"):
        TypeEngine.to_literal(None, "abc", int)


def test_type_transformer_failed_error_is_a_type_error(toys):
    with pytest.raises(TypeError):
        TypeEngine.to_literal(None, "abc", int)


def test_literal_map_errors_name_entity_direction_and_variable(toys):
    with pytest.raises(
        TypeTransformerFailedError, match=r"^task 'clean': input 'rows' expects list\[int\], got str 'abc'$"
    ):
        TypeEngine.dict_to_literal_map(None, {"rows": "abc"}, {"rows": list[int]}, entity="task 'clean'")


def test_nested_errors_keep_their_detail(toys):
    with pytest.raises(
        TypeTransformerFailedError,
        match=r"input 'rows' expects list\[int\], got list \[1, 'x'\] \(expected int, got str 'x'\)",
    ):
        TypeEngine.dict_to_literal_map(None, {"rows": [1, "x"]}, {"rows": list[int]})


def test_literal_map_round_trips_and_names_missing_variables(toys):
    literal_map = TypeEngine.dict_to_literal_map(None, {"a": 1, "b": [2, 3]}, {"a": int, "b": list[int]})
    assert TypeEngine.literal_map_to_kwargs(None, literal_map, {"a": int, "b": list[int]}) == {"a": 1, "b": [2, 3]}
    with pytest.raises(TypeTransformerFailedError, match="output 'c' is missing"):
        TypeEngine.literal_map_to_kwargs(None, literal_map, {"c": int}, direction="output")


def test_a_later_plugin_replaces_a_transformer_for_the_same_type(toys):
    toys.register(Toys(int_transformer("better-int")), name="third-party")
    assert TypeEngine.get_transformer(int).name == "better-int"
    toys.unregister("third-party")
    assert TypeEngine.get_transformer(int).name == "int"


def test_register_wins_over_plugins_and_can_be_undone(toys):
    mine = int_transformer("registered-int")
    TypeEngine.register(mine)
    try:
        assert TypeEngine.get_transformer(int).name == "registered-int"
    finally:
        TypeEngine.unregister(mine)
    assert TypeEngine.get_transformer(int).name == "int"


def test_a_plugin_contributing_something_else_than_transformers_is_named_and_skipped(bare_plugins):
    bare_plugins.register(Toys(int_transformer("int")), name="good")
    bare_plugins.register(Toys("not a transformer"), name="sloppy")
    with pytest.warns(PluginWarning, match="'sloppy' skipped .*contributed 'not a transformer', which is not a Type"):
        assert TypeEngine.get_transformer(int).name == "int"
    assert bare_plugins.get_record("sloppy").state == "failed"


def test_opted_in_types_use_the_pickle_transformer(toys):
    from taskloom.types.pickle import FlytePickle, allow_pickle

    class PickleMarker(TypeTransformer[FlytePickle]):
        def __init__(self):
            super().__init__("pickle", FlytePickle)

    toys.register(Toys(PickleMarker()), name="pickler")

    class Model:
        pass

    class SubModel(Model):
        pass

    with pytest.raises(UnsupportedTypeError):
        TypeEngine.get_transformer(Model)
    allow_pickle(Model)
    try:
        assert TypeEngine.get_transformer(SubModel).name == "pickle"
    finally:
        TypeEngine._pickle_allowed.discard(Model)


def test_guess_python_type_asks_every_transformer(toys):
    assert TypeEngine.guess_python_type(INTEGER) is int
    with pytest.raises(ValueError, match="no transformer can guess"):
        TypeEngine.guess_python_type(LiteralType(simple=SimpleType.DURATION))


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (int, "int"),
        (list[int], "list[int]"),
        (dict[str, list[int]], "dict[str, list[int]]"),
        (typing.Optional[int], "int | None"),
        (int | str, "int | str"),
        (tuple[int, ...], "tuple[int, ...]"),
        (typing.Annotated[int, "x"], "int"),
        (None, "None"),
    ],
)
def test_type_names_are_readable(annotation, expected):
    assert type_name(annotation) == expected
