"""Audited tasks (the example task type): each names the person who answers for it, in its template and its log."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from taskloom.extend import PythonFunctionTask, SerializationSettings, ValidationError


@dataclasses.dataclass(frozen=True)
class Audited:
    """``@task(task_config=Audited(owner="ana"))``: ``owner`` answers for the task's results."""

    owner: str

    def __post_init__(self) -> None:
        if not self.owner:
            raise ValidationError("Audited: owner must name someone, got an empty string")


class AuditedTask(PythonFunctionTask[Audited]):
    """A Python task whose template carries its owner (task type ``audited``, ``custom: {"owner": ...}``)."""

    def __init__(self, task_config: Audited, task_function: Any, **kwargs: Any) -> None:
        super().__init__(task_config, task_function, task_type="audited", **kwargs)

    def get_custom(self, settings: SerializationSettings) -> dict[str, Any]:
        """What a Flyte backend plugin for ``audited`` tasks reads."""
        return {"owner": self.task_config.owner}

    def execute(self, **kwargs: Any) -> Any:
        """The local run: the function's, after a line on stderr saying who it runs for."""
        print(f"audit: {self.name} run for {self.task_config.owner}", file=sys.stderr)
        return super().execute(**kwargs)
