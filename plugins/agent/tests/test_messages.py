"""Resources to flyteidl messages and back: outputs given as Python values are written as the type engine
writes them (primitives directly, the rest through the type engine), and read back as literal maps."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from taskloom.extend import UserValueError
from taskloom_flyte import codec

from taskloom_agent import Resource, TaskExecution, TaskLog
from taskloom_agent.messages import outputs_literal_map, resource_from_proto, resource_to_proto

primitives = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), st.text(max_size=20)
)


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), primitives, max_size=4))
def test_primitive_outputs_are_written_as_the_type_engine_writes_them(values):
    written = resource_to_proto(Resource(phase=TaskExecution.SUCCEEDED, outputs=values)).outputs
    assert written == codec.to_proto(outputs_literal_map(values))


def test_other_outputs_go_through_the_type_engine_and_come_back_as_a_literal_map():
    values = {"rows": [1, 2, 3], "when": dt.datetime(2026, 12, 6, tzinfo=dt.UTC), "n": 4}
    message = resource_to_proto(
        Resource(
            phase=TaskExecution.SUCCEEDED,
            message="done",
            outputs=values,
            log_links=[TaskLog("console", "https://x/1")],
            custom_info={"job": "j-1", "slots": 2},
        )
    )
    resource = resource_from_proto(message)
    assert (resource.phase, resource.message, resource.custom_info) == (3, "done", {"job": "j-1", "slots": 2})
    assert resource.log_links == [TaskLog("console", "https://x/1")]
    literals = resource.outputs.literals
    assert [item.scalar.primitive.integer for item in literals["rows"].collection.literals] == [1, 2, 3]
    assert literals["n"].scalar.primitive.integer == 4


def test_outputs_of_another_kind_name_the_agent():
    with pytest.raises(UserValueError, match="agent 'Odd Agent': outputs expects a LiteralMap or a dict, got list"):
        resource_to_proto(Resource(phase=TaskExecution.SUCCEEDED, outputs=[1]), agent="Odd Agent")
