"""Fast checks: a transformer's checker never accepts a value its to_literal would refuse."""

from __future__ import annotations

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError

#: Any value a program might hand a task: scalars of every kind, and lists and dicts of them.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=5),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers()), inner, max_size=3),
    ),
    max_leaves=8,
)

TYPES = [
    int,
    float,
    str,
    bool,
    bytes,
    type(None),
    list[int],
    list[list[float]],
    dict[str, int],
    dict[str, list[str]],
    typing.Optional[int],
    int | str,
    list[typing.Optional[bool]],
]


@pytest.mark.parametrize("python_type", TYPES, ids=str)
def test_each_of_these_types_has_a_fast_check(python_type):
    assert TypeEngine.checker(python_type) is not None


@pytest.mark.parametrize("python_type", TYPES, ids=str)
@settings(max_examples=150)  # a check and a conversion are cheap: many examples to find where they disagree
@given(value=values)
def test_a_value_the_check_accepts_converts_to_a_literal(python_type, value):
    if TypeEngine.checker(python_type)(value):
        TypeEngine.to_literal(None, value, python_type)  # must not raise


@settings(max_examples=150)  # as above
@given(value=values)
def test_check_values_raises_what_conversion_raises(value):
    types = {"x": list[int]}
    try:
        TypeEngine.dict_to_literal_map(None, {"x": value}, types, entity="task 't'")
    except TypeTransformerFailedError as error:
        with pytest.raises(TypeTransformerFailedError) as raised:
            TypeEngine.check_values({"x": value}, types, entity="task 't'")
        assert str(raised.value) == str(error)
    else:
        TypeEngine.check_values({"x": value}, types, entity="task 't'")


def test_types_without_a_fast_check_are_still_checked():
    import dataclasses

    @dataclasses.dataclass
    class Point:
        x: int

    assert TypeEngine.checker(Point) is None
    TypeEngine.check_values({"p": Point(1)}, {"p": Point})
    with pytest.raises(TypeTransformerFailedError, match="input 'p'"):
        TypeEngine.check_values({"p": 3}, {"p": Point})
