"""Who hears about a launch plan's executions: :class:`Email`, :class:`Slack`, :class:`PagerDuty` (flytekit's names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from taskloom.exceptions.user import ValidationError

if TYPE_CHECKING:
    from taskloom.models.launch_plan import Notification as NotificationModel

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

_TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Notification:
    """Notify ``recipients_email`` when an execution ends in one of ``phases``.

    ``phases`` are :class:`~taskloom.models.launch_plan.WorkflowExecutionPhase` members (or their
    names); only terminal phases (succeeded, failed, timed out, aborted) are allowed.
    """

    channel: ClassVar[str] = ""

    def __init__(self, phases: list[Any], recipients_email: list[str]) -> None:
        from taskloom.models.launch_plan import WorkflowExecutionPhase

        resolved = []
        for phase in phases:
            member = WorkflowExecutionPhase[phase] if isinstance(phase, str) else phase
            if not isinstance(member, WorkflowExecutionPhase) or member.name not in _TERMINAL:
                raise ValidationError(f"{type(self).__name__}: phase {phase!r} is not one of {', '.join(_TERMINAL)}")
            resolved.append(member)
        if not recipients_email:
            raise ValidationError(f"{type(self).__name__}: recipients_email is empty")
        self.phases = tuple(resolved)
        self.recipients_email = tuple(recipients_email)

    def to_model(self) -> NotificationModel:
        """The flyteidl-shaped :class:`~taskloom.models.launch_plan.Notification`."""
        from taskloom.models import launch_plan as models

        kinds = {
            "email": models.EmailNotification,
            "slack": models.SlackNotification,
            "pager_duty": models.PagerDutyNotification,
        }
        target: Any = kinds[self.channel](recipients_email=self.recipients_email)
        return models.Notification(phases=self.phases, **{self.channel: target})


class Email(Notification):
    """Notify by e-mail."""

    channel = "email"


class Slack(Notification):
    """Notify on Slack (recipients are the e-mail addresses of Slack users or channels)."""

    channel = "slack"


class PagerDuty(Notification):
    """Notify PagerDuty (recipients are the e-mail addresses of PagerDuty services)."""

    channel = "pager_duty"
