"""Values that contain themselves, or are nested deeper than Python can recurse, give an error naming
the place, never a bare RecursionError; values nested deeply but within reach still convert."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.types.tests.nesting import (
    TOO_DEEP,
    Box,
    causes,
    dict_holding_itself,
    list_holding_itself,
    nested_dicts,
    nested_lists,
)
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError

# (description, value, declared type, what the error says after "expects <type>, got ...")
CYCLIC = [
    ("a list inside a dict", lambda: {"rows": list_holding_itself()}, dict, r"contains itself at \['rows'\]\[1\]"),
    ("a dict", dict_holding_itself, dict, r"contains itself at \['self'\]"),
    ("a dict in a list", lambda: [dict_holding_itself()], list[dict], r"contains itself at \[0\]\['self'\]"),
    ("a dict[str, Any]", dict_holding_itself, dict[str, Any], r"contains itself at \['self'\]"),
    ("a dict in a dataclass", lambda: Box("b", dict_holding_itself()), Box, r"contains itself at .data\['self'\]"),
]

DEEP = [
    ("lists inside a dict", lambda depth: {"rows": nested_lists(depth)}, dict),
    ("dicts", nested_dicts, dict),
    ("dicts in a list", lambda depth: [nested_dicts(depth)], list[dict]),
    ("dicts in a dataclass", lambda depth: Box("b", nested_dicts(depth)), Box),
]


@pytest.mark.parametrize(("description", "make", "python_type", "place"), CYCLIC, ids=[case[0] for case in CYCLIC])
def test_a_value_that_contains_itself_names_where(description, make, python_type, place):
    with pytest.raises(TypeTransformerFailedError, match=place) as raised:
        TypeEngine.to_literal(None, make(), python_type)
    assert not isinstance(raised.value, RecursionError)
    assert causes(raised.value)[-1] is RecursionError


@pytest.mark.parametrize(("description", "make", "python_type", "place"), CYCLIC, ids=[case[0] for case in CYCLIC])
def test_an_input_that_contains_itself_names_the_entity_and_the_input(description, make, python_type, place):
    with pytest.raises(TypeTransformerFailedError, match=rf"^task 'clean': input 'rows' expects .*{place}") as raised:
        TypeEngine.dict_to_literal_map(None, {"rows": make()}, {"rows": python_type}, entity="task 'clean'")
    assert "\n" not in str(raised.value)
    with pytest.raises(TypeTransformerFailedError, match=rf"^task 'clean': output 'o0' expects .*{place}"):
        TypeEngine.check_values({"o0": make()}, {"o0": python_type}, entity="task 'clean'", direction="output")


@pytest.mark.parametrize(("description", "make", "python_type"), DEEP, ids=[case[0] for case in DEEP])
def test_a_value_nested_too_deeply_is_an_error_naming_the_input(description, make, python_type):
    expected = r"^task 'clean': input 'rows' expects .*nested too deeply"
    with pytest.raises(TypeTransformerFailedError, match=expected) as raised:
        TypeEngine.dict_to_literal_map(None, {"rows": make(TOO_DEEP)}, {"rows": python_type}, entity="task 'clean'")
    assert causes(raised.value)[-1] is RecursionError
    with pytest.raises(TypeTransformerFailedError, match="nested too deeply"):
        TypeEngine.to_literal(None, make(TOO_DEEP), python_type)


@pytest.mark.parametrize("depth", [30, 300])
@pytest.mark.parametrize(("description", "make", "python_type"), DEEP, ids=[case[0] for case in DEEP])
def test_a_value_nested_deeply_within_reach_round_trips(description, make, python_type, depth):
    value = make(depth)
    literal = TypeEngine.to_literal(None, value, python_type)
    assert TypeEngine.to_python_value(None, literal, python_type) == value
    TypeEngine.check_values({"rows": value}, {"rows": python_type}, entity="task 'clean'")


def test_a_dataclass_holding_itself_in_a_json_field_is_refused_as_not_json():
    box = Box("b", {})
    box.data["me"] = box
    expected = r"^task 'clean': input 'box' expects Box, .*field 'data': key \['me'\]: expected a dict"
    with pytest.raises(TypeTransformerFailedError, match=expected):
        TypeEngine.dict_to_literal_map(None, {"box": box}, {"box": Box}, entity="task 'clean'")
