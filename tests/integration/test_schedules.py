"""CronSchedule as flytekit programs write it: aliases, five fields, offsets, the older AWS form, and the
expressions that can never fire refused when declared with a ValueError."""

from __future__ import annotations

import datetime as dt

import pytest

from taskloom import CronSchedule, LaunchPlan, SerializationSettings, task, workflow
from taskloom_flyte.codec import from_proto, to_proto


@task
def report(when: dt.datetime) -> str:
    return when.isoformat()


@workflow
def nightly(when: dt.datetime) -> str:
    return report(when=when)


@pytest.mark.parametrize(
    "schedule",
    ["*/1 * * * *", "0 6 * * *", "daily", "@daily", "hourly", "weeks", "@yearly", "*/5 9-17 * * MON-FRI",
     "0 0 1,15 * *", "0 0 29 2 *", "0 0 31 JAN,MAR *", "30 2 * JAN-JUN SUN", "0 0 30 2 1"],
)  # fmt: skip
def test_flytekit_s_schedule_forms_are_accepted(schedule):
    cron = CronSchedule(schedule=schedule)
    assert cron.cron_schedule.schedule == schedule
    assert cron.to_model().cron_schedule.schedule == schedule


@pytest.mark.parametrize(
    "schedule, reason",
    [
        ("0 0 31 2 *", "never fires"),
        ("0 0 30,31 2 *", "never fires"),
        ("0 0 31 APR,JUN,SEP,NOV *", "never fires"),
        ("61 * * * *", "minute field '61' is out of range 0-59"),
        ("0 24 * * *", "hour field '24' is out of range"),
        ("0 0 * 13 *", "month field '13' is out of range"),
        ("0 0 * * MONDAY", "day of week field 'MONDAY' is malformed"),
        ("0 0 5-1 * *", "out of range"),
        ("every day", "not a cron expression of five fields"),
        ("* * * *", "not a cron expression of five fields"),
    ],
)
def test_impossible_or_malformed_schedules_are_value_errors_when_declared(schedule, reason):
    with pytest.raises(ValueError, match=reason):
        CronSchedule(schedule=schedule)


def test_an_offset_is_an_iso_8601_duration():
    assert CronSchedule(schedule="0 1 * * *", offset="P1D").cron_schedule.offset == "P1D"
    assert CronSchedule(schedule="0 1 * * *", offset="-PT1H30M").to_model().cron_schedule.offset == "-PT1H30M"
    with pytest.raises(ValueError, match="offset 'one day' is not an ISO 8601 duration"):
        CronSchedule(schedule="0 1 * * *", offset="one day")


def test_the_older_aws_form_is_kept_as_a_cron_expression():
    assert CronSchedule(cron_expression="0 10 * * ? *").to_model().cron_expression == "0 10 * * ? *"
    # flytekit's first positional parameter is cron_expression: a six-field AWS expression given first is one
    old = CronSchedule("0 10 ? * MON *")
    assert old.cron_expression == "0 10 ? * MON *" and old.cron_schedule is None
    with pytest.raises(ValueError, match="six fields"):
        CronSchedule(cron_expression="0 10 * * *")
    with pytest.raises(ValueError, match="exactly one"):
        CronSchedule(schedule="0 10 * * *", cron_expression="0 10 * * ? *")
    with pytest.raises(ValueError, match="exactly one"):
        CronSchedule()


def test_a_scheduled_launch_plan_round_trips_through_flyteidl():
    schedule = CronSchedule(schedule="0 6 * * *", offset="PT5M", kickoff_time_input_arg="when")
    plan = LaunchPlan.get_or_create(nightly, name="nightly_at_six", schedule=schedule)
    spec = plan.to_launch_plan_spec(SerializationSettings(project="flows", domain="production", version="1"))
    assert spec.entity_metadata.schedule == schedule.to_model()
    assert from_proto(to_proto(spec)) == spec
    aws = CronSchedule(cron_expression="0 10 * * ? *").to_model()
    assert from_proto(to_proto(aws)) == aws
