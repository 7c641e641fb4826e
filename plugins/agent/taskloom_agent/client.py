"""A client of an agent server (ours or any Flyte agent server, e.g. flytekit's ``pyflyte serve agent``).

It speaks flyteidl's v1 agent services with the agent API's objects: templates and literal maps are taskloom's
contracts, converted by taskloom-flyte's codec; answers are :class:`~taskloom_agent.base.Resource`. A server
that is UNAVAILABLE (restarting, not yet up) is called again with backoff until ``patience`` seconds have
passed, so a job survives a restart of a server whose agents keep their state in the resource metadata, as Flyte
agents must. Any other error status is an :class:`~taskloom_agent.errors.AgentTaskError` naming the call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from flyteidl.admin import agent_pb2
from flyteidl.service import agent_pb2_grpc
from taskloom_flyte import codec

from taskloom_agent.base import Resource, TaskCategory
from taskloom_agent.errors import AgentConnectionError, AgentNotFoundError, AgentTaskError
from taskloom_agent.messages import resource_from_proto

#: Seconds a call waits for its answer once the server is reached.
CALL_TIMEOUT = 60.0


class AgentClient:
    """The agents of the server at ``endpoint`` (``host:port``); TLS when ``tls_ca`` (a PEM file) is given,
    with the bearer token read from ``token_file`` when given."""

    def __init__(
        self,
        endpoint: str,
        *,
        token_file: str | Path | None = None,
        tls_ca: str | Path | None = None,
        patience: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self.name = f"agent server {endpoint}"
        self.patience = patience
        if tls_ca:
            credentials = grpc.ssl_channel_credentials(root_certificates=Path(tls_ca).read_bytes())
            self._channel = grpc.secure_channel(endpoint, credentials)
        else:
            self._channel = grpc.insecure_channel(endpoint)
        token = Path(token_file).read_text().strip() if token_file else ""
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._async = agent_pb2_grpc.AsyncAgentServiceStub(self._channel)
        self._sync = agent_pb2_grpc.SyncAgentServiceStub(self._channel)

    def create(self, template: Any, output_prefix: str, inputs: Any) -> bytes:
        """CreateTask: start a job; its resource metadata, as bytes."""
        request = agent_pb2.CreateTaskRequest(template=codec.to_proto(template), output_prefix=output_prefix)
        if inputs is not None:
            request.inputs.CopyFrom(codec.to_proto(inputs))
        response = self._call("CreateTask", self._async.CreateTask, request)
        return bytes(response.resource_meta)

    def get(self, category: TaskCategory, resource_meta: bytes) -> Resource:
        """GetTask: the job's state."""
        request = agent_pb2.GetTaskRequest(
            task_type=category.name, task_category=_category(category), resource_meta=resource_meta
        )
        return resource_from_proto(self._call("GetTask", self._async.GetTask, request).resource)

    def delete(self, category: TaskCategory, resource_meta: bytes, *, patience: float | None = None) -> None:
        """DeleteTask: cancel the job."""
        request = agent_pb2.DeleteTaskRequest(
            task_type=category.name, task_category=_category(category), resource_meta=resource_meta
        )
        self._call("DeleteTask", self._async.DeleteTask, request, patience=patience)

    def logs(self, category: TaskCategory, resource_meta: bytes) -> list[str]:
        """GetTaskLogs: the job's log lines; none when the agent keeps no logs (UNIMPLEMENTED)."""
        request = agent_pb2.GetTaskLogsRequest(
            task_type=category.name, task_category=_category(category), resource_meta=resource_meta
        )

        def read(message: Any, timeout: float, metadata: Any) -> list[str]:
            stream = self._async.GetTaskLogs(message, timeout=timeout, metadata=metadata)
            return [line for response in stream if response.HasField("body") for line in response.body.results]

        try:
            return self._call("GetTaskLogs", read, request)
        except AgentTaskError as error:
            cause = error.__cause__
            # flytekit's server answers an agent without get_logs with UNKNOWN "Unexpected NotImplementedError".
            if isinstance(cause, grpc.RpcError) and (
                cause.code() == grpc.StatusCode.UNIMPLEMENTED or "NotImplementedError" in (cause.details() or "")
            ):
                return []
            raise

    def do(self, template: Any, output_prefix: str, inputs: Any) -> Resource:
        """ExecuteTaskSync: a header (template, output prefix), then the inputs; the one answer."""
        header = agent_pb2.CreateRequestHeader(template=codec.to_proto(template), output_prefix=output_prefix)
        messages = [agent_pb2.ExecuteTaskSyncRequest(header=header)]
        if inputs is not None:
            messages.append(agent_pb2.ExecuteTaskSyncRequest(inputs=codec.to_proto(inputs)))

        def execute(_: Any, timeout: float, metadata: Any) -> Any:
            responses = list(self._sync.ExecuteTaskSync(iter(messages), timeout=timeout, metadata=metadata))
            return responses[0].header.resource

        return resource_from_proto(self._call("ExecuteTaskSync", execute, None))

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def _call(self, name: str, method: Callable[..., Any], request: Any, *, patience: float | None = None) -> Any:
        deadline = time.monotonic() + (self.patience if patience is None else patience)
        delay = 0.05
        while True:
            try:
                return method(request, timeout=CALL_TIMEOUT, metadata=self._metadata)
            except grpc.RpcError as error:
                code = error.code()
                if code == grpc.StatusCode.CANCELLED and name in _REPEATABLE:
                    # A server stopping cancels the calls still in flight once its grace is over: a read is
                    # repeated as when it was unavailable (a create is not: it may have made its job).
                    code = grpc.StatusCode.UNAVAILABLE
                if code == grpc.StatusCode.UNAVAILABLE and time.monotonic() + delay < deadline:
                    time.sleep(delay)  # restarting, or not up yet: the call is safe to repeat
                    delay = min(delay * 2, 2.0)
                    continue
                detail = f"agent server {self.endpoint}: {name}: {error.code().name}: {error.details()}"
                if code == grpc.StatusCode.UNAVAILABLE:
                    raise AgentConnectionError(f"{detail} (still unavailable after {self.patience:g} s)") from error
                if code == grpc.StatusCode.NOT_FOUND:
                    raise AgentNotFoundError(detail) from error
                raise AgentTaskError(detail) from error


#: Calls that only read, so that repeating one a stopping server cancelled is safe.
_REPEATABLE = frozenset({"GetTask", "GetTaskLogs", "GetTaskMetrics", "GetAgent", "ListAgents"})


def _category(category: TaskCategory) -> agent_pb2.TaskCategory:
    return agent_pb2.TaskCategory(name=category.name, version=category.version)
