"""flytekit 1.16's side of the tests: agents written against flytekit, served by `pyflyte serve agent --modules
flytekit_agents` in flytekit's virtual environment, with the task types and outputs of sample_agents, so the
same taskloom tasks run against either server.

Run only by flytekit's interpreter; taskloom never imports it.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

from flyteidl.core.execution_pb2 import TaskExecution
from flytekit.extend.backend.base_agent import (
    AgentRegistry,
    AsyncAgentBase,
    Resource,
    ResourceMeta,
    SyncAgentBase,
)
from flytekit.models.literals import LiteralMap


@dataclasses.dataclass
class NapMeta(ResourceMeta):
    job_id: str
    deadline: float
    seconds: float


class NapAgent(AsyncAgentBase):
    name = "Flytekit Sleep Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="sleep", metadata_type=NapMeta)

    async def create(
        self, task_template: Any, output_prefix: str, inputs: LiteralMap | None = None, **kwargs: Any
    ) -> NapMeta:
        seconds = inputs.literals["seconds"].scalar.primitive.float_value if inputs else 0.0
        return NapMeta(job_id=uuid.uuid4().hex, deadline=time.time() + seconds, seconds=seconds)

    async def get(self, resource_meta: NapMeta, **kwargs: Any) -> Resource:
        if time.time() < resource_meta.deadline:
            return Resource(phase=TaskExecution.RUNNING)
        return Resource(
            phase=TaskExecution.SUCCEEDED, outputs={"slept": resource_meta.seconds, "job": resource_meta.job_id}
        )

    async def delete(self, resource_meta: NapMeta, **kwargs: Any) -> None:
        return None


@dataclasses.dataclass
class FailMeta(ResourceMeta):
    retryable: bool


class FailAgent(AsyncAgentBase):
    name = "Flytekit Failing Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="fail", metadata_type=FailMeta)

    async def create(
        self, task_template: Any, output_prefix: str, inputs: LiteralMap | None = None, **kwargs: Any
    ) -> FailMeta:
        return FailMeta(retryable=False)

    async def get(self, resource_meta: FailMeta, **kwargs: Any) -> Resource:
        return Resource(phase=TaskExecution.FAILED, message="flytekit's agent says no")

    async def delete(self, resource_meta: FailMeta, **kwargs: Any) -> None:
        return None


class EchoAgent(SyncAgentBase):
    name = "Flytekit Echo Agent"

    def __init__(self) -> None:
        super().__init__(task_type_name="echo")

    async def do(
        self, task_template: Any, output_prefix: str, inputs: LiteralMap | None = None, **kwargs: Any
    ) -> Resource:
        return Resource(phase=TaskExecution.SUCCEEDED, outputs=inputs)


for agent in (NapAgent(), FailAgent(), EchoAgent()):
    AgentRegistry.register(agent, override=True)
