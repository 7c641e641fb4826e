"""Values that contain themselves or are nested deeper than Python recurses, run with the standard
plugins (taskloom-types converts, taskloom-local runs the workflow): a user error naming the task or
workflow and the variable. The type engine's own boundary is tested in
``tests/kernel/test_recursive_values.py`` with a toy transformer.
"""

from __future__ import annotations

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
from taskloom.exceptions.user import TypeTransformerFailedError

BAD_VALUES = {
    "cyclic list": (lambda: {"rows": list_holding_itself()}, "contains itself at ['rows'][1]"),
    "cyclic dict": (dict_holding_itself, "contains itself at ['self']"),
    "deep list": (lambda: {"rows": nested_lists(TOO_DEEP)}, "nested too deeply"),
    "deep dict": (lambda: nested_dicts(TOO_DEEP), "nested too deeply"),
}


def standard_entities():
    from taskloom import task, workflow

    @task
    def count(data: dict) -> int:
        return len(data)

    @task
    def unpack(box: Box) -> int:
        return len(box.data)

    @task
    def echo(data: dict) -> dict:
        return data

    @workflow
    def pipeline(data: dict) -> int:
        return count(data=data)

    return count, unpack, echo, pipeline


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_task_called_directly_with_a_bad_value_names_the_task_and_input(case):
    make, detail = BAD_VALUES[case]
    count, unpack, _, _ = standard_entities()
    with pytest.raises(TypeTransformerFailedError) as raised:
        count(data=make())
    message = str(raised.value)
    assert message.startswith(f"task '{count.name}': input 'data' expects dict, got dict ") and detail in message
    assert RecursionError in causes(raised.value)
    with pytest.raises(TypeTransformerFailedError) as raised:
        unpack(box=Box("b", make()))
    message = str(raised.value)
    assert message.startswith(f"task '{unpack.name}': input 'box' expects Box, got Box ")
    assert detail.split(" at ")[0] in message  # inside the box, the place starts with .data


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_workflow_run_locally_with_a_bad_value_names_the_workflow_and_input(case):
    make, detail = BAD_VALUES[case]
    *_, pipeline = standard_entities()
    with pytest.raises(TypeTransformerFailedError) as raised:
        pipeline(data=make())
    message = str(raised.value)
    assert message.startswith(f"workflow '{pipeline.name}': input 'data' expects dict") and detail in message


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_output_of_a_task_in_a_workflow_names_the_task_and_output(case):
    from taskloom import task, workflow

    make, detail = BAD_VALUES[case]

    @task
    def produce(n: int) -> dict:
        return make()

    @workflow
    def producing(n: int = 1) -> dict:
        return produce(n=n)

    with pytest.raises(TypeTransformerFailedError) as raised:
        producing()
    message = str(raised.value)
    assert message.startswith(f"task '{produce.name}': output 'o0' expects dict") and detail in message


@pytest.mark.parametrize("depth", [30, 300])
def test_values_nested_deeply_within_reach_still_run(depth):
    count, unpack, echo, pipeline = standard_entities()
    value = {"rows": nested_lists(depth), "more": nested_dicts(depth)}
    assert count(data=value) == 2 and unpack(box=Box("b", value)) == 2 and pipeline(data=value) == 2
    assert echo(data=value) == value
