"""Dataclasses and attrs classes as msgpack documents (flytekit 1.16's format)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing

import attrs
import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import (
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
from taskloom.models.literals import Binary, Literal, Scalar
from taskloom.models.types import LiteralType, SimpleType, TypeAnnotation
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile

CSV = FlyteFile[typing.TypeVar("csv")]


class Mood(str, enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class Rank(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Inner:
    count: int
    label: str = "inner"
    mood: Mood = Mood.HAPPY


@dataclasses.dataclass
class Outer:
    inner: Inner
    day: dt.date
    gap: dt.timedelta
    blob: bytes
    pair: tuple[int, str]
    items: list[Inner] = dataclasses.field(default_factory=list)
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    note: str | None = None
    rank: Rank = Rank.LOW
    when: dt.datetime = dt.datetime(2024, 1, 1)
    report: CSV | None = None
    folder: FlyteDirectory | None = None
    extra: dict = dataclasses.field(default_factory=dict)  # type: ignore[type-arg]
    number: int | float = 0
    weight: typing.Annotated[float, "kg"] = 1.0


@attrs.define
class Config:
    name: str
    retries: int = 3
    tags: list[str] = attrs.Factory(list)
    inner: Inner | None = None
    _secret: str = "hidden"


@attrs.frozen
class Point:
    x: float
    y: float


@dataclasses.dataclass
class Cat:
    name: str
    lives: int


@dataclasses.dataclass
class Dog:
    name: str
    good: bool


@dataclasses.dataclass
class Home:
    pet: Cat | Dog
    points: list[Point]


@dataclasses.dataclass
class Measure:
    amount: float | int
    when: str | dt.datetime


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node]


@dataclasses.dataclass
class WithSet:
    values: set[int]


paths = st.text("abcdefghij", min_size=1, max_size=8).map(lambda name: f"/data/{name}")
inners = st.builds(Inner, int64s, texts, st.sampled_from(Mood))
outers = st.builds(
    Outer,
    inner=inners,
    day=st.dates(),
    gap=field_timedeltas,
    blob=st.binary(max_size=8),
    pair=st.tuples(int64s, texts),
    items=st.lists(inners, max_size=3),
    scores=st.dictionaries(texts, floats, max_size=3),
    note=st.none() | texts,
    rank=st.sampled_from(Rank),
    when=naive_datetimes | aware_datetimes,
    report=st.none() | paths.map(CSV),
    folder=st.none() | paths.map(FlyteDirectory),
    extra=json_dicts,
    number=int64s | floats,
    weight=floats,
)
configs = st.builds(
    Config,
    name=texts,
    retries=int64s,
    tags=st.lists(texts, max_size=3),
    inner=st.none() | inners,
    secret=texts,
)


@properties
@given(outers)
def test_nested_dataclass_round_trips(value):
    back = round_trip(value, Outer)
    assert back == value
    assert type(back.number) is type(value.number)
    assert type(back.report) is type(value.report)


@properties
@given(configs)
def test_attrs_class_round_trips(value):
    assert round_trip(value, Config) == value


@properties
@given(st.lists(st.builds(Point, floats, floats), max_size=4))
def test_list_of_frozen_attrs_classes_round_trips(value):
    assert round_trip(value, list[Point]) == value


@properties
@given(
    st.builds(
        Home,
        st.builds(Cat, texts, int64s) | st.builds(Dog, texts, st.booleans()),
        st.lists(st.builds(Point, floats, floats), max_size=2),
    )
)
def test_union_field_of_records_is_read_back_by_its_fields(value):
    back = round_trip(value, Home)
    assert back == value and type(back.pet) is type(value.pet)


@properties
@given(st.dictionaries(texts, inners, max_size=3))
def test_dict_of_dataclasses_round_trips(value):
    assert round_trip(value, dict[str, Inner]) == value


@properties
@given(inners)
def test_annotated_dataclass_round_trips(value):
    assert round_trip(value, typing.Annotated[Inner, "meta"]) == value


def test_untagged_union_field_is_read_back_by_the_type_of_the_stored_data():
    assert round_trip(Measure(1, "x"), Measure).amount.__class__ is int
    assert round_trip(Measure(1.0, "x"), Measure).amount.__class__ is float
    # ISO text could be either variant: the first declared that takes it wins, as in flytekit.
    assert round_trip(Measure(1, dt.datetime(2024, 1, 1)), Measure).when == "2024-01-01T00:00:00"


def test_dataclass_literal_type_is_flytekits_struct():
    literal_type = TypeEngine.to_literal_type(Inner)
    assert literal_type.simple is SimpleType.STRUCT
    assert literal_type.annotation == TypeAnnotation({"cache-key-metadata": {"serialization-format": "msgpack"}})
    # Exactly what flytekit 1.16 (mashumaro) writes for this class: plain defaults, enums untitled.
    assert literal_type.metadata == {
        "title": "Inner",
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "label": {"type": "string", "default": "inner"},
            "mood": {"enum": ["happy", "sad"], "default": "happy"},
        },
        "additionalProperties": False,
        "required": ["count"],
    }
    assert literal_type.structure.dataclass_type == {
        "count": LiteralType(simple=SimpleType.INTEGER),
        "label": LiteralType(simple=SimpleType.STRING),
        "mood": TypeEngine.to_literal_type(Mood),
    }


def test_dataclass_is_a_msgpack_binary_encoded_like_mashumaro():
    value = Outer(
        inner=Inner(1),
        day=dt.date(2024, 5, 6),
        gap=dt.timedelta(seconds=90, microseconds=500_000),
        blob=b"\x01",
        pair=(2, "b"),
        when=dt.datetime(2024, 5, 6, 7, 8, 9),
        report=CSV("/data/report.csv"),
    )
    literal = TypeEngine.to_literal(None, value, Outer)
    assert literal.scalar.binary.tag == "msgpack"
    document = msgpack.unpackb(literal.scalar.binary.value)
    assert document["inner"] == {"count": 1, "label": "inner", "mood": "happy"}
    assert document["day"] == "2024-05-06"
    assert document["gap"] == 90.5
    assert document["blob"] == b"\x01"
    assert document["pair"] == [2, "b"]
    assert document["rank"] == 1
    assert document["when"] == "2024-05-06T07:08:09"
    assert document["report"] == {"path": "/data/report.csv"}
    assert document["folder"] is None


def test_a_relative_file_path_in_a_dataclass_is_made_absolute(tmp_path, monkeypatch):
    @dataclasses.dataclass
    class Holder:
        report: FlyteFile

    monkeypatch.chdir(tmp_path)
    literal = TypeEngine.to_literal(None, Holder(FlyteFile("out.txt")), Holder)
    assert msgpack.unpackb(literal.scalar.binary.value) == {"report": {"path": str(tmp_path / "out.txt")}}


def test_missing_fields_take_their_defaults_and_factories():
    document = msgpack.packb({"inner": {"count": 4}, "day": "2024-01-01", "gap": 1.0, "blob": b"", "pair": [1, "a"]})
    value = TypeEngine.to_python_value(None, Literal(scalar=Scalar(binary=Binary(document, "msgpack"))), Outer)
    assert value.inner == Inner(4)
    assert value.items == [] and value.scores == {} and value.note is None and value.rank is Rank.LOW


def test_missing_required_field_is_an_error_naming_it():
    literal = Literal(scalar=Scalar(binary=Binary(msgpack.packb({"label": "x"}), "msgpack")))
    with pytest.raises(TypeTransformerFailedError, match=r"^field 'count': required field missing$"):
        TypeEngine.to_python_value(None, literal, Inner)


def test_stored_field_of_the_wrong_type_is_an_error_naming_it():
    literal = Literal(scalar=Scalar(binary=Binary(msgpack.packb({"count": "7"}), "msgpack")))
    with pytest.raises(TypeTransformerFailedError, match=r"^field 'count': expected int, got str '7'$"):
        TypeEngine.to_python_value(None, literal, Inner)


def test_stored_unknown_enum_value_lists_the_allowed_ones():
    literal = Literal(scalar=Scalar(binary=Binary(msgpack.packb({"count": 1, "mood": "meh"}), "msgpack")))
    with pytest.raises(TypeTransformerFailedError, match=r"field 'mood': Mood has no member .*'meh'.*'happy', 'sad'"):
        TypeEngine.to_python_value(None, literal, Inner)


def test_wrong_instance_type_is_an_error():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected Inner, got dict \{'count': 1\}$"):
        TypeEngine.to_literal(None, {"count": 1}, Inner)


def test_field_of_the_wrong_type_names_the_path():
    value = Config(name="c", inner=Inner(count=1, mood="happy"))  # type: ignore[arg-type]
    with pytest.raises(
        TypeTransformerFailedError, match=r"^field 'inner': field 'mood': expected Mood, got str 'happy'$"
    ):
        TypeEngine.to_literal(None, value, Config)


def test_item_of_a_list_field_names_the_field_and_index():
    value = Outer(inner=Inner(1), day=dt.date.today(), gap=dt.timedelta(), blob=b"", pair=(1, "a"), items=[Inner(True)])
    with pytest.raises(
        TypeTransformerFailedError, match=r"^field 'items': item \[0\]: field 'count': expected int, got bool True$"
    ):
        TypeEngine.to_literal(None, value, Outer)


def test_task_output_error_names_the_entity_and_the_field():
    with pytest.raises(TypeTransformerFailedError) as caught:
        TypeEngine.dict_to_literal_map(None, {"o0": Inner("x")}, {"o0": Inner}, entity="task 't'", direction="output")
    assert "task 't': output 'o0' expects Inner" in str(caught.value)
    assert "field 'count': expected int, got str 'x'" in str(caught.value)


def test_field_type_nothing_can_store_is_unsupported_naming_it():
    with pytest.raises(UnsupportedTypeError, match=r"^WithSet: field 'values': set\[int\] cannot be stored"):
        TypeEngine.to_literal_type(WithSet)


def test_recursive_dataclass_is_unsupported():
    with pytest.raises(UnsupportedTypeError, match="recursive"):
        TypeEngine.to_literal_type(Node)


def test_dataclass_with_unresolvable_annotations_is_unsupported():
    @dataclasses.dataclass
    class Local:
        inner: LocalOnly  # noqa: F821 - deliberately unresolvable

    with pytest.raises(UnsupportedTypeError, match="module level"):
        TypeEngine.to_literal_type(Local)


def test_dataclasses_and_attrs_classes_are_claimed_structurally():
    assert TypeEngine.get_transformer(Inner).name == "Object-Dataclass-Transformer"
    assert TypeEngine.get_transformer(Config).name == "Object-Dataclass-Transformer"


def test_a_dataclass_literal_type_guesses_a_dict():
    literal = TypeEngine.to_literal(None, Inner(2), Inner)
    guessed = TypeEngine.guess_python_type(TypeEngine.to_literal_type(Inner))
    assert guessed is dict
    assert TypeEngine.to_python_value(None, literal, guessed) == {"count": 2, "label": "inner", "mood": "happy"}
