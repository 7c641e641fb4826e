"""``loom serve agent`` speaks flyteidl's v1 agent services: called here as FlytePropeller calls it, with
flyteidl's own stubs over a real socket, against the sample agents in a server subprocess."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any

import grpc
import pytest
import sample_agents
from flyteidl.admin import agent_pb2
from flyteidl.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl.service import agent_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from taskloom.extend import SerializationSettings
from taskloom_flyte import codec


@pytest.fixture(scope="module")
def channel(server: Any) -> Any:
    with grpc.insecure_channel(server.endpoint) as opened:
        yield opened


@pytest.fixture(scope="module")
def stub(channel: Any) -> Any:
    return agent_pb2_grpc.AsyncAgentServiceStub(channel)


def template_of(task: Any) -> tasks_pb2.TaskTemplate:
    return codec.to_proto(task.to_task_template(SerializationSettings()))


def float_inputs(**values: float) -> literals_pb2.LiteralMap:
    inputs = literals_pb2.LiteralMap()
    for name, value in values.items():
        inputs.literals[name].scalar.primitive.float_value = value
    return inputs


SLEEP = template_of(sample_agents.SleepTask("jobs.sleep"))


def create_sleep(stub: Any, seconds: float, prefix: str = "") -> bytes:
    request = agent_pb2.CreateTaskRequest(template=SLEEP, inputs=float_inputs(seconds=seconds), output_prefix=prefix)
    return stub.CreateTask(request, timeout=10).resource_meta


def get(stub: Any, meta: bytes, task_type: str = "sleep") -> Any:
    category = agent_pb2.TaskCategory(name=task_type, version=0)
    return stub.GetTask(agent_pb2.GetTaskRequest(task_category=category, resource_meta=meta), timeout=10).resource


def test_an_async_job_runs_from_create_to_its_outputs(stub):
    meta = create_sleep(stub, 0.3)
    deadline = time.monotonic() + 10
    while (resource := get(stub, meta)).phase != 3:  # TaskExecution.SUCCEEDED
        assert time.monotonic() < deadline
        time.sleep(0.05)
    outputs = codec.from_proto(resource.outputs)
    assert outputs.literals["slept"].scalar.primitive.float_value == 0.3
    assert outputs.literals["job"].scalar.primitive.string_value == sample_agents.SleepMeta.decode(meta).job_id
    assert [(link.name, link.uri) for link in resource.log_links] == [
        ("console", f"https://jobs.example/{sample_agents.SleepMeta.decode(meta).job_id}")
    ]


def test_a_running_job_says_running(stub):
    meta = create_sleep(stub, 30)
    resource = get(stub, meta)
    assert (resource.phase, resource.message) == (2, "sleeping")  # TaskExecution.RUNNING


def test_the_deprecated_task_type_field_still_finds_the_agent(stub):
    meta = create_sleep(stub, 0)
    resource = stub.GetTask(agent_pb2.GetTaskRequest(task_type="sleep", resource_meta=meta), timeout=10).resource
    assert resource.phase == 3


def test_delete_reaches_the_agent(stub, tmp_path):
    meta = create_sleep(stub, 30, prefix=str(tmp_path))
    category = agent_pb2.TaskCategory(name="sleep")
    stub.DeleteTask(agent_pb2.DeleteTaskRequest(task_category=category, resource_meta=meta), timeout=10)
    assert (tmp_path / "deleted").exists()


def test_a_failing_job_reports_failed_with_its_message(stub):
    template = template_of(sample_agents.FailTask("jobs.fail"))
    inputs = literals_pb2.LiteralMap()
    inputs.literals["retryable"].scalar.primitive.boolean = False
    meta = stub.CreateTask(agent_pb2.CreateTaskRequest(template=template, inputs=inputs), timeout=10).resource_meta
    resource = get(stub, meta, "fail")
    assert (resource.phase, resource.message) == (5, "the query has a syntax error")  # TaskExecution.FAILED


def test_an_agent_that_raises_gives_internal_naming_agent_and_error(stub):
    template = template_of(sample_agents.FailTask("jobs.explode", version=1))
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateTask(agent_pb2.CreateTaskRequest(template=template), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert raised.value.details() == "CreateTask: agent 'Failing Agent' failed: RuntimeError: the warehouse is closed"


def test_execute_task_sync_answers_header_then_inputs(channel):
    template = template_of(sample_agents.EchoTask("jobs.echo"))
    inputs = literals_pb2.LiteralMap()
    inputs.literals["text"].scalar.primitive.string_value = "hello"
    header = agent_pb2.CreateRequestHeader(template=template, output_prefix="/tmp/nowhere")
    requests = [agent_pb2.ExecuteTaskSyncRequest(header=header), agent_pb2.ExecuteTaskSyncRequest(inputs=inputs)]
    responses = list(agent_pb2_grpc.SyncAgentServiceStub(channel).ExecuteTaskSync(iter(requests), timeout=10))
    assert len(responses) == 1
    resource = responses[0].header.resource
    assert resource.phase == 3
    assert resource.outputs.literals["text"].scalar.primitive.string_value == "hello"


def test_list_and_get_agents_describe_what_is_served(channel):
    metadata = agent_pb2_grpc.AgentMetadataServiceStub(channel)
    listed = {agent.name: agent for agent in metadata.ListAgents(agent_pb2.ListAgentsRequest(), timeout=10).agents}
    assert {"Sleep Agent", "Failing Agent", "Echo Agent", "File Agent"} <= set(listed)
    failing = metadata.GetAgent(agent_pb2.GetAgentRequest(name="Failing Agent"), timeout=10).agent
    assert sorted((c.name, c.version) for c in failing.supported_task_categories) == [("fail", 0), ("fail", 1)]
    assert listed["Echo Agent"].is_sync and not listed["Sleep Agent"].is_sync
    with pytest.raises(grpc.RpcError) as raised:
        metadata.GetAgent(agent_pb2.GetAgentRequest(name="Nobody"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_logs_come_from_the_agent_and_metrics_it_lacks_are_unimplemented(stub):
    meta = create_sleep(stub, 0)
    category = agent_pb2.TaskCategory(name="sleep")
    responses = list(stub.GetTaskLogs(agent_pb2.GetTaskLogsRequest(task_category=category, resource_meta=meta)))
    job = sample_agents.SleepMeta.decode(meta).job_id
    assert [line for r in responses for line in r.body.results] == [f"job {job} slept"]
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetTaskMetrics(agent_pb2.GetTaskMetricsRequest(task_category=category, resource_meta=meta), timeout=10)
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "does not implement" in raised.value.details()


def test_health_checking_says_serving_for_the_server_and_each_service(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "flyteidl.service.AsyncAgentService", "flyteidl.service.SyncAgentService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("call", "request_", "code", "words"),
    [
        ("CreateTask", agent_pb2.CreateTaskRequest(output_prefix="x"), "INVALID_ARGUMENT", "carries no task template"),
        (
            "CreateTask",
            agent_pb2.CreateTaskRequest(
                template=tasks_pb2.TaskTemplate(
                    type="sleep",
                    interface=interface_pb2.TypedInterface(
                        inputs=interface_pb2.VariableMap(
                            variables={"x": interface_pb2.Variable(type=types_pb2.LiteralType(simple=99))}
                        )
                    ),
                )
            ),
            "INVALID_ARGUMENT",
            "the task template cannot be read: cannot decode flyteidl.core.TaskTemplate: at interface.inputs",
        ),
        (
            "CreateTask",
            agent_pb2.CreateTaskRequest(template=tasks_pb2.TaskTemplate(type="no-such-type")),
            "NOT_FOUND",
            "no agent for task type 'no-such-type' version 0",
        ),
        (
            "GetTask",
            agent_pb2.GetTaskRequest(task_category=agent_pb2.TaskCategory(name="sleep"), resource_meta=b"\x00garbage"),
            "INVALID_ARGUMENT",
            "resource_meta is not metadata of agent 'Sleep Agent' (SleepMeta)",
        ),
        (
            "GetTask",
            agent_pb2.GetTaskRequest(task_category=agent_pb2.TaskCategory(name="sleep"), resource_meta=b'{"x": 1}'),
            "INVALID_ARGUMENT",
            "unexpected keyword argument 'x'",
        ),
        ("GetTask", agent_pb2.GetTaskRequest(resource_meta=b"{}"), "INVALID_ARGUMENT", "names no task category"),
        (
            "DeleteTask",
            agent_pb2.DeleteTaskRequest(task_category=agent_pb2.TaskCategory(name="sleep", version=7)),
            "NOT_FOUND",
            "no agent for task type 'sleep' version 7",
        ),
        (
            "GetTask",
            agent_pb2.GetTaskRequest(task_category=agent_pb2.TaskCategory(name="echo"), resource_meta=b"{}"),
            "INVALID_ARGUMENT",
            "is synchronous: call ExecuteTaskSync",
        ),
    ],
)
def test_malformed_requests_get_a_status_with_a_message_and_the_server_lives_on(stub, call, request_, code, words):
    with pytest.raises(grpc.RpcError) as raised:
        getattr(stub, call)(request_, timeout=10)
    assert raised.value.code() == getattr(grpc.StatusCode, code)
    assert words in raised.value.details()
    assert get(stub, create_sleep(stub, 0)).phase == 3  # still serving


def test_execute_task_sync_without_header_or_with_an_async_agent_is_invalid(channel):
    sync = agent_pb2_grpc.SyncAgentServiceStub(channel)
    inputs_only = [agent_pb2.ExecuteTaskSyncRequest(inputs=literals_pb2.LiteralMap())]
    with pytest.raises(grpc.RpcError) as raised:
        list(sync.ExecuteTaskSync(iter(inputs_only), timeout=10))
    assert (raised.value.code(), raised.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ExecuteTaskSync: the first message carries no header",
    )
    header = agent_pb2.CreateRequestHeader(template=SLEEP)
    with pytest.raises(grpc.RpcError) as raised:
        list(sync.ExecuteTaskSync(iter([agent_pb2.ExecuteTaskSyncRequest(header=header)]), timeout=10))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is asynchronous: call CreateTask" in raised.value.details()


def test_two_hundred_concurrent_jobs_are_neither_lost_nor_duplicated(stub):
    def one(index: int) -> tuple[str, float]:
        meta = create_sleep(stub, index / 1000)
        while (resource := get(stub, meta)).phase != 3:
            time.sleep(0.01)
        outputs = resource.outputs.literals
        return outputs["job"].scalar.primitive.string_value, outputs["slept"].scalar.primitive.float_value

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(200)))
    jobs = [job for job, _ in results]
    assert len(set(jobs)) == 200  # every create made its own job
    assert [slept for _, slept in results] == [index / 1000 for index in range(200)]  # each got its own answer
