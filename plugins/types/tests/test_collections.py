"""list[T], dict[str, T], untyped JSON dicts, tuples and NamedTuples."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any, NamedTuple

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import (
    as_utc,
    aware_datetimes,
    field_timedeltas,
    floats,
    int64s,
    json_dicts,
    naive_datetimes,
    properties,
    round_trip,
    texts,
)
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.models.literals import Literal, Scalar
from taskloom.models.types import LiteralType, SimpleType, TypeAnnotation

MSGPACK_ANNOTATION = TypeAnnotation({"cache-key-metadata": {"serialization-format": "msgpack"}})


class Pair(NamedTuple):
    left: int
    right: str = "default"


class Span(NamedTuple):
    start: dt.datetime
    length: dt.timedelta
    tags: list[str]
    weight: float | None


# --- list ------------------------------------------------------------------------------------


@properties
@given(st.lists(st.lists(int64s, max_size=4), max_size=4))
def test_nested_lists_round_trip(value):
    assert round_trip(value, list[list[int]]) == value


@properties
@given(st.lists(st.dictionaries(texts, floats, max_size=3), max_size=4))
def test_list_of_typed_dicts_round_trips(value):
    assert round_trip(value, list[dict[str, float]]) == value


@properties
@given(st.lists(naive_datetimes, max_size=4))
def test_list_of_naive_datetimes_round_trips_in_utc(value):
    assert round_trip(value, list[dt.datetime]) == [as_utc(item) for item in value]


def test_list_literal_type_is_a_collection_type():
    assert TypeEngine.to_literal_type(list[int]) == LiteralType(collection_type=LiteralType(simple=SimpleType.INTEGER))


def test_list_refuses_a_tuple():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected list\[int\], got tuple \(1, 2\)$"):
        TypeEngine.to_literal(None, (1, 2), list[int])


def test_list_item_error_names_the_index():
    with pytest.raises(TypeTransformerFailedError, match=r"^item \[2\]: expected int, got str 'x'$"):
        TypeEngine.to_literal(None, [1, 2, "x"], list[int])


def test_nested_list_item_error_names_every_index():
    with pytest.raises(TypeTransformerFailedError, match=r"^item \[1\]: item \[0\]: expected int, got float 1.5$"):
        TypeEngine.to_literal(None, [[1], [1.5]], list[list[int]])


def test_task_input_error_names_the_entity_the_input_and_the_index():
    with pytest.raises(TypeTransformerFailedError) as caught:
        TypeEngine.dict_to_literal_map(None, {"rows": [1, "x"]}, {"rows": list[int]}, entity="task 'clean'")
    assert str(caught.value) == (
        "task 'clean': input 'rows' expects list[int], got list [1, 'x'] (item [1]: expected int, got str 'x')"
    )


def test_bare_list_is_unsupported_with_a_hint():
    with pytest.raises(UnsupportedTypeError, match=r"list\[int\]"):
        TypeEngine.to_literal_type(list)


# --- dict[str, T] ------------------------------------------------------------------------------


@properties
@given(st.dictionaries(texts, st.lists(int64s, max_size=3), max_size=4))
def test_typed_dict_round_trips(value):
    assert round_trip(value, dict[str, list[int]]) == value


@properties
@given(st.dictionaries(texts, st.dictionaries(texts, st.booleans(), max_size=3), max_size=3))
def test_nested_typed_dicts_round_trip(value):
    assert round_trip(value, typing.Dict[str, dict[str, bool]]) == value


def test_typed_dict_literal_type_is_a_map_value_type():
    assert TypeEngine.to_literal_type(dict[str, str]) == LiteralType(
        map_value_type=LiteralType(simple=SimpleType.STRING)
    )


def test_typed_dict_refuses_a_non_str_key_naming_it():
    with pytest.raises(TypeTransformerFailedError, match=r"^key 1: expected str, got int 1$"):
        TypeEngine.to_literal(None, {"a": 1, 1: 2}, dict[str, int])


def test_typed_dict_value_error_names_the_key():
    with pytest.raises(TypeTransformerFailedError, match=r"^key 'b': expected int, got str 'x'$"):
        TypeEngine.to_literal(None, {"a": 1, "b": "x"}, dict[str, int])


def test_dict_with_non_str_keys_is_unsupported():
    with pytest.raises(UnsupportedTypeError, match="str keys"):
        TypeEngine.to_literal_type(dict[int, str])


# --- untyped dict --------------------------------------------------------------------------------


@properties
@given(json_dicts)
def test_untyped_json_dict_round_trips(value):
    assert round_trip(value, dict) == value


@properties
@given(json_dicts)
def test_dict_of_str_to_any_is_the_untyped_json_dict(value):
    assert round_trip(value, dict[str, Any]) == value
    assert TypeEngine.to_literal_type(dict[str, Any]) == TypeEngine.to_literal_type(dict)


def test_untyped_dict_is_msgpack_in_a_struct_like_flytekit():
    value = {"a": [1, 2.5, None], "b": {"c": True}}
    literal = TypeEngine.to_literal(None, value, dict)
    assert literal.scalar.binary.tag == "msgpack"
    assert msgpack.unpackb(literal.scalar.binary.value) == value
    assert TypeEngine.to_literal_type(dict) == LiteralType(simple=SimpleType.STRUCT, annotation=MSGPACK_ANNOTATION)


def test_untyped_dict_refuses_a_set_naming_the_key_path():
    with pytest.raises(TypeTransformerFailedError, match=r"^key \['a'\]\['b'\]\[1\]: expected .*, got set \{2\}$"):
        TypeEngine.to_literal(None, {"a": {"b": [1, {2}]}}, dict)


def test_untyped_dict_refuses_an_object_naming_the_key():
    with pytest.raises(TypeTransformerFailedError, match=r"^key \['when'\]: expected .*, got date"):
        TypeEngine.to_literal(None, {"when": dt.date(2024, 1, 1)}, dict)


def test_untyped_dict_refuses_a_non_str_key_naming_its_path():
    with pytest.raises(TypeTransformerFailedError, match=r"^key \['a'\]\[3\]: expected a str key, got int 3$"):
        TypeEngine.to_literal(None, {"a": {3: "x"}}, dict)


def test_untyped_dict_reads_flytekits_older_generic_struct():
    literal = Literal(scalar=Scalar(generic={"a": 1.0}))
    assert TypeEngine.to_python_value(None, literal, dict) == {"a": 1.0}


# --- tuples --------------------------------------------------------------------------------------


@properties
@given(st.tuples(int64s, texts, floats))
def test_fixed_tuple_round_trips(value):
    back = round_trip(value, tuple[int, str, float])
    assert back == value and type(back) is tuple


@properties
@given(st.lists(st.tuples(int64s, texts), max_size=4))
def test_list_of_tuples_round_trips(value):
    assert round_trip(value, list[tuple[int, str]]) == value


@properties
@given(st.tuples(aware_datetimes, field_timedeltas, st.binary(max_size=8), st.none() | st.dates()))
def test_tuple_of_datetime_timedelta_bytes_and_optional_date_round_trips(value):
    back = round_trip(value, tuple[dt.datetime, dt.timedelta, bytes, dt.date | None])
    assert back == value


@properties
@given(st.lists(int64s, max_size=5).map(tuple))
def test_variadic_tuple_round_trips_as_a_tuple(value):
    back = round_trip(value, tuple[int, ...])
    assert back == value and type(back) is tuple


def test_empty_tuple_round_trips():
    assert round_trip((), tuple[()]) == ()


def test_fixed_tuple_is_a_struct_with_items_keyed_by_position():
    literal_type = TypeEngine.to_literal_type(tuple[int, str])
    assert literal_type.simple is SimpleType.STRUCT
    assert literal_type.structure.dataclass_type == {
        "0": LiteralType(simple=SimpleType.INTEGER),
        "1": LiteralType(simple=SimpleType.STRING),
    }
    literal = TypeEngine.to_literal(None, (7, "x"), tuple[int, str])
    assert literal.scalar.binary.tag == "msgpack"
    assert msgpack.unpackb(literal.scalar.binary.value) == [7, "x"]


def test_variadic_tuple_is_a_collection():
    assert TypeEngine.to_literal_type(tuple[int, ...]) == LiteralType(
        collection_type=LiteralType(simple=SimpleType.INTEGER)
    )


def test_tuple_of_the_wrong_length_is_an_error():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected tuple\[int, str\], got tuple \(1,\) \(1 items"):
        TypeEngine.to_literal(None, (1,), tuple[int, str])


def test_tuple_item_of_the_wrong_type_names_its_position():
    with pytest.raises(TypeTransformerFailedError, match=r"^item \[1\]: expected str, got int 2$"):
        TypeEngine.to_literal(None, (1, 2), tuple[int, str])


def test_tuple_refuses_a_list():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected tuple\[int, str\], got list"):
        TypeEngine.to_literal(None, [1, "a"], tuple[int, str])


def test_bare_tuple_is_unsupported_with_a_hint():
    with pytest.raises(UnsupportedTypeError, match=r"tuple\[int, \.\.\.\]"):
        TypeEngine.to_literal_type(tuple)


# --- NamedTuples -------------------------------------------------------------------------------


@properties
@given(st.builds(Pair, int64s, texts))
def test_named_tuple_round_trips_as_itself(value):
    back = round_trip(value, Pair)
    assert back == value and type(back) is Pair


@properties
@given(st.builds(Span, aware_datetimes, field_timedeltas, st.lists(texts, max_size=3), st.none() | floats))
def test_named_tuple_with_datetimes_lists_and_optionals_round_trips(value):
    assert round_trip(value, Span) == value


@properties
@given(st.lists(st.builds(Pair, int64s), max_size=4))
def test_list_of_named_tuples_round_trips(value):
    assert round_trip(value, list[Pair]) == value


def test_named_tuple_is_a_struct_of_its_fields():
    literal_type = TypeEngine.to_literal_type(Pair)
    assert literal_type.simple is SimpleType.STRUCT
    assert literal_type.metadata["title"] == "Pair"
    assert literal_type.metadata["required"] == ["left"]
    assert set(literal_type.structure.dataclass_type) == {"left", "right"}
    literal = TypeEngine.to_literal(None, Pair(1, "x"), Pair)
    assert msgpack.unpackb(literal.scalar.binary.value) == {"left": 1, "right": "x"}


def test_named_tuple_refuses_a_plain_tuple():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected Pair, got tuple \(1, 'x'\)$"):
        TypeEngine.to_literal(None, (1, "x"), Pair)


def test_named_tuple_field_error_names_the_field():
    with pytest.raises(TypeTransformerFailedError, match=r"^field 'left': expected int, got str 'one'$"):
        TypeEngine.to_literal(None, Pair("one", "x"), Pair)


def test_guessed_types_of_collections():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(list[int])) == list[int]
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(dict[str, list[float]])) == dict[str, list[float]]
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(dict)) is dict
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(tuple[int, str])) == tuple[int, str]
