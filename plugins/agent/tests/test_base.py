"""The agent author's API: flytekit's names and behaviour, agents contributed by a hook, phases numbered as
flyteidl's."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest
from flyteidl.core import execution_pb2
from taskloom.extend import UserValueError, hookimpl

from taskloom_agent import (
    AgentRegistry,
    AsyncAgentBase,
    ResourceMeta,
    SyncAgentBase,
    TaskCategory,
    TaskExecution,
    convert_to_flyte_phase,
    is_terminal_phase,
)
from taskloom_agent.errors import AgentNotFoundError


@dataclasses.dataclass
class QueryMeta(ResourceMeta):
    query_id: str
    attempt: int


class Hooked(SyncAgentBase):
    name = "Hooked Agent"

    def __init__(self, task_type: str = "hooked") -> None:
        super().__init__(task_type_name=task_type)


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(AgentRegistry, "_REGISTRY", {})
    monkeypatch.setattr(AgentRegistry, "_CONTRIBUTED", None)


def test_resource_meta_round_trips_through_bytes_as_flytekit_encodes_it():
    meta = QueryMeta(query_id="q-1", attempt=2)
    assert meta.encode() == b'{"query_id": "q-1", "attempt": 2}'
    assert QueryMeta.decode(meta.encode()) == meta


@pytest.mark.parametrize("data", [b"\xff", b"[1, 2]", b'{"query_id": "q"}', b'{"other": 1}'])
def test_resource_meta_refuses_bytes_it_did_not_write(data):
    with pytest.raises((ValueError, TypeError)):
        QueryMeta.decode(data)


def test_task_categories_are_equal_by_name_and_version():
    assert TaskCategory("bigquery", 0) == TaskCategory("bigquery")
    assert TaskCategory("bigquery", 1) != TaskCategory("bigquery", 0)
    assert len({TaskCategory("a"), TaskCategory("a", 0), TaskCategory("a", 1)}) == 2
    assert str(TaskCategory("bigquery", 1)) == "bigquery_v1"


def test_phases_are_flyteidls_numbers():
    for phase in TaskExecution.Phase:
        assert execution_pb2.TaskExecution.Phase.Value(phase.name) == phase
    assert TaskExecution.SUCCEEDED == execution_pb2.TaskExecution.SUCCEEDED
    assert is_terminal_phase(execution_pb2.TaskExecution.RETRYABLE_FAILED)
    assert not is_terminal_phase(TaskExecution.RUNNING)


def test_backend_states_map_to_phases_as_flytekit_maps_them():
    assert convert_to_flyte_phase("DONE") == TaskExecution.SUCCEEDED
    assert convert_to_flyte_phase("cancelled") == TaskExecution.FAILED
    assert convert_to_flyte_phase("pending") == TaskExecution.INITIALIZING
    with pytest.raises(UserValueError, match="agent state 'weird'"):
        convert_to_flyte_phase("weird")


def test_a_second_agent_for_a_category_is_refused_unless_overriding(fresh_registry):
    AgentRegistry.register(Hooked())
    with pytest.raises(UserValueError, match="task type 'hooked' version 0 has an agent already"):
        AgentRegistry.register(Hooked())
    replacement = Hooked()
    AgentRegistry.register(replacement, override=True)
    assert AgentRegistry.get_agent("hooked") is replacement


def test_an_unknown_task_type_names_it_and_the_agents_there_are(fresh_registry, taskloom_plugins):
    AgentRegistry.register(Hooked())
    with pytest.raises(AgentNotFoundError, match=r"no agent for task type 'spark' version 2; agents here: hooked_v0"):
        AgentRegistry.get_agent("spark", 2)


def test_plugins_contribute_agents_through_a_hook_and_registered_ones_win(fresh_registry, taskloom_plugins):
    contributed, other = Hooked("contributed"), Hooked("hooked")
    plugin = SimpleNamespace(taskloom_agents=hookimpl(lambda: [contributed, other]))
    taskloom_plugins.register(plugin, name="agents-plugin")
    assert AgentRegistry.get_agent("contributed") is contributed
    mine = Hooked("hooked")
    AgentRegistry.register(mine)
    assert AgentRegistry.get_agent("hooked") is mine
    assert {agent.task_category.name for agent in AgentRegistry.list_agents()} == {"contributed", "hooked"}


def test_an_agent_must_be_an_agent(fresh_registry):
    with pytest.raises(UserValueError, match="expected an AsyncAgentBase or SyncAgentBase"):
        AgentRegistry.register(object())  # type: ignore[arg-type]


def test_unimplemented_methods_say_which_agent(fresh_registry):
    class Partial(AsyncAgentBase):
        name = "Partial Agent"

    agent: Any = Partial(task_type_name="partial", metadata_type=QueryMeta)
    with pytest.raises(NotImplementedError, match="agent 'Partial Agent' does not implement get_logs"):
        agent.get_logs(QueryMeta("q", 1))
