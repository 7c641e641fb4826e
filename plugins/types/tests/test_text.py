"""Values written as text (`loom run` options, a gate's text signals): each standard type's
`from_text`/`from_json`, reached through `TypeEngine.from_text`, and what `loom run --help` says."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import json
import typing

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import int64s, naive_datetimes, properties
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile
from taskloom.types.pickle import allow_pickle
from taskloom_types.primitives import BYTES_HELP


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@dataclasses.dataclass
class Message:
    body: bytes
    topic: str = "none"


@attrs.define
class Sample:
    at: dt.datetime
    colour: Colour
    report: FlyteFile
    weights: dict[str, float] = attrs.Factory(dict)


class Shape(typing.NamedTuple):
    area: int
    name: str


class Opaque:
    """A class passed only by pickling: it has no text."""


allow_pickle(Opaque)

# Parsing a short text is cheap: the bytes tests keep the 100 examples they ran before the profiles.
cheap = settings(max_examples=100)


def parse(text, python_type):
    return TypeEngine.from_text(text, python_type)


# --- scalars -------------------------------------------------------------------------------


@properties
@given(int64s)
def test_an_int_is_its_decimal_text(number):
    assert parse(str(number), int) == number


@properties
@given(st.floats(allow_nan=False))
def test_a_float_is_its_repr(number):
    assert parse(repr(number), float) == number


@properties
@given(st.text())
def test_a_str_is_the_text_itself(text):
    assert parse(text, str) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Yes", True), ("y", True), ("ON", True), ("1", True), ("t", True)]
    + [("false", False), ("No", False), ("n", False), ("off", False), ("0", False), ("f", False), ("", False)],
)
def test_bool_takes_the_words_click_takes(text, expected):
    assert parse(text, bool) is expected


@properties
@given(naive_datetimes)
def test_datetimes_and_dates_are_iso_8601(moment):
    assert parse(moment.isoformat(), dt.datetime) == moment
    assert parse(moment.date().isoformat(), dt.date) == moment.date()


def test_a_duration_is_seconds_and_none_is_none_or_null():
    assert parse("90.5", dt.timedelta) == dt.timedelta(seconds=90.5)
    assert parse("None", type(None)) is None and parse("null", type(None)) is None


def test_enum_members_are_given_by_value():
    assert parse("blue", Colour) is Colour.BLUE
    assert parse("2", Level) is Level.HIGH


def test_files_and_directories_are_paths_or_uris():
    assert parse("/data/in.csv", FlyteFile) == FlyteFile("/data/in.csv")
    assert parse("s3://bucket/dir", FlyteDirectory) == FlyteDirectory("s3://bucket/dir")
    assert parse("s3://bucket/dir", FlyteDirectory).uri == "s3://bucket/dir"
    assert parse('{"f": "/x.txt", "g": {"path": "s3://b/y"}}', dict[str, FlyteFile]) == {
        "f": FlyteFile("/x.txt"),
        "g": FlyteFile("s3://b/y"),
    }


# --- bytes: UTF-8 text, or base64:, hex: or text: prefixed (on their own and inside JSON) --------


@cheap
@given(st.binary())
def test_any_bytes_given_as_base64_or_hex_come_back(data):
    assert parse("base64:" + base64.b64encode(data).decode(), bytes) == data
    assert parse("hex:" + data.hex(), bytes) == data


@cheap
@given(st.text())
def test_any_text_is_its_utf8_bytes_given_plainly_or_after_text(text):
    assert parse("text:" + text, bytes) == text.encode("utf-8", "surrogateescape")
    if not text.startswith(("base64:", "hex:", "text:")):
        assert parse(text, bytes) == text.encode("utf-8", "surrogateescape")


def test_a_command_line_argument_that_is_not_utf8_gives_back_its_bytes():
    argument = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python hands such an argument over
    assert parse(argument, bytes) == b"caf\xe9"


@cheap
@given(st.lists(st.binary()), st.binary())
def test_bytes_inside_json_are_read_the_same_way(blobs, body):
    given_blobs = json.dumps(["base64:" + base64.b64encode(blob).decode() for blob in blobs])
    assert parse(given_blobs, list[bytes]) == blobs
    assert parse(json.dumps({"body": "hex:" + body.hex()}), Message) == Message(body)
    assert parse(json.dumps({"a": "plain"}), dict[str, bytes]) == {"a": b"plain"}


@pytest.mark.parametrize(
    ("text", "python_type", "message"),
    [
        ("base64:AAE", bytes, "expected base64 after 'base64:', got 'AAE' (Incorrect padding)"),
        ("hex:0g", bytes, "expected hexadecimal digits after 'hex:', got '0g'"),
        ('["ok", "base64:!!"]', list[bytes], "item [1]: expected base64 after 'base64:', got '!!'"),
        ('{"body": 7}', Message, "field 'body': expected a JSON string for bytes, got 7"),
    ],
)
def test_malformed_bytes_say_what_was_expected_what_came_and_where(text, python_type, message):
    with pytest.raises(TypeTransformerFailedError) as raised:
        parse(text, python_type)
    assert message in str(raised.value)


# --- JSON: containers and records, every part read as its own type ------------------------------


@properties
@given(st.lists(int64s), st.dictionaries(st.text(), st.floats(allow_nan=False, allow_infinity=False)))
def test_lists_and_dicts_are_json(rows, table):
    assert parse(json.dumps(rows), list[int]) == rows
    assert parse(json.dumps(table), dict[str, float]) == table
    assert parse(json.dumps({"rows": rows}), dict) == {"rows": rows}


def test_tuples_are_json_arrays_read_back_as_tuples():
    assert parse('[1, "a"]', tuple[int, str]) == (1, "a")
    assert parse("[1, 2, 3]", tuple[int, ...]) == (1, 2, 3)


def test_records_are_json_objects_whose_fields_are_read_as_their_types():
    assert parse('{"x": 4}', Point) == Point(4)
    assert parse('{"area": 9, "name": "square"}', Shape) == Shape(9, "square")
    sample = parse('{"at": "2026-01-02T03:04:05", "colour": "red", "report": {"path": "/r.txt"}}', Sample)
    assert sample == Sample(dt.datetime(2026, 1, 2, 3, 4, 5), Colour.RED, FlyteFile("/r.txt"))
    assert parse('[{"x": 1}, {"x": 2, "y": 3}]', list[Point]) == [Point(1), Point(2, 3)]


def test_unions_take_the_first_variant_that_parses():
    assert parse("7", int | None) == 7
    assert parse("null", int | None) is None and parse("None", typing.Optional[Point]) is None
    assert parse("7", int | str) == 7 and parse("seven", int | str) == "seven"
    assert parse("null", str | None) == "null"  # a str takes any text, so it comes first here
    assert parse('[1, null, "a"]', list[int | str | None]) == [1, None, "a"]


@pytest.mark.parametrize(
    ("text", "python_type", "message"),
    [
        ("big", int, "invalid literal for int() with base 10: 'big'"),
        ("maybe", bool, "expected true/false, yes/no, on/off or 1/0, got 'maybe'"),
        ("purple", Colour, "Colour has no member with the value 'purple'; allowed values: 'red', 'blue'"),
        ("[1, 2", list[int], "Expecting ',' delimiter"),
        ('[1, "a"]', list[int], "item [1]: expected int, got str 'a'"),
        ('{"a": true}', dict[str, int], "key 'a': expected int, got bool True"),
        ('{"x": 1}', list[int], "expected a JSON array for list[int], got {'x': 1}"),
        ("[1]", tuple[int, str], "expected 2 items for tuple[int, str], got 1"),
        ('{"x": 1, "z": 2}', Point, "Point has no field 'z'"),
        ('{"y": 1}', Point, "missing 1 required positional argument: 'x'"),
        ('{"at": 5, "colour": "red", "report": "/r"}', Sample, "field 'at': expected an ISO 8601 datetime, got int 5"),
        ("x", int | None, "fits none of int | None"),
        ('[{"x": "1"}]', list[Point], "item [0]: field 'x': expected int, got str '1'"),
    ],
)
def test_text_that_does_not_parse_says_what_was_expected_what_came_and_where(text, python_type, message):
    with pytest.raises(TypeTransformerFailedError) as raised:
        parse(text, python_type)
    assert message in str(raised.value)


def test_a_type_passed_by_pickling_has_no_text_and_says_so():
    for text, python_type in (("anything", Opaque), ('["anything"]', list[Opaque])):
        with pytest.raises(
            UnsupportedTypeError, match=r"^Opaque cannot be given as text: its transformer 'FlytePickle'"
        ):
            parse(text, python_type)


# --- what `loom run --help` says -------------------------------------------------------------


def test_help_explains_bytes_wherever_they_are_held():
    for python_type in (bytes, list[bytes], dict[str, bytes], bytes | None, tuple[int, bytes], Message):
        assert TypeEngine.text_help(python_type) == BYTES_HELP, python_type
    for python_type in (int, list[int], Point, Colour, dict):
        assert TypeEngine.text_help(python_type) is None, python_type
