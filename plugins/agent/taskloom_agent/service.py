"""The agent server: flyteidl's v1 agent services over gRPC, as FlytePropeller calls them.

``AsyncAgentService`` (CreateTask, GetTask, DeleteTask, GetTaskMetrics, GetTaskLogs), ``SyncAgentService``
(ExecuteTaskSync: a header with the template and output prefix, then the inputs) and
``AgentMetadataService`` (GetAgent, ListAgents), with gRPC health checking, on :mod:`grpc.aio`.

Why grpc.aio and not a thread-pool server: a call of an agent is mostly waiting (on a query engine, a cluster's
API) and an ``async def`` agent awaits on the server's one event loop, with no thread handover per call; plain
(``def``) agent methods run on a pool of ``workers`` threads so that a slow one does not stall the loop. A
thread-pool server pays a thread handover on every call and caps calls in flight at its workers. The calls
themselves convert only what the agent needs (the template and the inputs, through taskloom-flyte's codec)
and log nothing on the hot path.

A malformed request is answered, never a crash: no template, or one the codec cannot read, or resource metadata
the agent cannot decode, get INVALID_ARGUMENT; a task type with no agent NOT_FOUND; an agent that does not
implement metrics or logs UNIMPLEMENTED; an agent that raises INTERNAL naming the agent, the call and the error
(its traceback goes to the server's log).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from flyteidl.admin import agent_pb2
from flyteidl.core import tasks_pb2
from flyteidl.service import agent_pb2 as agent_service_pb2
from flyteidl.service import agent_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from taskloom.extend import TypeEngine
from taskloom_flyte import codec

from taskloom_agent.base import AgentBase, AgentRegistry, AsyncAgentBase, ResourceMeta, SyncAgentBase, is_async_method
from taskloom_agent.errors import AgentNotFoundError
from taskloom_agent.messages import agent_metadata, agents_by_name, outputs_literal_map, resource_to_proto

logger = logging.getLogger("taskloom_agent")


class InvalidRequest(Exception):
    """A request the server cannot act on; answered with INVALID_ARGUMENT and the message."""


class Calls:
    """Runs agents' methods: ``async def`` ones on the event loop, plain ones on a pool of threads."""

    def __init__(self, workers: int) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent")

    async def __call__(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        if is_async_method(method):
            return await method(**kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(method, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _category(request: Any) -> tuple[str, int]:
    # task_type is flyteidl's deprecated field, still sent by older propellers.
    if request.HasField("task_category") and request.task_category.name:
        return request.task_category.name, request.task_category.version
    if not request.task_type:
        raise InvalidRequest("the request names no task category (task_category or task_type)")
    return request.task_type, 0


def _template(message: Any, has_template: bool) -> Any:
    if not has_template:
        raise InvalidRequest("the request carries no task template")
    try:
        return _decoded_template(message.SerializeToString(deterministic=True))
    except codec.CodecError as error:
        raise InvalidRequest(f"the task template cannot be read: {error}") from error


@functools.lru_cache(maxsize=256)
def _decoded_template(data: bytes) -> Any:
    # FlytePropeller sends the same template with every execution of a task: each is decoded once (~80 us),
    # found again by its bytes (~1 us to write them). Contracts are frozen, so calls can share one.
    return codec.from_proto(tasks_pb2.TaskTemplate.FromString(data))


def _async_agent(name: str, version: int, call: str) -> AsyncAgentBase:
    agent = AgentRegistry.get_agent(name, version)
    if not isinstance(agent, AsyncAgentBase):
        raise InvalidRequest(
            f"agent {agent.name!r} of task type {name!r} is synchronous: call ExecuteTaskSync, not {call}"
        )
    return agent


def _resource_meta(agent: AsyncAgentBase, data: bytes) -> ResourceMeta:
    try:
        return agent.metadata_type.decode(data)
    except Exception as error:  # whatever the agent's decode raises for bytes it did not write
        raise InvalidRequest(
            f"resource_meta is not metadata of agent {agent.name!r} ({agent.metadata_type.__name__}): "
            f"{type(error).__name__}: {error}"
        ) from error


def _status_of(error: Exception, call: str, agent: AgentBase | None) -> tuple[grpc.StatusCode, str]:
    if isinstance(error, InvalidRequest):
        return grpc.StatusCode.INVALID_ARGUMENT, f"{call}: {error}"
    if isinstance(error, AgentNotFoundError):
        return grpc.StatusCode.NOT_FOUND, f"{call}: {error}"
    who = f"agent {agent.name!r}" if agent is not None else "the agent"
    if isinstance(error, NotImplementedError):
        return grpc.StatusCode.UNIMPLEMENTED, f"{call}: {who} does not implement it"
    logger.warning("%s: %s failed", call, who, exc_info=error)
    return grpc.StatusCode.INTERNAL, f"{call}: {who} failed: {type(error).__name__}: {error}"


def answering(call: str) -> Callable[[Any], Any]:
    """Turn a handler's errors into statuses (see the module docs); the handler sets ``state["agent"]``."""

    def decorate(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(handler)
        async def answer(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
            state: dict[str, Any] = {}
            try:
                return await handler(self, request, state)
            except Exception as error:
                code, details = _status_of(error, call, state.get("agent"))
            await context.abort(code, details)

        return answer

    return decorate


class AsyncAgentService(agent_pb2_grpc.AsyncAgentServiceServicer):
    """flyteidl's ``AsyncAgentService`` over the registry's asynchronous agents."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    @answering("CreateTask")
    async def CreateTask(self, request: agent_pb2.CreateTaskRequest, state: dict[str, Any]) -> Any:
        template = _template(request.template, request.HasField("template"))
        agent = state["agent"] = _async_agent(template.type, template.task_type_version, "CreateTask")
        inputs = codec.from_proto(request.inputs) if request.HasField("inputs") else None
        metadata = request.task_execution_metadata if request.HasField("task_execution_metadata") else None
        resource_meta = await self._calls(
            agent.create,
            task_template=template,
            output_prefix=request.output_prefix,
            inputs=inputs,
            task_execution_metadata=metadata,
        )
        return agent_pb2.CreateTaskResponse(resource_meta=resource_meta.encode())

    @answering("GetTask")
    async def GetTask(self, request: agent_pb2.GetTaskRequest, state: dict[str, Any]) -> Any:
        agent = state["agent"] = _async_agent(*_category(request), "GetTask")
        resource = await self._calls(agent.get, resource_meta=_resource_meta(agent, request.resource_meta))
        return agent_pb2.GetTaskResponse(resource=resource_to_proto(resource, agent=agent.name))

    @answering("DeleteTask")
    async def DeleteTask(self, request: agent_pb2.DeleteTaskRequest, state: dict[str, Any]) -> Any:
        agent = state["agent"] = _async_agent(*_category(request), "DeleteTask")
        await self._calls(agent.delete, resource_meta=_resource_meta(agent, request.resource_meta))
        return agent_pb2.DeleteTaskResponse()

    @answering("GetTaskMetrics")
    async def GetTaskMetrics(self, request: agent_pb2.GetTaskMetricsRequest, state: dict[str, Any]) -> Any:
        agent = state["agent"] = _async_agent(*_category(request), "GetTaskMetrics")
        return await self._calls(agent.get_metrics, resource_meta=_resource_meta(agent, request.resource_meta))

    async def GetTaskLogs(
        self, request: agent_pb2.GetTaskLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.GetTaskLogsResponse]:
        # A stream of responses; an agent returns one response (flytekit's shape) or a list of them.
        agent: AgentBase | None = None
        try:
            agent = _async_agent(*_category(request), "GetTaskLogs")
            answer = await self._calls(agent.get_logs, resource_meta=_resource_meta(agent, request.resource_meta))
        except Exception as error:
            code, details = _status_of(error, "GetTaskLogs", agent)
            await context.abort(code, details)
        for response in answer if isinstance(answer, (list, tuple)) else (answer,):
            yield response


class SyncAgentService(agent_pb2_grpc.SyncAgentServiceServicer):
    """flyteidl's ``SyncAgentService``: a header (template, output prefix), then the inputs; one answer."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    async def ExecuteTaskSync(
        self, request_iterator: AsyncIterator[agent_pb2.ExecuteTaskSyncRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[agent_pb2.ExecuteTaskSyncResponse]:
        agent: AgentBase | None = None
        try:
            first = await anext(request_iterator, None)
            if first is None or not first.HasField("header"):
                raise InvalidRequest("the first message carries no header")
            header = first.header
            template = _template(header.template, header.HasField("template"))
            agent = AgentRegistry.get_agent(template.type, template.task_type_version)
            if not isinstance(agent, SyncAgentBase):
                raise InvalidRequest(
                    f"agent {agent.name!r} of task type {template.type!r} is asynchronous: call CreateTask"
                )
            second = await anext(request_iterator, None)
            inputs = codec.from_proto(second.inputs) if second is not None and second.HasField("inputs") else None
            resource = await self._calls(
                agent.do, task_template=template, output_prefix=header.output_prefix, inputs=inputs
            )
            if isinstance(resource.outputs, dict) and template.interface is not None:
                # The template says the outputs' types: no guessing from the values.
                types = {name: TypeEngine.guess_python_type(v.type) for name, v in template.interface.outputs.items()}
                resource.outputs = outputs_literal_map(resource.outputs, types, agent=agent.name)
            answer = resource_to_proto(resource, agent=agent.name)
        except Exception as error:
            code, details = _status_of(error, "ExecuteTaskSync", agent)
            await context.abort(code, details)
        yield agent_pb2.ExecuteTaskSyncResponse(header=agent_pb2.ExecuteTaskSyncResponseHeader(resource=answer))


class AgentMetadataService(agent_pb2_grpc.AgentMetadataServiceServicer):
    """flyteidl's ``AgentMetadataService``: the agents served, by name."""

    async def GetAgent(self, request: agent_pb2.GetAgentRequest, context: grpc.aio.ServicerContext) -> Any:
        agents = agents_by_name().get(request.name)
        if not agents:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"GetAgent: no agent called {request.name!r}")
        return agent_pb2.GetAgentResponse(agent=agent_metadata(request.name, agents or []))

    async def ListAgents(self, request: agent_pb2.ListAgentsRequest, context: grpc.aio.ServicerContext) -> Any:
        return agent_pb2.ListAgentsResponse(
            agents=[agent_metadata(name, agents) for name, agents in agents_by_name().items()]
        )


class BearerToken(grpc.aio.ServerInterceptor):
    """Refuses, with UNAUTHENTICATED, every call without ``authorization: Bearer <token>`` metadata.

    Health checks pass without it: Kubernetes' probes and load balancers carry no token.
    """

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith("/grpc.health.v1.Health/"):
            return handler
        for key, value in details.invocation_metadata or ():
            given = value if isinstance(value, bytes) else value.encode()
            if key == "authorization" and hmac.compare_digest(given, self._expected):
                return handler
        return _refusal(handler, details.method)


def _refusal(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    message = (
        f"{method}: a bearer token is required (metadata 'authorization: Bearer <token>'), none or another was given"
    )

    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    kinds = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    make = kinds[(handler.request_streaming, handler.response_streaming)]
    return make(
        refuse, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )


def build_server(
    *, workers: int = 10, token: str | None = None
) -> tuple[grpc.aio.Server, health.aio.HealthServicer, Calls]:
    """A server with the three agent services and health checking, not yet bound nor started."""
    interceptors = [BearerToken(token)] if token else []
    # so_reuseport off: a second server on a taken port must fail to bind, not share it.
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    calls = Calls(workers)
    agent_pb2_grpc.add_AsyncAgentServiceServicer_to_server(AsyncAgentService(calls), server)
    agent_pb2_grpc.add_SyncAgentServiceServicer_to_server(SyncAgentService(calls), server)
    agent_pb2_grpc.add_AgentMetadataServiceServicer_to_server(AgentMetadataService(), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    return server, health_servicer, calls


async def set_serving(health_servicer: health.aio.HealthServicer) -> None:
    """Mark the server and each agent service SERVING."""
    for service in agent_service_pb2.DESCRIPTOR.services_by_name.values():
        await health_servicer.set(service.full_name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
