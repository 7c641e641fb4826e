"""Launch plans, their schedules and notifications (flyteidl ``admin/launch_plan.proto``,
``admin/schedule.proto``, ``admin/common.proto``).

Left out of :class:`LaunchPlanSpec`: the deprecated ``auth`` and ``auth_role`` (use
``security_context``), ``quality_of_service``, ``execution_env_assignments``,
``cluster_assignment`` and ``concurrency_policy``; of :class:`LaunchPlan`, the server-side
``closure``; of :class:`LaunchPlanMetadata`, ``launch_conditions`` (a ``google.protobuf.Any``).
"""

from __future__ import annotations

import enum

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models._oneof import oneof
from taskloom.models.identifier import Identifier
from taskloom.models.interface import ParameterMap
from taskloom.models.literals import KeyValuePair, LiteralMap
from taskloom.models.security import SecurityContext

# ---------------------------------------------------------------------------------------------
# Schedules (flyteidl admin/schedule.proto)
# ---------------------------------------------------------------------------------------------


class FixedRateUnit(enum.Enum):
    """The unit of a fixed-rate schedule (flyteidl ``admin.FixedRateUnit``)."""

    MINUTE = 0
    HOUR = 1
    DAY = 2


@attrs.frozen
class FixedRate:
    """Run every ``value`` ``unit``s (flyteidl ``admin.FixedRate``)."""

    value: int
    unit: FixedRateUnit = FixedRateUnit.MINUTE


@attrs.frozen
class CronSchedule:
    """A cron expression or alias (``@daily``) with an optional ISO 8601 offset (flyteidl ``admin.CronSchedule``)."""

    schedule: str
    offset: str = ""


@attrs.frozen
@oneof("ScheduleExpression", "cron_expression", "rate", "cron_schedule")
class Schedule:
    """When a launch plan runs by itself (flyteidl ``admin.Schedule``).

    ``kickoff_time_input_arg`` names the input that receives the scheduled time.
    """

    cron_expression: str | None = None
    rate: FixedRate | None = None
    cron_schedule: CronSchedule | None = None
    kickoff_time_input_arg: str = ""


# ---------------------------------------------------------------------------------------------
# Notifications (flyteidl admin/common.proto)
# ---------------------------------------------------------------------------------------------


class WorkflowExecutionPhase(enum.Enum):
    """The phase of a workflow execution (flyteidl ``core.WorkflowExecution.Phase``)."""

    UNDEFINED = 0
    QUEUED = 1
    RUNNING = 2
    SUCCEEDING = 3
    SUCCEEDED = 4
    FAILING = 5
    FAILED = 6
    ABORTED = 7
    TIMED_OUT = 8
    ABORTING = 9


@attrs.frozen
class EmailNotification:
    """Send an email (flyteidl ``admin.EmailNotification``)."""

    recipients_email: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    template: str = ""


@attrs.frozen
class PagerDutyNotification:
    """Page through PagerDuty, addressed by email (flyteidl ``admin.PagerDutyNotification``)."""

    recipients_email: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    template: str = ""


@attrs.frozen
class SlackNotification:
    """Post to Slack, addressed by email (flyteidl ``admin.SlackNotification``)."""

    recipients_email: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    template: str = ""


@attrs.frozen
@oneof("type", "email", "pager_duty", "slack")
class Notification:
    """Whom to tell when an execution reaches one of ``phases`` (flyteidl ``admin.Notification``)."""

    phases: tuple[WorkflowExecutionPhase, ...] = attrs.field(default=(), converter=as_tuple)
    email: EmailNotification | None = None
    pager_duty: PagerDutyNotification | None = None
    slack: SlackNotification | None = None


# ---------------------------------------------------------------------------------------------
# Launch plans
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class LaunchPlanMetadata:
    """A launch plan's schedule and notifications (flyteidl ``admin.LaunchPlanMetadata``)."""

    schedule: Schedule | None = None
    notifications: tuple[Notification, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class Labels:
    """Labels put on the execution's resources (flyteidl ``admin.Labels``)."""

    values: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class Annotations:
    """Annotations put on the execution's resources (flyteidl ``admin.Annotations``)."""

    values: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class RawOutputDataConfig:
    """Where tasks write large outputs (files, tables) (flyteidl ``admin.RawOutputDataConfig``)."""

    output_location_prefix: str = ""


@attrs.frozen
class Envs:
    """Environment variables set on every task of the execution (flyteidl ``admin.Envs``)."""

    values: tuple[KeyValuePair, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class LaunchPlanSpec:
    """A workflow with defaults, fixed inputs and execution settings (flyteidl ``admin.LaunchPlanSpec``).

    ``max_parallelism`` 0 means the platform default; ``interruptible`` None means the workflow's own
    setting (flyteidl tracks its presence).
    """

    workflow_id: Identifier
    entity_metadata: LaunchPlanMetadata = attrs.field(factory=LaunchPlanMetadata)
    default_inputs: ParameterMap = attrs.field(factory=ParameterMap)
    fixed_inputs: LiteralMap = attrs.field(factory=LiteralMap)
    role: str = ""
    labels: Labels = attrs.field(factory=Labels)
    annotations: Annotations = attrs.field(factory=Annotations)
    security_context: SecurityContext | None = None
    raw_output_data_config: RawOutputDataConfig = attrs.field(factory=RawOutputDataConfig)
    max_parallelism: int = 0
    interruptible: bool | None = None
    overwrite_cache: bool = False
    envs: Envs = attrs.field(factory=Envs)


@attrs.frozen
class LaunchPlan:
    """A named, versioned launch plan (flyteidl ``admin.LaunchPlan``)."""

    id: Identifier
    spec: LaunchPlanSpec
