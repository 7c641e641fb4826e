"""What a running task can ask about its execution: ``current_context()`` (flytekit's names).

Inside a task, :func:`current_context` returns :class:`ExecutionParameters`: the execution id
(unique per run), the task id, a working directory fresh for each task execution, the execution
date, a logger, a metrics handle (``stats``), the secrets, a checkpoint and the retry attempt.
Executors set it around every task attempt with :func:`task_execution`; outside any execution a
default context is returned, as flytekit does.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from taskloom.exceptions.user import UserException
from taskloom.plugins import get_plugin_manager

if TYPE_CHECKING:
    import logging

    from taskloom.core.checkpointer import Checkpoint
    from taskloom.core.flyte_context import CURRENT_CONTEXT as CURRENT_CONTEXT
    from taskloom.core.flyte_context import BranchEvalMode as BranchEvalMode
    from taskloom.core.flyte_context import ExecutionState as ExecutionState
    from taskloom.core.flyte_context import FlyteContext as FlyteContext
    from taskloom.core.flyte_context import FlyteContextManager as FlyteContextManager
    from taskloom.core.flyte_context import new_context as new_context
    from taskloom.models.identifier import Identifier, WorkflowExecutionIdentifier

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

#: Where executions run locally are registered (flytekit's local defaults).
LOCAL_PROJECT = "local"
LOCAL_DOMAIN = "development"


class SecretNotFoundError(UserException, KeyError, ValueError):
    """A secret the task asked for is neither in the environment nor in the secrets directory.

    A ``ValueError``, as the error flytekit raises, so that ``except ValueError:`` code ports (and a
    ``KeyError``, as a missing entry of a mapping is).
    """

    error_code = "USER:SecretNotFound"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SecretsManager:
    """Reads secrets as flytekit does: an environment variable, else a file.

    For group ``db`` and key ``password``: the variable ``_FSEC_DB_PASSWORD`` (prefix from
    ``FLYTE_SECRETS_ENV_PREFIX``), else the file ``/etc/secrets/db/password`` (directory from
    ``FLYTE_SECRETS_DEFAULT_DIR``, file name prefix from ``FLYTE_SECRETS_FILE_PREFIX``).
    """

    def __init__(self) -> None:
        self._env_prefix = os.environ.get("FLYTE_SECRETS_ENV_PREFIX", "_FSEC_")
        self._directory = os.environ.get("FLYTE_SECRETS_DEFAULT_DIR", os.path.join(os.sep, "etc", "secrets"))
        self._file_prefix = os.environ.get("FLYTE_SECRETS_FILE_PREFIX", "")

    def get_secrets_env_var(
        self, group: str | None = None, key: str | None = None, group_version: str | None = None
    ) -> str:
        """The environment variable holding the secret."""
        parts = [part for part in (group, group_version, key) if part]
        return f"{self._env_prefix}{'_'.join(parts)}".upper()

    def get_secrets_file(
        self, group: str | None = None, key: str | None = None, group_version: str | None = None
    ) -> str:
        """The file holding the secret."""
        parts = [part.lower() for part in (group, group_version) if part]
        return os.path.join(self._directory, *parts, f"{self._file_prefix}{(key or '').lower()}")

    def get(
        self, group: str | None = None, key: str | None = None, group_version: str | None = None, encode_mode: str = "r"
    ) -> str | bytes:
        """The secret's value (bytes with ``encode_mode="rb"``).

        Raises :class:`SecretNotFoundError` naming the group, the key and both places looked at.
        """
        if not group and not key:
            raise ValueError("secrets.get needs a group or a key")
        variable = self.get_secrets_env_var(group, key, group_version)
        if variable in os.environ:
            value = os.environ[variable]
            return value.encode() if "b" in encode_mode else value
        path = self.get_secrets_file(group, key, group_version)
        try:
            with open(path, encode_mode) as handle:
                return handle.read()
        except FileNotFoundError:
            raise SecretNotFoundError(
                f"secret group={group!r} key={key!r} not found: set the environment variable {variable} or "
                f"write the file {path}, and request it with secret_requests=[Secret(group=..., key=...)]"
            ) from None


class NoopStats:
    """A metrics handle that records nothing: the default when no plugin provides a metrics backend."""

    def incr(self, metric: str, count: int = 1, **tags: Any) -> None:
        """Count an event."""

    def decr(self, metric: str, count: int = 1, **tags: Any) -> None:
        """Uncount an event."""

    def gauge(self, metric: str, value: float, **tags: Any) -> None:
        """Record a level."""

    def timing(self, metric: str, milliseconds: float, **tags: Any) -> None:
        """Record a duration."""

    @contextlib.contextmanager
    def timer(self, metric: str, **tags: Any) -> Iterator[None]:
        """Time the block."""
        yield


class ExecutionParameters:
    """The execution a task runs in (what :func:`current_context` returns).

    ``execution_id`` is the execution's identifier, or the name of a local execution (a str: the
    identifier, in the local project and domain, is made when first asked for, so that running
    tasks never imports the contracts).
    """

    # Class attributes, set on the instance only for a task with decks: the others pay nothing.
    _decks: list[Any] | None = None
    _enable_deck = False

    def __init__(
        self,
        execution_id: WorkflowExecutionIdentifier | str,
        task_id: Identifier | str | None,
        working_directory: str | None,
        execution_date: dt.datetime,
        checkpoint: Checkpoint | Callable[[], Checkpoint] | None = None,
        attempt: int = 0,
        stats: Any = None,
    ) -> None:
        self._execution_id = execution_id
        self._task_id = task_id
        self._working_directory = working_directory
        self._execution_date = execution_date
        self._checkpoint = checkpoint
        self._attempt = attempt
        self._stats = stats
        self._secrets: SecretsManager | None = None

    @property
    def execution_id(self) -> WorkflowExecutionIdentifier:
        """The execution's identifier (project, domain, a name unique per run)."""
        if isinstance(self._execution_id, str):  # made on first use: most tasks never ask
            self._execution_id = _local_execution_id(self._execution_id)
        return self._execution_id

    @property
    def task_id(self) -> Identifier | None:
        """The running task's identifier, or None outside a task."""
        if isinstance(self._task_id, str):  # made on first use: most tasks never ask
            from taskloom.models.identifier import Identifier, ResourceType

            self._task_id = Identifier(
                resource_type=ResourceType.TASK,
                project=self.execution_id.project,
                domain=self.execution_id.domain,
                name=self._task_id,
                version="local",
            )
        return self._task_id

    @property
    def working_directory(self) -> str:
        """A directory of this task execution's own, created fresh for it (on first use)."""
        if self._working_directory is None:
            from taskloom.core.scratch import scratch_directory

            name = self._execution_id if isinstance(self._execution_id, str) else self._execution_id.name
            self._working_directory = scratch_directory(f"taskloom-{name}-")
        return self._working_directory

    @property
    def execution_date(self) -> dt.datetime:
        """When the execution started (UTC)."""
        return self._execution_date

    @property
    def logging(self) -> logging.Logger:
        """A logger for user code."""
        import logging  # ~4 ms: only for tasks that log through the context

        return logging.getLogger("taskloom.user")

    @property
    def stats(self) -> Any:
        """A metrics handle (``incr``, ``gauge``, ``timing``, ``timer``); records nothing by default."""
        if self._stats is None:
            self._stats = _stats_client()
        return self._stats

    @property
    def secrets(self) -> SecretsManager:
        """The secrets (:meth:`SecretsManager.get`)."""
        if self._secrets is None:
            self._secrets = SecretsManager()
        return self._secrets

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint shared by the attempts of this task execution."""
        if callable(self._checkpoint):  # executors may pass a factory, called on first use
            self._checkpoint = self._checkpoint()
        if self._checkpoint is None:
            from taskloom.core.checkpointer import Checkpoint  # measured: only tasks that checkpoint pay for it

            self._checkpoint = Checkpoint(os.path.join(self.working_directory, "checkpoint"))
        return self._checkpoint

    @property
    def attempt(self) -> int:
        """The attempt number, 0 for the first run and one more for each retry."""
        return self._attempt

    @property
    def enable_deck(self) -> bool:
        """Whether the running task leaves a deck (``@task(enable_deck=True)``)."""
        return self._enable_deck

    @property
    def decks(self) -> list[Any]:
        """The decks of this task execution, in the order they were made: ``Deck(name, html)`` adds
        itself here; with ``enable_deck`` they are written when the task finishes (flytekit's name).
        """
        if self._decks is None:
            self._decks = []
        return self._decks

    @property
    def default_deck(self) -> Any:
        """The deck named ``default``, made on first use: the same deck for every use in this task
        execution (flytekit makes a new one at each use, and shows only the last).

        Raises ImportError naming taskloom-report when no installed plugin provides ``Deck``.
        """
        for deck in self.decks:
            if deck.name == "default":
                return deck
        deck_class = get_plugin_manager().resolve_name("Deck")
        return deck_class("default")


_current: contextvars.ContextVar[ExecutionParameters | None] = contextvars.ContextVar("taskloom_context", default=None)


def new_execution_name() -> str:
    """A fresh, unique name for a local execution (the name of :func:`new_execution_id`'s identifier).

    Executors keep the name and hand it to tasks (:class:`ExecutionParameters` makes the identifier
    when a task asks for it), so that a local run never imports the contracts.
    """
    # 80 random bits, like a uuid4 prefix, without importing uuid (~2 ms).
    return f"l{os.urandom(10).hex()[:19]}"


def new_execution_id() -> WorkflowExecutionIdentifier:
    """A fresh execution identifier for a local run."""
    return _local_execution_id(new_execution_name())


def _local_execution_id(name: str) -> WorkflowExecutionIdentifier:
    from taskloom.models.identifier import WorkflowExecutionIdentifier

    return WorkflowExecutionIdentifier(project=LOCAL_PROJECT, domain=LOCAL_DOMAIN, name=name)


def current_context() -> ExecutionParameters:
    """The context of the running task; outside one, a default context with its own execution id."""
    params = _current.get()
    if params is None:
        from taskloom.core.scratch import scratch_directory

        params = ExecutionParameters(
            execution_id=new_execution_id(),
            task_id=None,
            working_directory=scratch_directory("taskloom-"),
            execution_date=dt.datetime.now(dt.UTC),
        )
        _current.set(params)
    return params


@contextlib.contextmanager
def task_execution(
    task_name: str,
    *,
    execution_id: WorkflowExecutionIdentifier | None = None,
    execution_date: dt.datetime | None = None,
    attempt: int = 0,
    checkpoint: Checkpoint | None = None,
) -> Iterator[ExecutionParameters]:
    """Make a fresh context current while a task attempt runs: a new working directory, the given
    execution id (a new one when None), attempt number and checkpoint.

    The working directory and the task id are made when first asked for: the hot path of a task
    that uses neither costs no system call.
    """
    execution_id = execution_id or new_execution_id()
    params = ExecutionParameters(
        execution_id=execution_id,
        task_id=task_name,
        working_directory=None,
        execution_date=execution_date or dt.datetime.now(dt.UTC),
        checkpoint=checkpoint,
        attempt=attempt,
    )
    token = _current.set(params)
    try:
        yield params
    finally:
        _current.reset(token)


def _stats_client() -> Any:
    answer = get_plugin_manager().hook.taskloom_stats_client()
    return answer if answer is not None else NoopStats()


# flytekit's context object lives in taskloom.core.flyte_context, imported when one of its names is
# first asked for here (flytekit's path): running tasks never needs it, and defining its classes
# costs about half a millisecond of every `loom run`.
_FLYTE_CONTEXT_NAMES = frozenset(
    {"BranchEvalMode", "CURRENT_CONTEXT", "ExecutionState", "FlyteContext", "FlyteContextManager", "new_context"}
)


def __getattr__(name: str) -> Any:
    if name in _FLYTE_CONTEXT_NAMES:
        from taskloom.core import flyte_context

        value = getattr(flyte_context, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taskloom.core.context_manager' has no attribute {name!r}")
