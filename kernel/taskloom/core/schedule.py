"""When a launch plan runs by itself: :class:`CronSchedule` and :class:`FixedRate` (flytekit's names)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from taskloom.exceptions.user import UserValueError, ValidationError

if TYPE_CHECKING:
    from taskloom.models.launch_plan import CronSchedule as CronModel
    from taskloom.models.launch_plan import Schedule

# The contracts (taskloom.models, and attrs under them) are imported inside the functions that build them:
# declaring and running workflows imports none (docs/architecture.md, "Import cost").

#: flytekit's cron aliases (``schedule="daily"`` as well as ``"@daily"``).
_CRON_ALIASES = frozenset(
    {
        "hourly", "hours", "@hourly", "daily", "days", "@daily", "weekly", "weeks", "@weekly", "monthly", "months",
        "@monthly", "annually", "@annually", "yearly", "years", "@yearly", "@midnight",
    }
)  # fmt: skip

#: An ISO 8601 duration, as flytekit checks an offset (``"P1D"``, ``"-PT1H30M"``).
_OFFSET = re.compile(r"([-+]?)P([-+0-9YMWD]+)?(T([-+0-9HMS.,]+)?)?")

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
#: The five fields of a cron expression: name, lowest, highest, names it accepts.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronSchedule:
    """Run on a cron expression (five fields, or an alias such as ``@daily`` or ``daily``), flytekit's class.

    ``schedule`` is the expression the native scheduler reads; ``offset`` an ISO 8601 duration added
    to each scheduled time; ``kickoff_time_input_arg`` names a ``datetime`` input of the workflow that
    receives the scheduled time of each run. ``cron_expression`` is the older AWS form of six fields
    with a ``?`` (``"0 10 * * ? *"``), which flytekit 1.16 refuses outright; taskloom still accepts it
    (and reads a first positional argument of that form as one) so that older programs port.

    An expression that can never fire (``"0 0 31 2 *"``: February has no 31st) or a malformed one is
    a ``ValueError`` when the schedule is declared, as in flytekit.
    """

    def __init__(
        self,
        schedule: str | None = None,
        kickoff_time_input_arg: str | None = None,
        offset: str | None = None,
        cron_expression: str | None = None,
    ) -> None:
        if schedule is not None and cron_expression is None and _is_aws_expression(schedule):
            schedule, cron_expression = None, schedule
        if (schedule is None) == (cron_expression is None):
            raise UserValueError("CronSchedule: give `schedule` (or the older `cron_expression`), exactly one")
        if schedule is not None:
            schedule = _checked_schedule(schedule)
        else:
            cron_expression = _checked_aws_expression(str(cron_expression))
        if offset is not None and _OFFSET.fullmatch(offset) is None:
            raise UserValueError(f"CronSchedule: offset {offset!r} is not an ISO 8601 duration such as 'P1D' or 'PT1H'")
        self.schedule = schedule
        self.cron_expression = cron_expression
        self.offset = offset
        self.kickoff_time_input_arg = kickoff_time_input_arg

    @property
    def cron_schedule(self) -> CronModel | None:
        """The flyteidl-shaped ``CronSchedule`` (``schedule`` and ``offset``), or None for a ``cron_expression``."""
        if self.schedule is None:
            return None
        from taskloom.models.launch_plan import CronSchedule as CronModel

        return CronModel(schedule=self.schedule, offset=self.offset or "")

    def to_model(self) -> Schedule:
        """The flyteidl-shaped :class:`~taskloom.models.launch_plan.Schedule`."""
        from taskloom.models.launch_plan import Schedule

        return Schedule(
            cron_expression=self.cron_expression,
            cron_schedule=self.cron_schedule,
            kickoff_time_input_arg=self.kickoff_time_input_arg or "",
        )


def _checked_schedule(schedule: str) -> str:
    text = (schedule or "").strip()
    if text.lower() in _CRON_ALIASES:
        return text
    fields = text.split()
    if len(fields) != 5:
        raise UserValueError(
            f"CronSchedule: schedule {schedule!r} is not a cron expression of five fields "
            "(minute hour day-of-month month day-of-week) or an alias like @daily"
        )
    values = [_field_values(field, spec, schedule) for field, spec in zip(fields, _FIELDS)]
    days, months = values[2], values[3]
    # Cron fires when the day of the month OR the day of the week matches if both are restricted; with
    # the day of the week unrestricted, only the days of the month count, and they must exist in a month.
    if fields[4] == "*" and not any(day <= _DAYS_IN_MONTH[month - 1] for day in days for month in months):
        raise UserValueError(f"CronSchedule: schedule {schedule!r} never fires: no chosen month has those days")
    return text


def _field_values(field: str, spec: tuple[str, int, int, dict[str, int]], schedule: str) -> set[int]:
    name, low, high, names = spec
    found: set[int] = set()
    for part in field.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            else:
                first, _, last = body.partition("-")
                start = _number(first, names)
                end = _number(last, names) if last else (high if step_text else start)
        except ValueError:
            raise UserValueError(
                f"CronSchedule: schedule {schedule!r}: the {name} field {field!r} is malformed"
            ) from None
        if step < 1 or not low <= start <= high or not low <= end <= high or start > end:
            raise UserValueError(
                f"CronSchedule: schedule {schedule!r}: the {name} field {field!r} is out of range {low}-{high}"
            )
        found.update(range(start, end + 1, step))
    return found


def _number(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)


def _is_aws_expression(text: str) -> bool:
    fields = text.split()
    return len(fields) == 6 and "?" in (fields[2], fields[4])


def _checked_aws_expression(expression: str) -> str:
    fields = expression.split()
    if len(fields) != 6 or "?" not in (fields[2], fields[4]):
        raise UserValueError(
            f"CronSchedule: cron_expression {expression!r} must have six fields (minute hour day-of-month month "
            "day-of-week year) with '?' for the day of the month or of the week; use `schedule` for five fields"
        )
    five = " ".join(field.replace("?", "*") for field in fields[:5])
    _checked_schedule(five)
    return " ".join(fields)


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
