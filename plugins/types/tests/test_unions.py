"""Optional, Union and ``A | B``: tagged variants, chosen deterministically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import as_utc, floats, int64s, naive_datetimes, properties, round_trip, texts
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.models.literals import Literal, Primitive, Scalar, Void
from taskloom.models.types import LiteralType, SimpleType, TypeStructure


@dataclasses.dataclass
class Cat:
    name: str
    lives: int = 9


@dataclasses.dataclass
class Dog:
    name: str
    lives: int = 1


@dataclasses.dataclass
class Kitten(Cat):
    pass


class Colour(enum.Enum):
    RED = "red"


def stored_variant(literal: Literal) -> LiteralType:
    return literal.scalar.union.type


@properties
@given(st.none() | int64s)
def test_optional_int_round_trips(value):
    assert round_trip(value, typing.Optional[int]) == value


@properties
@given(st.none() | int64s | texts | floats)
def test_pipe_union_round_trips(value):
    back = round_trip(value, int | str | float | None)
    assert back == value and type(back) is type(value)


@properties
@given(st.lists(st.none() | naive_datetimes, max_size=4))
def test_list_of_optional_datetimes_round_trips(value):
    back = round_trip(value, list[dt.datetime | None])
    assert back == [None if item is None else as_utc(item) for item in value]


@properties
@given(st.builds(Cat, texts, int64s) | st.builds(Dog, texts, int64s))
def test_two_distinct_dataclasses_in_one_union_come_back_as_themselves(value):
    back = round_trip(value, Cat | Dog)
    assert back == value and type(back) is type(value)


@properties
@given(st.lists(int64s, max_size=3) | st.dictionaries(texts, int64s, max_size=3))
def test_union_of_generics_round_trips(value):
    back = round_trip(value, list[int] | dict[str, int])
    assert back == value and type(back) is type(value)


@properties
@given(st.none() | int64s)
def test_annotated_optional_round_trips(value):
    assert round_trip(value, typing.Annotated[int | None, "meta"]) == value


def test_variants_carry_flytekits_tags():
    literal_type = TypeEngine.to_literal_type(int | list[str] | Cat | dt.datetime | dict[str, int] | Colour | None)
    tags = [variant.structure.tag for variant in literal_type.union_type.variants]
    assert tags == [
        "int",
        "Typed List",
        "Object-Dataclass-Transformer",
        "datetime",
        "Typed Dict",
        "DefaultEnumTransformer",
        "none",
    ]


def test_a_dataclass_variant_carries_the_tag_alone_as_in_flytekit():
    cat = TypeEngine.to_literal_type(Cat | None).union_type.variants[0]
    assert cat.structure.tag == "Object-Dataclass-Transformer"
    assert not cat.structure.dataclass_type
    assert cat.metadata == TypeEngine.to_literal_type(Cat).metadata  # the schema still tells the classes apart


@properties
@given(st.booleans())
def test_two_dataclasses_of_one_tag_read_back_as_their_own_classes(is_cat):
    value = Cat(name="felix") if is_cat else Dog(name="rex")
    for union in (Cat | Dog, Dog | Cat):
        back = round_trip(value, union)
        assert back == value and type(back) is type(value)


def test_a_union_value_is_stored_with_its_variant_type():
    literal = TypeEngine.to_literal(None, "x", int | str)
    assert literal.scalar.union.value == Literal(scalar=Scalar(primitive=Primitive(string_value="x")))
    assert stored_variant(literal) == LiteralType(simple=SimpleType.STRING, structure=TypeStructure(tag="str"))


def test_none_in_an_optional_is_the_none_variant():
    literal = TypeEngine.to_literal(None, None, int | None)
    assert literal.scalar.union.value == Literal(scalar=Scalar(none_type=Void()))
    assert stored_variant(literal).structure.tag == "none"


@pytest.mark.parametrize(
    ("union", "value", "simple"),
    [
        (int | float, 1, SimpleType.INTEGER),
        (int | float, 1.0, SimpleType.FLOAT),
        (float | int, 1, SimpleType.INTEGER),
        (float | int, 1.0, SimpleType.FLOAT),
        (int | bool, True, SimpleType.BOOLEAN),
        (bool | int, 0, SimpleType.INTEGER),
        (str | dt.date | dt.datetime, dt.datetime(2024, 1, 1), SimpleType.DATETIME),
    ],
)
def test_union_picks_exact_type_before_declaration_order(union, value, simple):
    literal = TypeEngine.to_literal(None, value, union)
    assert stored_variant(literal).simple is simple
    back = TypeEngine.to_python_value(None, literal, union)
    assert type(back) is type(value) or (type(value) is dt.datetime and back == as_utc(value))


def test_exact_date_variant_keeps_a_date_a_date():
    union = dt.datetime | dt.date
    literal = TypeEngine.to_literal(None, dt.date(2024, 1, 2), union)
    assert stored_variant(literal).structure.tag == "date"
    assert TypeEngine.to_python_value(None, literal, union) == dt.date(2024, 1, 2)


def test_union_falls_back_to_declaration_order():
    # An int is neither exactly float nor exactly str: float, declared first among those that take it, wins.
    literal = TypeEngine.to_literal(None, 3, str | float)
    assert stored_variant(literal).simple is SimpleType.FLOAT


def test_union_choice_does_not_depend_on_which_order_was_seen_first():
    # int | float and float | int compare equal in Python; caches must still keep their orders apart.
    assert stored_variant(TypeEngine.to_literal(None, 2, int | float)).structure.tag == "int"
    assert stored_variant(TypeEngine.to_literal(None, 2, float | int)).structure.tag == "int"
    assert TypeEngine.to_literal_type(float | int).union_type.variants[0].structure.tag == "float"
    assert TypeEngine.to_literal_type(int | float).union_type.variants[0].structure.tag == "int"


def test_bool_is_not_taken_as_int():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected int \| float, got bool True$"):
        TypeEngine.to_literal(None, True, int | float)


def test_union_error_is_the_error_of_the_variant_of_the_values_type():
    with pytest.raises(TypeTransformerFailedError, match=r"^item \[1\]: expected int, got str 'x'$"):
        TypeEngine.to_literal(None, [1, "x"], list[int] | None)


def test_union_error_without_an_exact_variant_lists_the_details_that_say_more():
    with pytest.raises(TypeTransformerFailedError) as caught:
        TypeEngine.to_literal(None, Kitten("tom", lives="many"), Cat | None)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "expected Cat | None, got Kitten Kitten(name='tom', lives='many') "
        "(as Cat: field 'lives': expected int, got str 'many')"
    )


def test_a_plain_void_reads_as_none_for_an_optional():
    assert TypeEngine.to_python_value(None, Literal(scalar=Scalar(none_type=Void())), int | None) is None


def test_a_plain_literal_reads_as_the_first_variant_that_takes_it():
    literal = Literal(scalar=Scalar(primitive=Primitive(string_value="x")))
    assert TypeEngine.to_python_value(None, literal, int | str | None) == "x"


def test_reading_picks_the_variant_by_tag_when_the_stored_type_differs():
    # A producer wrote the variant type with extra metadata: the tag still identifies it (an enum's
    # value is a string literal, which the str variant, first in declaration order, would also take).
    literal = TypeEngine.to_literal(None, Colour.RED, str | Colour)
    stored = attrs.evolve(stored_variant(literal), metadata={"title": "renamed"})
    moved = Literal(scalar=Scalar(union=type(literal.scalar.union)(value=literal.scalar.union.value, type=stored)))
    assert TypeEngine.to_python_value(None, moved, str | Colour) is Colour.RED


def test_reading_a_literal_no_variant_takes_is_an_error():
    literal = Literal(scalar=Scalar(primitive=Primitive(boolean=True)))
    with pytest.raises(TypeTransformerFailedError, match=r"expected a literal of int \| str"):
        TypeEngine.to_python_value(None, literal, int | str)


def test_guessed_type_of_a_union():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(int | None)) == int | None
