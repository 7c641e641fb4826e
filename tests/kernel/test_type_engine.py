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


class Grid:
    """A value whose repr takes several lines, as a table's does."""

    def __repr__(self):
        return "   a\n0  1\n1  2"


def test_a_failed_conversion_is_one_line_naming_the_value_once_and_the_cause(bare_plugins):
    def refuse(value):
        raise ValueError("the storage said no")

    grids = SimpleTransformer("grid", Grid, INTEGER, refuse, lambda literal: Grid())
    bare_plugins.register(Toys(grids), name="grids")
    with pytest.raises(TypeTransformerFailedError) as raised:
        TypeEngine.dict_to_literal_map(None, {"o0": Grid()}, {"o0": Grid}, direction="output")
    assert str(raised.value) == "output 'o0' expects Grid, got Grid a 0 1 1 2 (ValueError: the storage said no)"


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


# --- text: TypeEngine.from_text and the defaults of TypeTransformer.from_text/from_json ----------


class Money:
    def __init__(self, cents, currency):
        self.cents, self.currency = cents, currency

    def __eq__(self, other):
        return (self.cents, self.currency) == (other.cents, other.currency)


class MoneyFromText(TypeTransformer[Money]):
    """Parses "12.50 EUR": implements from_text only."""

    def __init__(self):
        super().__init__("money", Money)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRING)

    def from_text(self, text, python_type):
        amount, currency = text.split()  # a ValueError for text of another shape
        return Money(round(float(amount) * 100), currency)


class PairFromJson(TypeTransformer[tuple]):
    """Reads a JSON array of two ints: implements from_json only."""

    def __init__(self):
        super().__init__("pair", tuple)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRUCT)

    def from_json(self, data, python_type):
        first, second = data
        return (first, second)


class JsonList(ListTransformer):
    def from_json(self, data, python_type):
        (item,) = typing.get_args(python_type)
        return [TypeEngine.from_json(value, item) for value in data]


@pytest.fixture
def texts(bare_plugins):
    transformers = Toys(int_transformer(), JsonList(), MoneyFromText(), PairFromJson(), Claimer())
    bare_plugins.register(transformers, name="texts")
    return bare_plugins


def test_from_text_asks_the_transformer_of_the_type_annotated_or_not(texts):
    assert TypeEngine.from_text("12.50 EUR", Money) == Money(1250, "EUR")
    assert TypeEngine.from_text("1 USD", typing.Annotated[Money, "price"]) == Money(100, "USD")


def test_a_transformer_with_from_text_reads_json_strings_inside_a_container(texts):
    assert TypeEngine.from_text('["1 EUR", "2.5 USD"]', list[Money]) == [Money(100, "EUR"), Money(250, "USD")]
    with pytest.raises(TypeTransformerFailedError, match=r"^expected a JSON string for Money, got int 12$"):
        TypeEngine.from_json(12, Money)


def test_a_transformer_with_from_json_reads_the_text_as_json(texts):
    assert TypeEngine.from_text("[1, 2]", tuple) == (1, 2)
    with pytest.raises(TypeTransformerFailedError, match="Expecting value"):
        TypeEngine.from_text("one two", tuple)


def test_a_transformer_without_either_refuses_text_naming_the_type_and_itself(texts):
    @dataclasses.dataclass
    class Point:
        x: int

    for parse, given in ((TypeEngine.from_text, '{"x": 1}'), (TypeEngine.from_json, {"x": 1})):
        with pytest.raises(
            UnsupportedTypeError, match=r"Point cannot be given as text: its transformer 'claimer' parses none"
        ):
            parse(given, Point)


def test_errors_of_a_transformer_become_type_transformer_failed_errors_with_their_words(texts):
    with pytest.raises(TypeTransformerFailedError) as raised:
        TypeEngine.from_text("12.50", Money)
    assert str(raised.value) == "not enough values to unpack (expected 2, got 1)"
    assert isinstance(raised.value.__cause__, ValueError)


def test_text_nested_deeper_than_python_recurses_is_an_error_caused_by_recursion(texts):
    with pytest.raises(TypeTransformerFailedError, match="nested too deeply to parse") as raised:
        TypeEngine.from_text("[" * 200_000 + "]" * 200_000, tuple)
    assert isinstance(raised.value.__cause__, RecursionError)


def test_an_unsupported_type_has_no_text_and_no_help(texts):
    with pytest.raises(UnsupportedTypeError, match="no type transformer supports str"):
        TypeEngine.from_text("x", str)
    assert TypeEngine.text_help(str) is None
    assert TypeEngine.text_help(Money) is None  # the default: nothing to explain
