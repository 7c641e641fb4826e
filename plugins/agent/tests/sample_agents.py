"""The tests' agents and the tasks that run through them, imported by the tests and by `loom serve agent
--modules sample_agents` (the tests' directory is on the server's PYTHONPATH).

State lives in the resource metadata and in files under the output prefix, never in an agent's memory, so a
restarted server (or another process) finds every job again, as Flyte agents must.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import time
import uuid
from typing import Any

from taskloom.extend import Interface, LiteralMap, PythonFunctionTask, PythonTask, TaskMetadata
from taskloom_flyte import codec

from taskloom_agent import (
    AgentRegistry,
    AsyncAgentBase,
    AsyncAgentExecutorMixin,
    Resource,
    ResourceMeta,
    SyncAgentBase,
    SyncAgentExecutorMixin,
    TaskExecution,
    TaskLog,
)


@dataclasses.dataclass
class SleepMeta(ResourceMeta):
    job_id: str
    deadline: float
    output_prefix: str
    inputs: str  # the inputs' literal map, as protobuf bytes in hex: echoed back as the outputs


def _mark(prefix: str, name: str) -> None:
    if prefix and not prefix.startswith("s3://"):
        os.makedirs(prefix, exist_ok=True)
        with open(os.path.join(prefix, name), "a") as file:
            file.write(f"{os.getpid()}\n")


class SleepAgent(AsyncAgentBase):
    """Task type "sleep": a job that runs for its input `seconds` and gives `seconds` and its job id back."""

    name = "Sleep Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="sleep", metadata_type=SleepMeta)

    async def create(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> SleepMeta:
        seconds = inputs.literals["seconds"].scalar.primitive.float_value if inputs is not None else 0.0
        _mark(output_prefix, "created")
        if seconds >= 60:  # a long job is slow to create: an interruption arrives while create is in flight
            await asyncio.sleep(0.5)
        return SleepMeta(
            job_id=uuid.uuid4().hex,
            deadline=time.time() + seconds,
            output_prefix=output_prefix,
            inputs=codec.literal_map_to_bytes(inputs).hex() if inputs is not None else "",
        )

    async def get(self, resource_meta: SleepMeta, **kwargs: Any) -> Resource:
        if time.time() < resource_meta.deadline:
            return Resource(phase=TaskExecution.RUNNING, message="sleeping")
        inputs = codec.literal_map_from_bytes(bytes.fromhex(resource_meta.inputs))
        return Resource(
            phase=TaskExecution.SUCCEEDED,
            outputs={"slept": inputs.literals["seconds"].scalar.primitive.float_value, "job": resource_meta.job_id},
            log_links=[TaskLog(name="console", uri=f"https://jobs.example/{resource_meta.job_id}")],
        )

    async def delete(self, resource_meta: SleepMeta, **kwargs: Any) -> None:
        _mark(resource_meta.output_prefix, "deleted")

    def get_logs(self, resource_meta: SleepMeta, **kwargs: Any) -> Any:
        from flyteidl.admin import agent_pb2

        body = agent_pb2.GetTaskLogsResponseBody(results=[f"job {resource_meta.job_id} slept"])
        return agent_pb2.GetTaskLogsResponse(body=body)


@dataclasses.dataclass
class FailMeta(ResourceMeta):
    retryable: bool
    output_prefix: str


class FailingAgent(AsyncAgentBase):
    """Task type "fail": a job that fails at once (RETRYABLE_FAILED until a file says it was tried, when the
    input `retryable` is true); task type version 1 of it raises in create."""

    name = "Failing Agent"

    def __init__(self, version: int = 0) -> None:
        super().__init__(task_type_name="fail", task_type_version=version, metadata_type=FailMeta)

    def create(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> FailMeta:
        if self.task_category.version == 1:
            raise RuntimeError("the warehouse is closed")
        retryable = bool(inputs and inputs.literals["retryable"].scalar.primitive.boolean)
        _mark(output_prefix, "created")
        return FailMeta(retryable=retryable, output_prefix=output_prefix)

    def get(self, resource_meta: FailMeta, **kwargs: Any) -> Resource:
        if resource_meta.retryable:
            return Resource(phase=TaskExecution.RETRYABLE_FAILED, message="the queue was full")
        return Resource(phase=TaskExecution.FAILED, message="the query has a syntax error")

    def delete(self, resource_meta: FailMeta, **kwargs: Any) -> None:
        _mark(resource_meta.output_prefix, "deleted")


class FileOutputsAgent(AsyncAgentBase):
    """Task type "to-file": writes its outputs as outputs.pb under the output prefix and answers none."""

    name = "File Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="to-file", metadata_type=FailMeta)

    def create(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> FailMeta:
        os.makedirs(output_prefix, exist_ok=True)
        with open(os.path.join(output_prefix, "outputs.pb"), "wb") as file:
            file.write(codec.literal_map_to_bytes(inputs))  # the outputs are the inputs, under the same names
        return FailMeta(retryable=False, output_prefix=output_prefix)

    def get(self, resource_meta: FailMeta, **kwargs: Any) -> Resource:
        return Resource(phase=TaskExecution.SUCCEEDED)

    def delete(self, resource_meta: FailMeta, **kwargs: Any) -> None:
        pass


class EchoAgent(SyncAgentBase):
    """Task type "echo" (sync): its outputs are its inputs; an input `pause` makes it take that long (after it
    marks the output prefix "started")."""

    name = "Echo Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="echo")

    async def do(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> Resource:
        literals = dict(inputs.literals) if inputs is not None else {}
        pause = literals.pop("pause", None)
        if pause is not None:
            _mark(output_prefix, "started")
            await asyncio.sleep(pause.scalar.primitive.float_value)
        return Resource(phase=TaskExecution.SUCCEEDED, outputs=LiteralMap(literals=literals))


class ContainerRunAgent(AsyncAgentBase):
    """Task type "container-run": stands for an agent that runs the task's own container somewhere (flytekit's
    Databricks agent): it reads the inputs from the file the rendered arguments name and leaves `o0 = 2 * x` in
    outputs.pb, as the container's entrypoint would."""

    name = "Container Run Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="container-run", metadata_type=FailMeta)

    def create(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> FailMeta:
        args = list(task_template.container.args)
        path = args[args.index("--inputs") + 1]
        assert path == f"{output_prefix}/inputs.pb", args
        with open(path, "rb") as file:
            x = codec.literal_map_from_bytes(file.read()).literals["x"].scalar.primitive.integer
        doubled = LiteralMap(literals={"o0": codec.from_proto(_integer_literal(2 * x))})
        with open(os.path.join(output_prefix, "outputs.pb"), "wb") as file:
            file.write(codec.literal_map_to_bytes(doubled))
        return FailMeta(retryable=False, output_prefix=output_prefix)

    def get(self, resource_meta: FailMeta, **kwargs: Any) -> Resource:
        return Resource(phase=TaskExecution.SUCCEEDED)

    def delete(self, resource_meta: FailMeta, **kwargs: Any) -> None:
        pass


def _integer_literal(value: int) -> Any:
    from flyteidl.core import literals_pb2

    literal = literals_pb2.Literal()
    literal.scalar.primitive.integer = value
    return literal


for _agent in (
    SleepAgent(),
    FailingAgent(),
    FailingAgent(version=1),
    FileOutputsAgent(),
    EchoAgent(),
    ContainerRunAgent(),
):
    AgentRegistry.register(_agent, override=True)


class SleepTask(AsyncAgentExecutorMixin, PythonTask):  # type: ignore[misc]
    """A task run by the sleep agent."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        interface = Interface(inputs={"seconds": float}, outputs={"slept": float, "job": str})
        super().__init__(task_type="sleep", name=name, interface=interface, **kwargs)


class FailTask(AsyncAgentExecutorMixin, PythonTask):  # type: ignore[misc]
    """A task run by the failing agent (``version=1``: one whose create raises)."""

    def __init__(self, name: str, version: int = 0, **kwargs: Any) -> None:
        interface = Interface(inputs={"retryable": bool}, outputs={})
        super().__init__(task_type="fail", name=name, interface=interface, task_type_version=version, **kwargs)


class FileTask(AsyncAgentExecutorMixin, PythonTask):  # type: ignore[misc]
    """A task run by the agent that leaves its outputs in a file."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        interface = Interface(inputs={"word": str, "count": int}, outputs={"word": str, "count": int})
        super().__init__(task_type="to-file", name=name, interface=interface, **kwargs)


class EchoTask(SyncAgentExecutorMixin, PythonTask):  # type: ignore[misc]
    """A task run by the echo agent."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        interface = Interface(inputs={"text": str}, outputs={"text": str})
        super().__init__(task_type="echo", name=name, interface=interface, **kwargs)


#: A task with a timeout, at the top level of this module so that the executor can run it in a worker process
#: (which it kills at the deadline).
# 2 s: the job is deleted half a second before the executor stops the attempt, room for a loaded machine.
short_nap = SleepTask("sample_agents.short_nap", metadata=TaskMetadata(timeout=dt.timedelta(seconds=2)))


class ContainerRunTask(AsyncAgentExecutorMixin, PythonFunctionTask):  # type: ignore[misc]
    """A Python function task whose container an agent runs (its template's arguments name the inputs file)."""


def double(x: int) -> int:
    return 2 * x


doubled = ContainerRunTask(None, double, task_type="container-run")
