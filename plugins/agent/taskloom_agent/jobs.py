"""Jobs that tasks started through their agents and have not seen end, so that an interrupted run deletes them.

A task's body polls its job on whatever thread the executor gives it. Ctrl-C or SIGTERM of ``loom run`` reaches
the main thread; the executor stops the run and abandons the threads still running bodies (daemon threads), and
the process exits (status 130). :func:`cancel_all` runs at that exit (``atexit``, registered when this module is
first imported, i.e. when a task first runs through an agent) and deletes every job still running here. A body
polling on the main thread gets the ``KeyboardInterrupt`` itself and deletes its own job at once.

Not a lifecycle hook (``taskloom_execution_finished``): a plugin implementing one makes the local executor
announce every node and leave its fast paths (maps without per-element bookkeeping), for every run.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from collections.abc import Coroutine
from typing import Any

from taskloom_agent.base import AsyncAgentBase, Resource, ResourceMeta, SyncAgentBase, TaskCategory, is_async_method
from taskloom_agent.errors import AgentTaskError

_lock = threading.Lock()
_running: set[Job] = set()


class InProcess:
    """An agent of this process, called directly (no server, no protobuf): the same agent code a server runs."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.name = f"agent {agent.name!r}"

    def create(self, template: Any, output_prefix: str, inputs: Any) -> ResourceMeta:
        agent = self.agent
        if not isinstance(agent, AsyncAgentBase):
            raise AgentTaskError(
                f"{self.name} of task type {template.type!r} is synchronous: the task needs an async one"
            )
        return self._call(
            agent.create,
            task_template=template,
            output_prefix=output_prefix,
            inputs=inputs,
            task_execution_metadata=None,
        )

    def get(self, category: TaskCategory, resource_meta: ResourceMeta) -> Resource:
        return self._call(self.agent.get, resource_meta=resource_meta)

    def delete(self, category: TaskCategory, resource_meta: ResourceMeta, *, patience: float | None = None) -> None:
        self._call(self.agent.delete, resource_meta=resource_meta)

    def logs(self, category: TaskCategory, resource_meta: ResourceMeta) -> list[str]:
        try:
            answer = self._call(self.agent.get_logs, resource_meta=resource_meta)
        except NotImplementedError:
            return []
        answers = answer if isinstance(answer, (list, tuple)) else [answer]
        return [line for response in answers if response.HasField("body") for line in response.body.results]

    def do(self, template: Any, output_prefix: str, inputs: Any) -> Resource:
        agent = self.agent
        if not isinstance(agent, SyncAgentBase):
            raise AgentTaskError(
                f"{self.name} of task type {template.type!r} is asynchronous: the task needs a sync one"
            )
        return self._call(agent.do, task_template=template, output_prefix=output_prefix, inputs=inputs)

    def _call(self, method: Any, **kwargs: Any) -> Any:
        if is_async_method(method):
            return _on_agent_loop(method(**kwargs))
        return method(**kwargs)


_loop: asyncio.AbstractEventLoop | None = None


def _on_agent_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # One event loop, on a thread of its own, for every async agent of this process: an agent may keep loop-bound
    # state (a client session) between create and get, as flytekit's one local loop allows.
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="taskloom-agent-loop", daemon=True).start()
    return asyncio.run_coroutine_threadsafe(coroutine, _loop).result()


class Job:
    """A job an async agent runs for a task: deleted at most once, when the run is interrupted."""

    def __init__(self, task: str, backend: Any, category: TaskCategory) -> None:
        self.task = task
        self.backend = backend
        self.category = category
        self.resource_meta: Any = None
        self.created = threading.Event()  # set once create answered (or failed)
        self.stopped = threading.Event()  # set when the job is cancelled: the poll stops waiting
        self.reason = ""
        self._done = False
        self._lock = threading.Lock()

    def __enter__(self) -> Job:
        with _lock:
            _running.add(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        with _lock:
            _running.discard(self)

    def finished(self) -> None:
        """The job reached a terminal phase: nothing to delete any more."""
        with self._lock:
            self._done = True

    def create(self, template: Any, output_prefix: str, inputs: Any) -> None:
        """Create the job through the backend and keep its resource metadata.

        The call runs on a thread of its own: when Ctrl-C interrupts the caller (a body on the main thread), the
        create goes on and its answer still arrives, so that :meth:`cancel` can delete the job it made.
        """
        failure: list[BaseException] = []

        def create() -> None:
            try:
                self.resource_meta = self.backend.create(template, output_prefix, inputs)
            except BaseException as error:  # handed to the caller below
                failure.append(error)
            finally:
                self.created.set()

        threading.Thread(target=create, name="taskloom-agent-create", daemon=True).start()
        self.created.wait()
        if failure:
            raise failure[0]

    def cancel(self, reason: str) -> None:
        """Delete the job (once; never after it finished) and wake its poll. A create still in flight is waited
        for (a few seconds): the job may exist already, and only its answer says how to find it."""
        self.created.wait(5.0)
        with self._lock:
            if self._done or self.resource_meta is None:
                self.stopped.set()
                return
            self._done = True
        self.reason = reason
        self.stopped.set()
        try:
            # A few seconds at most: the process is on its way out.
            self.backend.delete(self.category, self.resource_meta, patience=3.0)
            sys.stderr.write(f"taskloom: task {self.task!r}: {reason}: deleted its job at {self.backend.name}\n")
        except Exception as error:  # reported: the process is exiting and must not fail here
            sys.stderr.write(f"taskloom: task {self.task!r}: {reason}: could not delete its job: {error}\n")


def cancel_all(reason: str) -> None:
    """Delete every job still running in this process (an interrupted run)."""
    with _lock:
        jobs = list(_running)
    for job in jobs:
        job.cancel(reason)


# The process is exiting: the polls of jobs still running were abandoned with their threads (an interrupted run).
atexit.register(cancel_all, "the process exits before its job ended")
