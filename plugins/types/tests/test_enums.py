"""Enums with str and int values."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import properties, round_trip
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.models.literals import Literal, Primitive, Scalar
from taskloom.models.types import EnumType, LiteralType


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Shade(str, enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 10


class Level(enum.Enum):
    ONE = 1
    TWO = 2


class Mixed(enum.Enum):
    A = 1
    B = "1"


class Weird(enum.Enum):
    A = 1.5


@properties
@given(st.sampled_from(Colour))
def test_str_enum_round_trips(member):
    assert round_trip(member, Colour) is member


@properties
@given(st.sampled_from(Shade))
def test_str_mixin_enum_round_trips_as_the_member_not_a_str(member):
    assert round_trip(member, Shade) is member


@properties
@given(st.sampled_from(Priority))
def test_int_enum_round_trips(member):
    assert round_trip(member, Priority) is member


@properties
@given(st.sampled_from(Level))
def test_plain_enum_with_int_values_round_trips(member):
    assert round_trip(member, Level) is member


@properties
@given(st.lists(st.sampled_from(Colour), max_size=4) | st.none())
def test_optional_list_of_enums_round_trips(value):
    assert round_trip(value, list[Colour] | None) == value


def test_enum_is_stored_as_the_string_of_its_value_like_flytekit():
    assert TypeEngine.to_literal(None, Colour.GREEN, Colour) == Literal(
        scalar=Scalar(primitive=Primitive(string_value="green"))
    )
    assert TypeEngine.to_literal(None, Priority.HIGH, Priority).scalar.primitive.string_value == "10"


def test_enum_literal_type_lists_the_values():
    assert TypeEngine.to_literal_type(Colour) == LiteralType(enum_type=EnumType(values=("red", "green", "blue")))
    assert TypeEngine.to_literal_type(Priority) == LiteralType(enum_type=EnumType(values=("1", "10")))


def test_mixin_enums_are_not_taken_for_their_base_type():
    assert TypeEngine.get_transformer(Shade).name == "DefaultEnumTransformer"
    assert TypeEngine.get_transformer(Priority).name == "DefaultEnumTransformer"


def test_enum_refuses_its_raw_value():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected Colour, got str 'red'$"):
        TypeEngine.to_literal(None, "red", Colour)


def test_unknown_enum_value_lists_the_allowed_values():
    literal = Literal(scalar=Scalar(primitive=Primitive(string_value="purple")))
    with pytest.raises(TypeTransformerFailedError) as caught:
        TypeEngine.to_python_value(None, literal, Colour)
    assert str(caught.value) == "Colour has no member with the value 'purple'; allowed values: 'red', 'green', 'blue'"


def test_enum_whose_values_clash_as_text_is_unsupported():
    with pytest.raises(UnsupportedTypeError, match="'1'"):
        TypeEngine.to_literal_type(Mixed)


def test_enum_with_other_values_is_unsupported():
    with pytest.raises(UnsupportedTypeError, match="only str and int values"):
        TypeEngine.to_literal_type(Weird)


def test_guessed_type_of_an_enum_literal_type_has_its_values():
    guessed = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Colour))
    assert issubclass(guessed, enum.Enum)
    assert [member.value for member in guessed] == ["red", "green", "blue"]
