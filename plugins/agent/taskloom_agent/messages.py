"""The agent API's objects to and from flyteidl's agent messages (``flyteidl.admin.agent_pb2``).

Templates and literal maps go through taskloom-flyte's codec; this module adds what the agent API has of its
own: :class:`~taskloom_agent.base.Resource` (phases, log links, outputs given as Python values) and task
categories. Imported by the server and the remote client only: protobuf is a wire concern.
"""

from __future__ import annotations

import json
from typing import Any

from flyteidl.admin import agent_pb2
from flyteidl.core import execution_pb2
from google.protobuf import json_format
from taskloom.extend import FlyteContextManager, LiteralMap, TypeEngine, UserValueError
from taskloom_flyte import codec

from taskloom_agent.base import AgentBase, AgentRegistry, Resource, SyncAgentBase, TaskLog


def outputs_literal_map(outputs: Any, types: dict[str, Any] | None = None, *, agent: str = "") -> LiteralMap | None:
    """A resource's ``outputs`` as a literal map: a literal map as it is, a dict of Python values converted with
    ``types`` (name -> Python type) or, without, with the type of each value (a list or dict typed by its
    first item, as flytekit guesses)."""
    if outputs is None or isinstance(outputs, LiteralMap):
        return outputs
    if not isinstance(outputs, dict):
        raise UserValueError(f"agent {agent!r}: outputs expects a LiteralMap or a dict, got {type(outputs).__name__}")
    hints = types if types is not None else {name: _guess_type(value) for name, value in outputs.items()}
    context = FlyteContextManager.current_context()
    return TypeEngine.dict_to_literal_map(context, outputs, hints, entity=f"agent {agent!r}", direction="output")


def _guess_type(value: Any) -> Any:
    if isinstance(value, list) and value:
        return list[_guess_type(value[0])]  # type: ignore[misc]
    if isinstance(value, dict) and value:
        key, item = next(iter(value.items()))
        return dict[_guess_type(key), _guess_type(item)]  # type: ignore[misc]
    return type(value)


#: Python types written straight into a flyteidl ``Primitive`` field (bool is not an int here: exact types).
_PRIMITIVES = {bool: "boolean", int: "integer", float: "float_value", str: "string_value"}


def resource_to_proto(resource: Resource, *, agent: str = "") -> agent_pb2.Resource:
    """``resource`` as flyteidl's ``admin.Resource``."""
    if not isinstance(resource, Resource):
        raise UserValueError(f"agent {agent!r}: expected a Resource, got {type(resource).__name__}")
    message = agent_pb2.Resource(phase=int(resource.phase), message=resource.message or "")
    for link in resource.log_links or ():
        if isinstance(link, execution_pb2.TaskLog):
            message.log_links.append(link)
        else:
            message.log_links.add(name=link.name, uri=link.uri)
    outputs = resource.outputs
    if isinstance(outputs, dict) and all(type(value) in _PRIMITIVES for value in outputs.values()):
        # The common answer (a count, an id, a URI) written directly, as the type engine would write it.
        for name, value in outputs.items():
            setattr(message.outputs.literals[name].scalar.primitive, _PRIMITIVES[type(value)], value)
    else:
        literal_map = outputs_literal_map(outputs, agent=agent)
        if literal_map is not None:
            message.outputs.CopyFrom(codec.to_proto(literal_map))
    if resource.custom_info:
        json_format.Parse(json.dumps(resource.custom_info), message.custom_info)
    return message


def resource_from_proto(message: agent_pb2.Resource) -> Resource:
    """flyteidl's ``admin.Resource`` as a :class:`~taskloom_agent.base.Resource` (outputs a literal map)."""
    return Resource(
        phase=message.phase,
        message=message.message or None,
        log_links=[TaskLog(link.name, link.uri) for link in message.log_links] or None,
        outputs=codec.from_proto(message.outputs) if message.HasField("outputs") else None,
        custom_info=json_format.MessageToDict(message.custom_info) if message.HasField("custom_info") else None,
    )


def agent_metadata(name: str, agents: list[AgentBase]) -> agent_pb2.Agent:
    """flyteidl's ``admin.Agent`` of the agents called ``name``: the task categories they run."""
    message = agent_pb2.Agent(name=name, is_sync=all(isinstance(agent, SyncAgentBase) for agent in agents))
    for agent in agents:
        message.supported_task_types.append(agent.task_category.name)
        message.supported_task_categories.add(name=agent.task_category.name, version=agent.task_category.version)
    return message


def agents_by_name() -> dict[str, list[AgentBase]]:
    """The registry's agents grouped by name, as ``ListAgents`` shows them."""
    named: dict[str, list[AgentBase]] = {}
    for agent in AgentRegistry.list_agents():
        named.setdefault(agent.name, []).append(agent)
    return named
