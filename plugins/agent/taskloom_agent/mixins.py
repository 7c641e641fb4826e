"""Tasks that run through their agent (flytekit's ``AsyncAgentExecutorMixin`` and ``SyncAgentExecutorMixin``).

Mixed into a task class before :class:`~taskloom.extend.PythonTask`, the mixin is the task's body: it builds the
task's template and its inputs as a literal map (what ``loom-execute`` or an agent server gets), hands them to
the agent of the template's task type, and turns the agent's answer into the task's outputs. The agent is the
one of this process (:class:`~taskloom_agent.base.AgentRegistry`, no server) unless ``$TASKLOOM_AGENT_ENDPOINT``
(``loom run --agent-endpoint HOST:PORT``) names an agent server; ``$TASKLOOM_AGENT_TOKEN_FILE`` and
``$TASKLOOM_AGENT_TLS_CA`` give its token and TLS certificate.

An async agent's job is created, polled with backoff (20 ms, growing to 1 s), and deleted when the run is
interrupted (Ctrl-C, SIGTERM; see :mod:`taskloom_agent.jobs`). Outputs come from the agent's answer, or from
``outputs.pb`` under the output prefix when the answer has none. Log links and log lines go to stderr. Being the
task's body, it gets the executor's retries (a RETRYABLE_FAILED job or an unreachable server is recoverable),
timeout and cache like any task.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from taskloom.extend import (
    RAW_OUTPUT_PREFIX_ENV,
    FlyteContextManager,
    SerializationSettings,
    TaskloomException,
    TypeEngine,
    UserTimeoutError,
    download,
    is_remote,
    upload,
)

from taskloom_agent.base import AgentRegistry, Resource, TaskCategory, TaskExecution, is_terminal_phase
from taskloom_agent.errors import AgentTaskError, RetryableAgentTaskError
from taskloom_agent.hooks import ENDPOINT_ENV, TLS_CA_ENV, TOKEN_FILE_ENV
from taskloom_agent.jobs import InProcess, Job

#: The first wait between two polls, and the longest (flytekit polls every second).
FIRST_POLL = 0.02
LONGEST_POLL = 1.0


class SyncAgentExecutorMixin:
    """Run the task through the sync agent of its task type (``do``): mix in before the task class."""

    def execute(self, **kwargs: Any) -> Any:
        """Call the agent with the task's template and inputs; return the outputs (see the module docs)."""
        task: Any = self
        template, inputs, output_prefix = _prepare(task, kwargs)
        backend = _backend(task, template)
        try:
            resource = backend.do(template, output_prefix, inputs)
        except TaskloomException as error:
            raise type(error)(f"task {task.name!r}: {error}") from error
        return _outputs(task, resource, output_prefix, backend.name)


class AsyncAgentExecutorMixin:
    """Run the task through the async agent of its task type (create, get until done, delete if interrupted):
    mix in before the task class."""

    def execute(self, **kwargs: Any) -> Any:
        """Create the job, poll it to its end, return its outputs (see the module docs)."""
        task: Any = self
        deadline = _deadline(task)
        template, inputs, output_prefix = _prepare(task, kwargs)
        backend = _backend(task, template)
        category = TaskCategory(template.type, template.task_type_version)
        with Job(task.name, backend, category) as job:
            try:
                job.create(template, output_prefix, inputs)
                resource = _poll(task, job, deadline)
            except TaskloomException as error:
                job.finished()
                raise type(error)(f"task {task.name!r}: {error}") from error
            except BaseException:  # Ctrl-C where the body runs on the main thread: the job goes too
                job.cancel("interrupted")
                raise
            _show_logs(task, backend, category, job.resource_meta)
        return _outputs(task, resource, output_prefix, backend.name)


def _deadline(task: Any) -> float | None:
    """When the job must be deleted, if the task has a timeout: a little before the executor's deadline (a
    quarter of the timeout, at most a second), since at its deadline the executor kills the attempt (its worker
    process) and the job would be left running. With 10% (at most half a second) a loaded machine let the
    executor's kill come first: the job of a 1 s task was left running in CI."""
    timeout = task.metadata.timeout
    if not timeout:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else float(timeout)
    return time.monotonic() + seconds - min(1.0, seconds / 4)


def _poll(task: Any, job: Job, deadline: float | None = None) -> Resource:
    delay = FIRST_POLL
    links_shown: set[tuple[str, str]] = set()
    while True:
        resource: Resource = job.backend.get(job.category, job.resource_meta)
        for link in resource.log_links or ():
            if (link.name, link.uri) not in links_shown:
                links_shown.add((link.name, link.uri))
                sys.stderr.write(f"taskloom: task {task.name!r}: logs {link.name}: {link.uri}\n")
        if is_terminal_phase(resource.phase):
            job.finished()
            return resource
        wait = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
        if job.stopped.wait(wait):
            raise AgentTaskError(f"{job.reason}: its job at {job.backend.name} was deleted")
        if deadline is not None and time.monotonic() >= deadline:
            job.cancel("timed out")
            raise UserTimeoutError(
                f"did not finish within its timeout of {task.metadata.timeout}: its job at {job.backend.name} "
                "was deleted"
            )
        delay = min(delay * 1.5, LONGEST_POLL)


def _backend(task: Any, template: Any) -> Any:
    endpoint = os.environ.get(ENDPOINT_ENV)
    if endpoint:
        return _client(endpoint, os.environ.get(TOKEN_FILE_ENV) or None, os.environ.get(TLS_CA_ENV) or None)
    try:
        return InProcess(AgentRegistry.get_agent(template.type, template.task_type_version))
    except TaskloomException as error:
        raise type(error)(f"task {task.name!r}: {error}") from error


@functools.cache
def _client(endpoint: str, token_file: str | None, tls_ca: str | None) -> Any:
    # One channel per server for the process: gRPC channels are thread-safe and costly to set up.
    from taskloom_agent.client import AgentClient  # grpc: only when a remote server is used

    return AgentClient(endpoint, token_file=token_file, tls_ca=tls_ca)


@functools.cache
def _settings() -> SerializationSettings:
    return SerializationSettings()


def _prepare(task: Any, values: dict[str, Any]) -> tuple[Any, Any, str]:
    """The task's template, its inputs as a literal map, and a fresh output prefix."""
    template = task.to_task_template(_settings())
    context = FlyteContextManager.current_context()
    inputs = TypeEngine.dict_to_literal_map(
        context, values, dict(task.python_interface.inputs), entity=f"task {task.name!r}"
    )
    base = os.environ.get(RAW_OUTPUT_PREFIX_ENV) or os.path.join(tempfile.gettempdir(), "taskloom-agent")
    output_prefix = f"{base.rstrip('/')}/{uuid.uuid4().hex}"
    if not is_remote(output_prefix):
        os.makedirs(output_prefix, exist_ok=True)
    if template.container is not None and any("{{.input}}" in arg for arg in template.container.args):
        # An agent that runs the task's own container (flytekit's render_task_template) reads its inputs there.
        from taskloom_flyte import codec  # protobuf: only for agents that read a file

        template = _render(template, output_prefix)
        _write(f"{output_prefix}/inputs.pb", codec.literal_map_to_bytes(inputs))
    return template, inputs, output_prefix


def _render(template: Any, prefix: str) -> Any:
    import attrs  # loaded with the contracts by the time a template is made; not when the task is defined

    places = {
        "{{.input}}": f"{prefix}/inputs.pb",
        "{{.outputPrefix}}": prefix,
        "{{.rawOutputDataPrefix}}": f"{prefix}/raw_output",
        "{{.checkpointOutputPrefix}}": f"{prefix}/checkpoint_output",
        "{{.prevCheckpointPrefix}}": "",
    }

    def fill(arg: str) -> str:
        for place, value in places.items():
            arg = arg.replace(place, value)
        return arg

    container = attrs.evolve(template.container, args=tuple(fill(arg) for arg in template.container.args))
    return attrs.evolve(template, container=container)


def _write(uri: str, data: bytes) -> None:
    if is_remote(uri):
        with tempfile.NamedTemporaryFile() as file:
            file.write(data)
            file.flush()
            upload(file.name, uri)
    else:
        with open(uri, "wb") as file:
            file.write(data)


def _read(uri: str) -> bytes:
    if is_remote(uri):
        with tempfile.TemporaryDirectory() as directory:
            local = os.path.join(directory, "outputs.pb")
            download(uri, local)
            with open(local, "rb") as file:
                return file.read()
    with open(uri, "rb") as file:
        return file.read()


def _outputs(task: Any, resource: Resource, output_prefix: str, where: str) -> Any:
    """The task's outputs from a terminal ``resource`` (shaped as its body would return them)."""
    phase = resource.phase
    if phase != TaskExecution.SUCCEEDED:
        try:
            name = TaskExecution.Phase(phase).name
        except ValueError:  # a phase of a newer flyteidl
            name = str(phase)
        error = RetryableAgentTaskError if phase == TaskExecution.RETRYABLE_FAILED else AgentTaskError
        raise error(f"task {task.name!r}: {where} reports {name}: {resource.message or 'no message'}")
    interface = task.python_interface
    types = dict(interface.output_types)
    outputs = resource.outputs
    if isinstance(outputs, dict):  # an agent of this process gave Python values: no literals needed
        values = outputs
    else:
        if outputs is None and types:
            from taskloom_flyte import codec  # protobuf: only for outputs left in a file

            uri = f"{output_prefix}/outputs.pb"
            try:
                outputs = codec.literal_map_from_bytes(_read(uri), source=uri)
            except FileNotFoundError as error:
                raise AgentTaskError(
                    f"task {task.name!r}: {where} succeeded with no outputs, and there is no {uri}"
                ) from error
        context = FlyteContextManager.current_context()
        values = (
            TypeEngine.literal_map_to_kwargs(context, outputs, types, entity=f"task {task.name!r}", direction="output")
            if outputs is not None
            else {}
        )
    absent = [name for name in types if name not in values]
    if absent:
        raise AgentTaskError(f"task {task.name!r}: {where} gave no output {', '.join(map(repr, absent))}")
    return interface.shape_outputs(values)


def _show_logs(task: Any, backend: Any, category: TaskCategory, resource_meta: Any) -> None:
    # Logs are a courtesy: a job that succeeded does not fail because its logs could not be read.
    try:
        lines = backend.logs(category, resource_meta)
    except TaskloomException as error:
        sys.stderr.write(f"taskloom: task {task.name!r}: no logs: {error}\n")
        return
    for line in lines:
        sys.stderr.write(f"taskloom: task {task.name!r}: {line}\n")
