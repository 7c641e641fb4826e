"""int, float, str, bool, bytes, datetime, date, timedelta and None."""

from __future__ import annotations

import datetime as dt
import math
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import (
    UTC,
    as_utc,
    aware_datetimes,
    floats,
    int64s,
    naive_datetimes,
    properties,
    round_trip,
    texts,
    timedeltas,
)
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.models.literals import Binary, Literal, Primitive, Scalar, Void
from taskloom.models.types import LiteralType, SimpleType


@properties
@given(int64s)
def test_int_round_trips(value):
    back = round_trip(value, int)
    assert back == value and type(back) is int


@properties
@given(floats)
def test_float_round_trips_including_infinities(value):
    back = round_trip(value, float)
    assert back == value and type(back) is float


@properties
@given(texts)
def test_str_round_trips(value):
    assert round_trip(value, str) == value


@properties
@given(st.booleans())
def test_bool_round_trips(value):
    assert round_trip(value, bool) is value


@properties
@given(st.binary(max_size=64))
def test_bytes_round_trip(value):
    assert round_trip(value, bytes) == value


@properties
@given(naive_datetimes)
def test_naive_datetime_is_read_as_utc(value):
    back = round_trip(value, dt.datetime)
    assert back == value.replace(tzinfo=UTC)
    assert back.tzinfo is UTC


@properties
@given(aware_datetimes)
def test_aware_datetime_round_trips_as_the_same_instant_in_utc(value):
    back = round_trip(value, dt.datetime)
    assert back == as_utc(value)
    assert back.utcoffset() == dt.timedelta(0)


@properties
@given(st.dates())
def test_date_round_trips(value):
    back = round_trip(value, dt.date)
    assert back == value and type(back) is dt.date


@properties
@given(timedeltas)
def test_timedelta_round_trips(value):
    assert round_trip(value, dt.timedelta) == value


def test_none_round_trips_as_void():
    assert TypeEngine.to_literal(None, None, None) == Literal(scalar=Scalar(none_type=Void()))
    assert TypeEngine.to_literal_type(type(None)) == LiteralType(simple=SimpleType.NONE)
    assert round_trip(None, type(None)) is None


@properties
@given(int64s)
def test_annotated_int_round_trips_as_int(value):
    assert round_trip(value, typing.Annotated[int, "a note"]) == value
    assert TypeEngine.to_literal_type(typing.Annotated[int, "a note"]) == LiteralType(simple=SimpleType.INTEGER)


@pytest.mark.parametrize(
    ("python_type", "simple"),
    [
        (int, SimpleType.INTEGER),
        (float, SimpleType.FLOAT),
        (str, SimpleType.STRING),
        (bool, SimpleType.BOOLEAN),
        (bytes, SimpleType.BINARY),
        (dt.datetime, SimpleType.DATETIME),
        (dt.date, SimpleType.DATETIME),
        (dt.timedelta, SimpleType.DURATION),
        (type(None), SimpleType.NONE),
    ],
)
def test_primitive_literal_types_are_flytekits_simple_types(python_type, simple):
    assert TypeEngine.to_literal_type(python_type) == LiteralType(simple=simple)


def test_bytes_are_a_binary_tagged_bytes():
    assert TypeEngine.to_literal(None, b"\x00\x01", bytes) == Literal(
        scalar=Scalar(binary=Binary(b"\x00\x01", "bytes"))
    )


def test_date_is_stored_as_midnight_utc():
    literal = TypeEngine.to_literal(None, dt.date(2024, 2, 29), dt.date)
    assert literal.scalar.primitive.datetime == dt.datetime(2024, 2, 29, tzinfo=UTC)


def test_int_refuses_a_str_naming_both():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected int, got str 'abc'$"):
        TypeEngine.to_literal(None, "abc", int)


@pytest.mark.parametrize(("value", "description"), [(True, "bool True"), (1.0, "float 1.0")])
def test_int_refuses_bool_and_float(value, description):
    with pytest.raises(TypeTransformerFailedError, match=rf"^expected int, got {description}$"):
        TypeEngine.to_literal(None, value, int)


def test_int_refuses_values_outside_64_bits():
    with pytest.raises(TypeTransformerFailedError, match="64-bit"):
        TypeEngine.to_literal(None, 2**63, int)


def test_float_accepts_an_int_and_stores_a_float():
    literal = TypeEngine.to_literal(None, 3, float)
    assert literal.scalar.primitive == Primitive(float_value=3.0)
    assert TypeEngine.to_python_value(None, literal, float) == 3.0


def test_float_refuses_bool():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected float, got bool False$"):
        TypeEngine.to_literal(None, False, float)


def test_float_reads_an_integer_literal_as_flytekit_does():
    literal = Literal(scalar=Scalar(primitive=Primitive(integer=2)))
    assert TypeEngine.to_python_value(None, literal, float) == 2.0


def test_bool_refuses_an_int():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected bool, got int 1$"):
        TypeEngine.to_literal(None, 1, bool)


def test_date_refuses_a_datetime_rather_than_drop_its_time():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected date, got datetime"):
        TypeEngine.to_literal(None, dt.datetime(2024, 1, 1, 12, 30), dt.date)


def test_none_refuses_a_value():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected None, got int 0$"):
        TypeEngine.to_literal(None, 0, None)


def test_reading_a_literal_of_another_kind_is_an_error():
    with pytest.raises(TypeTransformerFailedError, match="expected a literal of int"):
        TypeEngine.to_python_value(None, Literal(scalar=Scalar(primitive=Primitive(string_value="1"))), int)


def test_negative_zero_and_infinity_keep_their_sign():
    assert math.copysign(1.0, round_trip(-0.0, float)) == -1.0
    assert round_trip(-math.inf, float) == -math.inf
