"""What every task carries, whatever its type: :class:`TaskMetadata` (flytekit's name and fields)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from taskloom.exceptions.user import ValidationError
from taskloom.models import task as task_models
from taskloom.models.literals import RetryStrategy


@dataclasses.dataclass
class TaskMetadata:
    """How a task runs: caching, retries, timeout, interruptibility, deck (flytekit's ``TaskMetadata``).

    ``timeout`` accepts seconds as an int; ``retries`` is the number of retries after the first
    attempt. Contradictions (a negative retry count, cache settings without ``cache``) are a
    :class:`~taskloom.exceptions.user.ValidationError`.
    """

    cache: bool = False
    cache_serialize: bool = False
    cache_version: str = ""
    cache_ignore_input_vars: tuple[str, ...] = ()
    interruptible: bool | None = None
    deprecated: str = ""
    retries: int = 0
    timeout: dt.timedelta | int | None = None
    pod_template_name: str | None = None
    generates_deck: bool = False
    is_eager: bool = False
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (dt.timedelta, int, type(None))):
            raise ValidationError(f"TaskMetadata: timeout expects a timedelta or seconds, got {self.timeout!r}")
        if isinstance(self.timeout, int):
            self.timeout = dt.timedelta(seconds=self.timeout)
        if self.timeout is not None and self.timeout <= dt.timedelta(0):
            raise ValidationError(f"TaskMetadata: timeout must be positive, got {self.timeout}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValidationError(f"TaskMetadata: retries expects a non-negative int, got {self.retries!r}")
        if not self.cache and (self.cache_serialize or self.cache_version or self.cache_ignore_input_vars):
            raise ValidationError("TaskMetadata: cache_serialize, cache_version and cache_ignore_input_vars need cache=True")
        self.cache_ignore_input_vars = tuple(self.cache_ignore_input_vars)

    @property
    def retry_strategy(self) -> RetryStrategy:
        """The retries as the contract's :class:`~taskloom.models.literals.RetryStrategy`."""
        return RetryStrategy(retries=self.retries)

    def to_taskmetadata_model(self) -> task_models.TaskMetadata:
        """The flyteidl-shaped :class:`~taskloom.models.task.TaskMetadata` (flytekit's method name)."""
        from taskloom import __version__

        kubernetes = None
        if self.labels or self.annotations:
            kubernetes = task_models.K8sObjectMetadata(labels=dict(self.labels or {}), annotations=dict(self.annotations or {}))
        return task_models.TaskMetadata(
            discoverable=self.cache,
            runtime=task_models.RuntimeMetadata(
                type=task_models.RuntimeType.FLYTE_SDK, version=__version__, flavor="python"
            ),
            timeout=self.timeout,
            retries=self.retry_strategy,
            discovery_version=self.cache_version,
            deprecated_error_message=self.deprecated,
            interruptible=self.interruptible,
            cache_serializable=self.cache_serialize,
            pod_template_name=self.pod_template_name or "",
            cache_ignore_input_vars=self.cache_ignore_input_vars,
            is_eager=self.is_eager,
            generates_deck=self.generates_deck,
            metadata=kubernetes,
        )
