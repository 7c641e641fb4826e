"""When a launch plan runs by itself: :class:`CronSchedule` and :class:`FixedRate` (flytekit's names)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from taskloom.exceptions.user import ValidationError

if TYPE_CHECKING:
    from taskloom.models.launch_plan import Schedule

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

_CRON_ALIASES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})


class CronSchedule:
    """Run on a cron expression (five fields, or an alias such as ``@daily``).

    ``kickoff_time_input_arg`` names a ``datetime`` input of the workflow that receives the scheduled
    time of each run.
    """

    def __init__(self, schedule: str, kickoff_time_input_arg: str | None = None, offset: str | None = None) -> None:
        text = (schedule or "").strip()
        if not (text.lower() in _CRON_ALIASES or len(text.split()) == 5):
            raise ValidationError(
                f"CronSchedule: {schedule!r} is not a cron expression of five fields or an alias like @daily"
            )
        self.schedule = text
        self.offset = offset
        self.kickoff_time_input_arg = kickoff_time_input_arg

    def to_model(self) -> Schedule:
        """The flyteidl-shaped :class:`~taskloom.models.launch_plan.Schedule`."""
        from taskloom.models.launch_plan import CronSchedule as CronModel
        from taskloom.models.launch_plan import Schedule

        return Schedule(
            cron_schedule=CronModel(schedule=self.schedule, offset=self.offset or ""),
            kickoff_time_input_arg=self.kickoff_time_input_arg or "",
        )


class FixedRate:
    """Run every ``duration`` (whole minutes, at least one)."""

    def __init__(self, duration: dt.timedelta, kickoff_time_input_arg: str | None = None) -> None:
        if (
            not isinstance(duration, dt.timedelta)
            or duration < dt.timedelta(minutes=1)
            or duration % dt.timedelta(minutes=1)
        ):
            raise ValidationError(f"FixedRate: the duration must be whole minutes, at least one, got {duration!r}")
        self.duration = duration
        self.kickoff_time_input_arg = kickoff_time_input_arg

    def to_model(self) -> Schedule:
        """The flyteidl-shaped :class:`~taskloom.models.launch_plan.Schedule` in the largest whole unit."""
        from taskloom.models.launch_plan import FixedRate as RateModel
        from taskloom.models.launch_plan import FixedRateUnit, Schedule

        for unit, size in ((FixedRateUnit.DAY, dt.timedelta(days=1)), (FixedRateUnit.HOUR, dt.timedelta(hours=1))):
            if not self.duration % size:
                rate = RateModel(value=self.duration // size, unit=unit)
                break
        else:
            rate = RateModel(value=self.duration // dt.timedelta(minutes=1), unit=FixedRateUnit.MINUTE)
        return Schedule(rate=rate, kickoff_time_input_arg=self.kickoff_time_input_arg or "")
