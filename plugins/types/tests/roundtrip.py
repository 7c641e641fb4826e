"""The round-trip check and the hypothesis strategies shared by the tests of taskloom-types."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from taskloom.core.type_engine import TypeEngine
from taskloom.models.converter import from_json, to_json
from taskloom.models.literals import Literal
from taskloom.models.types import LiteralType

#: Settings of every round-trip property test: a round trip of a small value is cheap, so more
#: examples than the profile's (deadline and health checks come from the profile, see conftest.py).
properties = settings(max_examples=60)

UTC = dt.UTC

int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False)  # NaN is unequal to itself; infinities are included
texts = st.text(max_size=12)
# Fixed offsets in whole minutes, as real time zones have (ISO 8601 text cannot carry a
# microsecond offset): a round trip keeps the instant.
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
# Away from year 1 and 9999, where shifting an aware datetime to UTC overflows Python's datetime.
naive_datetimes = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31))
aware_datetimes = st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=offsets)
# google.protobuf.Duration spans +-10,000 years.
timedeltas = st.timedeltas(min_value=-dt.timedelta(days=3_652_500), max_value=dt.timedelta(days=3_652_500))
# Inside msgpack documents a timedelta is float seconds (flytekit's encoding), exact to the
# microsecond only while it fits a float's 53 bits: about +-140 years.
field_timedeltas = st.timedeltas(min_value=-dt.timedelta(days=36_500), max_value=dt.timedelta(days=36_500))

json_values = st.recursive(
    st.none() | st.booleans() | int64s | floats | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
json_dicts = st.dictionaries(texts, json_values, max_size=4)


def round_trip(value: Any, python_type: Any) -> Any:
    """Convert ``value`` to a literal and back, checking the literal and its type survive JSON unchanged."""
    literal = TypeEngine.to_literal(None, value, python_type)
    assert from_json(to_json(literal), Literal) == literal
    literal_type = TypeEngine.to_literal_type(python_type)
    assert from_json(to_json(literal_type), LiteralType) == literal_type
    return TypeEngine.to_python_value(None, literal, python_type)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A naive datetime read as UTC, as the transformer reads it; an aware one unchanged."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
