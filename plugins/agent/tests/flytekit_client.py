"""flytekit 1.16's side of the tests, as FlytePropeller calls an agent: task templates and inputs serialized by
flytekit, sent with flyteidl's stubs to the server at argv[1]; prints what came back as JSON.

Run only by flytekit's interpreter (`python flytekit_client.py HOST:PORT`).
"""

from __future__ import annotations

import json
import sys
import time
from collections import OrderedDict

import grpc
from flyteidl.admin import agent_pb2
from flyteidl.service import agent_pb2_grpc
from flytekit import FlyteContextManager
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.base_task import PythonTask
from flytekit.core.interface import Interface
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap
from flytekit.tools.translator import get_serializable

SETTINGS = SerializationSettings(
    project="p", domain="d", version="v1", image_config=ImageConfig(default_image=Image(name="d", fqn="img", tag="1"))
)


def template_and_inputs(task: PythonTask, **values: object) -> tuple:
    context = FlyteContextManager.current_context()
    template = get_serializable(OrderedDict(), SETTINGS, task).template.to_flyte_idl()
    inputs = TypeEngine.dict_to_literal_map(context, values, task.python_interface.inputs)
    return template, inputs.to_flyte_idl()


def outputs_of(resource: agent_pb2.Resource, types: dict) -> dict:
    context = FlyteContextManager.current_context()
    literal_map = LiteralMap.from_flyte_idl(resource.outputs)
    return TypeEngine.literal_map_to_kwargs(context, literal_map, types)


def main(endpoint: str) -> None:
    results: dict = {}
    with grpc.insecure_channel(endpoint) as channel:
        stub = agent_pb2_grpc.AsyncAgentServiceStub(channel)
        sleep = PythonTask(
            task_type="sleep",
            name="flows.sleep",
            task_config=None,
            interface=Interface(inputs={"seconds": float}, outputs={"slept": float, "job": str}),
        )
        template, inputs = template_and_inputs(sleep, seconds=0.2)
        meta = stub.CreateTask(
            agent_pb2.CreateTaskRequest(template=template, inputs=inputs, output_prefix="/tmp/x")
        ).resource_meta
        category = agent_pb2.TaskCategory(name=template.type, version=template.task_type_version)
        phases = []
        while True:
            resource = stub.GetTask(agent_pb2.GetTaskRequest(task_category=category, resource_meta=meta)).resource
            phases.append(resource.phase)
            if resource.phase not in (0, 1, 2, 6, 7):
                break
            time.sleep(0.05)
        results["sleep"] = {
            "phases": sorted(set(phases)),
            "outputs": outputs_of(resource, {"slept": float, "job": str}),
        }
        stub.DeleteTask(agent_pb2.DeleteTaskRequest(task_category=category, resource_meta=meta))

        echo = PythonTask(
            task_type="echo",
            name="flows.echo",
            task_config=None,
            interface=Interface(inputs={"text": str}, outputs={"text": str}),
        )
        template, inputs = template_and_inputs(echo, text="from flytekit")
        header = agent_pb2.CreateRequestHeader(template=template, output_prefix="/tmp/x")
        requests = [agent_pb2.ExecuteTaskSyncRequest(header=header), agent_pb2.ExecuteTaskSyncRequest(inputs=inputs)]
        (response,) = agent_pb2_grpc.SyncAgentServiceStub(channel).ExecuteTaskSync(iter(requests))
        results["echo"] = outputs_of(response.header.resource, {"text": str})

        unknown = PythonTask(task_type="no-such-type", name="flows.unknown", task_config=None, interface=Interface())
        template, _ = template_and_inputs(unknown)
        try:
            stub.CreateTask(agent_pb2.CreateTaskRequest(template=template))
        except grpc.RpcError as error:
            results["unknown"] = [error.code().name, error.details()]

        metadata = agent_pb2_grpc.AgentMetadataServiceStub(channel)
        results["agents"] = sorted(agent.name for agent in metadata.ListAgents(agent_pb2.ListAgentsRequest()).agents)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
