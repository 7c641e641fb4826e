"""The errors of taskloom-agent, in the kernel's split of user and system errors, recoverable or not (a
recoverable one is retried by the executor when the task has retries left, as Flyte retries it)."""

from __future__ import annotations

from taskloom.extend import RecoverableSystemException, RecoverableUserException, UserException


class AgentNotFoundError(UserException):
    """No agent runs the task type asked for (flytekit's ``FlyteAgentNotFound``); the server answers NOT_FOUND."""


class AgentTaskError(UserException):
    """A task that runs through its agent failed: the agent reported FAILED or ABORTED, or refused the task."""


class RetryableAgentTaskError(RecoverableUserException):
    """The agent reported RETRYABLE_FAILED: the task's retries apply."""


class AgentConnectionError(RecoverableSystemException):
    """The agent server could not be reached for longer than the executor waits for it."""
