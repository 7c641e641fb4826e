"""The agent author's API, with flytekit 1.16's names and signatures (``flytekit.extend.backend.base_agent``).

An agent runs the tasks of one task type (and version) somewhere else: it is given the task's template,
its inputs as a literal map and a prefix for its outputs. An :class:`AsyncAgentBase` starts a job
(``create``, returning a :class:`ResourceMeta` that the caller keeps as bytes), is polled (``get``, returning
a :class:`Resource`) and may be cancelled (``delete``); a :class:`SyncAgentBase` answers at once (``do``).
Templates and literal maps are taskloom's contracts (:mod:`taskloom.models`), not protobuf: the server
converts at the wire.

Agents reach :class:`AgentRegistry` through the hook ``taskloom_agents`` (a plugin returns instances; nothing
happens at import) or, as in flytekit, by ``AgentRegistry.register(agent)`` in a module ``loom serve agent
--modules`` imports.

No grpc or protobuf here: an agent author's module and a task using an agent import this cheaply.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import json
import threading
from typing import Any, ClassVar

from taskloom.extend import UserValueError, contributed_agents

from taskloom_agent.errors import AgentNotFoundError


class TaskExecution:
    """The phases of a task execution, numbered as flyteidl's ``core.TaskExecution.Phase``, so an agent
    ported from flytekit that writes ``TaskExecution.SUCCEEDED`` (an ``int``) means the same here."""

    class Phase(enum.IntEnum):
        UNDEFINED = 0
        QUEUED = 1
        RUNNING = 2
        SUCCEEDED = 3
        ABORTED = 4
        FAILED = 5
        INITIALIZING = 6
        WAITING_FOR_RESOURCES = 7
        RETRYABLE_FAILED = 8

    UNDEFINED = Phase.UNDEFINED
    QUEUED = Phase.QUEUED
    RUNNING = Phase.RUNNING
    SUCCEEDED = Phase.SUCCEEDED
    ABORTED = Phase.ABORTED
    FAILED = Phase.FAILED
    INITIALIZING = Phase.INITIALIZING
    WAITING_FOR_RESOURCES = Phase.WAITING_FOR_RESOURCES
    RETRYABLE_FAILED = Phase.RETRYABLE_FAILED


TERMINAL_PHASES = frozenset(
    {TaskExecution.SUCCEEDED, TaskExecution.ABORTED, TaskExecution.FAILED, TaskExecution.RETRYABLE_FAILED}
)


def is_terminal_phase(phase: int) -> bool:
    """Whether a job in ``phase`` is over (succeeded, aborted, failed or failed retryably)."""
    return phase in TERMINAL_PHASES


def convert_to_flyte_phase(state: str) -> TaskExecution.Phase:
    """A backend's state word (``"done"``, ``"running"``, ``"failed"``...) as a phase, as flytekit maps it."""
    word = state.lower()
    if word in ("failed", "timeout", "timedout", "canceled", "cancelled", "skipped"):
        return TaskExecution.FAILED
    if word == "internal_error":
        return TaskExecution.RETRYABLE_FAILED
    if word in ("done", "succeeded", "success", "completed"):
        return TaskExecution.SUCCEEDED
    if word in ("running", "terminating"):
        return TaskExecution.RUNNING
    if word == "pending":
        return TaskExecution.INITIALIZING
    raise UserValueError(f"agent state {state!r} is not one of flytekit's: failed, done, running, pending...")


class TaskCategory:
    """What an agent runs: a task type and its version (flyteidl ``admin.TaskCategory``)."""

    __slots__ = ("_name", "_version")

    def __init__(self, name: str, version: int = 0) -> None:
        self._name = name
        self._version = version

    @property
    def name(self) -> str:
        """The task type (a template's ``type``)."""
        return self._name

    @property
    def version(self) -> int:
        """The task type's version (a template's ``task_type_version``)."""
        return self._version

    def __hash__(self) -> int:
        return hash((self._name, self._version))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskCategory) and (self._name, self._version) == (other._name, other._version)

    def __repr__(self) -> str:
        return f"TaskCategory(name={self._name!r}, version={self._version})"

    def __str__(self) -> str:
        return f"{self._name}_v{self._version}"


@dataclasses.dataclass
class ResourceMeta:
    """What an async agent needs to find its job again (a job id...): subclass it as a dataclass.

    The caller keeps it as bytes (:meth:`encode`, JSON of the fields, as flytekit writes it) and hands it
    back to ``get`` and ``delete`` through :meth:`decode`, possibly in another process or after the server
    restarted: keep everything the job needs in it, not in the agent's memory.
    """

    def encode(self) -> bytes:
        """The fields as JSON bytes."""
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def decode(cls, data: bytes) -> ResourceMeta:
        """The metadata :meth:`encode` wrote. Raises :class:`ValueError` (or ``TypeError``) for bytes that
        are not this class's JSON; the server answers those with INVALID_ARGUMENT."""
        fields = json.loads(data.decode())
        if not isinstance(fields, dict):
            raise ValueError(f"expected a JSON object, got {type(fields).__name__}")
        return cls(**fields)


@dataclasses.dataclass
class TaskLog:
    """A link to a job's logs (flyteidl ``core.TaskLog``): a name and a URI."""

    name: str
    uri: str


@dataclasses.dataclass
class Resource:
    """A job's state as an agent reports it (flytekit's ``Resource``).

    ``phase`` a :class:`TaskExecution` phase; ``message`` a word on it (the error when it failed);
    ``log_links`` :class:`TaskLog` links (flyteidl ``TaskLog`` messages work too); ``outputs`` a
    :class:`~taskloom.extend.LiteralMap` or a dict of Python values (converted where they go: literals on
    the wire, as they are in process); ``custom_info`` JSON data about the job.
    """

    phase: int
    message: str | None = None
    log_links: list[Any] | None = None
    outputs: Any = None
    custom_info: dict[str, Any] | None = None


class AgentBase:
    """An agent of one task category (flytekit's ``AgentBase``); subclass :class:`AsyncAgentBase` or
    :class:`SyncAgentBase`. ``name`` is what ``ListAgents`` shows."""

    name: ClassVar[str] = "Base Agent"

    def __init__(self, task_type_name: str, task_type_version: int = 0, **kwargs: Any) -> None:
        self._task_category = TaskCategory(task_type_name, task_type_version)

    @property
    def task_category(self) -> TaskCategory:
        """The task type and version this agent runs."""
        return self._task_category


class SyncAgentBase(AgentBase):
    """An agent that answers in the call (a quick API request): implement :meth:`do`."""

    name: ClassVar[str] = "Base Sync Agent"

    def do(self, task_template: Any, output_prefix: str, inputs: Any = None, **kwargs: Any) -> Resource:
        """Run the task now; return its terminal :class:`Resource`. May be ``async def``."""
        raise NotImplementedError(f"agent {self.name!r} does not implement do()")


class AsyncAgentBase(AgentBase):
    """An agent of long jobs: implement :meth:`create`, :meth:`get` and :meth:`delete` (each may be
    ``async def``), optionally :meth:`get_metrics` and :meth:`get_logs`. ``metadata_type`` is the
    :class:`ResourceMeta` subclass ``create`` returns."""

    name: ClassVar[str] = "Base Async Agent"

    def __init__(self, metadata_type: type[ResourceMeta], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metadata_type = metadata_type

    @property
    def metadata_type(self) -> type[ResourceMeta]:
        """The class of the metadata ``create`` returns (decoded for ``get`` and ``delete``)."""
        return self._metadata_type

    def create(
        self,
        task_template: Any,
        output_prefix: str,
        inputs: Any = None,
        task_execution_metadata: Any = None,
        **kwargs: Any,
    ) -> ResourceMeta:
        """Start the job; return what finds it again."""
        raise NotImplementedError(f"agent {self.name!r} does not implement create()")

    def get(self, resource_meta: ResourceMeta, **kwargs: Any) -> Resource:
        """The job's state; its outputs once it succeeded (or None: they are under the output prefix)."""
        raise NotImplementedError(f"agent {self.name!r} does not implement get()")

    def delete(self, resource_meta: ResourceMeta, **kwargs: Any) -> None:
        """Cancel the job. Called at most once per job by taskloom, but make it idempotent (Flyte may repeat it)."""
        raise NotImplementedError(f"agent {self.name!r} does not implement delete()")

    def get_metrics(self, resource_meta: ResourceMeta, **kwargs: Any) -> Any:
        """The job's metrics, a flyteidl ``admin.GetTaskMetricsResponse`` (optional)."""
        raise NotImplementedError(f"agent {self.name!r} does not implement get_metrics()")

    def get_logs(self, resource_meta: ResourceMeta, **kwargs: Any) -> Any:
        """The job's log lines, a flyteidl ``admin.GetTaskLogsResponse`` (optional)."""
        raise NotImplementedError(f"agent {self.name!r} does not implement get_logs()")


def is_async_method(method: Any) -> bool:
    """Whether an agent's method is ``async def`` (awaited) rather than plain (called)."""
    return _is_async_function(getattr(method, "__func__", method))


@functools.lru_cache(maxsize=1024)
def _is_async_function(function: Any) -> bool:
    # Asked on every call the server handles; the answer for a function never changes.
    return inspect.iscoroutinefunction(function)


class AgentRegistry:
    """The agents of this process, by task category (flytekit's ``AgentRegistry``).

    Agents registered with :meth:`register` win over those the installed plugins contribute (hook
    ``taskloom_agents``), which are asked for once, on the first look-up.
    """

    _REGISTRY: ClassVar[dict[TaskCategory, AgentBase]] = {}
    _CONTRIBUTED: ClassVar[dict[TaskCategory, AgentBase] | None] = None
    _lock = threading.Lock()

    @staticmethod
    def register(agent: AgentBase, override: bool = False) -> None:
        """Make ``agent`` run its task category here. A second agent for the same category raises
        :class:`~taskloom.extend.UserValueError` unless ``override``."""
        if not isinstance(agent, AgentBase):
            raise UserValueError(f"AgentRegistry.register: expected an AsyncAgentBase or SyncAgentBase, got {agent!r}")
        category = agent.task_category
        with AgentRegistry._lock:
            if category in AgentRegistry._REGISTRY and not override:
                raise UserValueError(
                    f"AgentRegistry.register: agent {agent.name!r}: task type {category.name!r} version "
                    f"{category.version} has an agent already ({AgentRegistry._REGISTRY[category].name!r})"
                )
            AgentRegistry._REGISTRY[category] = agent

    @staticmethod
    def _agents() -> dict[TaskCategory, AgentBase]:
        with AgentRegistry._lock:
            if AgentRegistry._CONTRIBUTED is None:
                contributed: dict[TaskCategory, AgentBase] = {}
                for agent in contributed_agents():
                    contributed.setdefault(agent.task_category, agent)  # the plugin asked first wins
                AgentRegistry._CONTRIBUTED = contributed
            return {**AgentRegistry._CONTRIBUTED, **AgentRegistry._REGISTRY}

    @staticmethod
    def get_agent(task_type_name: str, task_type_version: int = 0) -> AgentBase:
        """The agent of a task type and version; :class:`AgentNotFoundError` naming them (and the task types
        that have one) when there is none."""
        agents = AgentRegistry._agents()
        agent = agents.get(TaskCategory(task_type_name, task_type_version))
        if agent is None:
            known = ", ".join(sorted(str(category) for category in agents)) or "none"
            raise AgentNotFoundError(
                f"no agent for task type {task_type_name!r} version {task_type_version}; agents here: {known}"
            )
        return agent

    @staticmethod
    def list_agents() -> list[AgentBase]:
        """Every agent of this process, one per task category."""
        return list(AgentRegistry._agents().values())
