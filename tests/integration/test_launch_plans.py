"""LaunchPlan.get_or_create / create: inputs, schedules, notifications, options, local runs and nodes."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from taskloom import (
    Annotations,
    CronSchedule,
    Email,
    FixedRate,
    Labels,
    LaunchPlan,
    PagerDuty,
    SerializationSettings,
    Slack,
    WorkflowExecutionPhase,
    task,
    workflow,
)
from taskloom.exceptions.user import TypeTransformerFailedError, ValidationError
from taskloom.models.converter import from_json, to_json
from taskloom.models.launch_plan import FixedRateUnit, LaunchPlanSpec

SETTINGS = SerializationSettings(project="flows", domain="production", version="7")


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.setattr(LaunchPlan, "CACHE", {})
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)


@task
def scale(value: int, factor: int, when: dt.datetime) -> int:
    return value * factor


@workflow
def report(value: int, factor: int = 2, when: dt.datetime = dt.datetime(2026, 1, 1)) -> int:
    return scale(value=value, factor=factor, when=when)


def test_default_and_fixed_inputs_apply_when_the_plan_runs_locally():
    plan = LaunchPlan.get_or_create(report, name="tripled", default_inputs={"value": 5}, fixed_inputs={"factor": 3})
    assert plan() == 15
    assert plan(value=2) == 6
    assert plan.python_interface.inputs == {"value": int, "when": dt.datetime}


def test_overriding_a_fixed_input_is_an_error_naming_plan_and_input():
    plan = LaunchPlan.get_or_create(report, name="fixed", fixed_inputs={"factor": 3})
    with pytest.raises(
        ValidationError, match="launch plan 'fixed': input 'factor' is fixed to 3 and cannot be overridden"
    ):
        plan(value=1, factor=4)


def test_the_default_launch_plan_is_cached_and_takes_no_options():
    assert LaunchPlan.get_or_create(report) is LaunchPlan.get_or_create(report)
    assert LaunchPlan.get_or_create(report).name == report.name
    with pytest.raises(ValidationError, match="takes no options: give a name"):
        LaunchPlan.get_or_create(report, fixed_inputs={"factor": 1})


def test_get_or_create_returns_the_same_plan_for_the_same_settings_and_refuses_others():
    first = LaunchPlan.get_or_create(report, name="nightly", fixed_inputs={"factor": 3})
    assert LaunchPlan.get_or_create(report, name="nightly", fixed_inputs={"factor": 3}) is first
    with pytest.raises(ValidationError, match="'nightly' already exists with other settings"):
        LaunchPlan.get_or_create(report, name="nightly", fixed_inputs={"factor": 4})
    with pytest.raises(ValidationError, match="already exists; use LaunchPlan.get_or_create"):
        LaunchPlan.create("nightly", report)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fixed_inputs": {"nope": 1}}, "has no input 'nope'"),
        ({"default_inputs": {"factor": "x"}}, "input 'factor' expects int, got str 'x'"),
        ({"default_inputs": {"factor": 1}, "fixed_inputs": {"factor": 2}}, "both a default and a fixed input"),
        ({"schedule": CronSchedule("0 * * * *", kickoff_time_input_arg="value")}, "must name a datetime input"),
        ({"max_parallelism": 0}, "max_parallelism must be a positive int"),
    ],
)
def test_invalid_plans_are_errors(options, message):
    with pytest.raises((ValidationError, TypeTransformerFailedError), match=message):
        LaunchPlan.create("bad", report, **options)


def test_everything_is_carried_into_the_launch_plan_spec():
    plan = LaunchPlan.create(
        "scheduled",
        report,
        default_inputs={"value": 10},
        fixed_inputs={"factor": 4},
        schedule=CronSchedule("0 6 * * *", kickoff_time_input_arg="when"),
        notifications=[
            Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"]),
            Slack(phases=["SUCCEEDED"], recipients_email=["team@example.com"]),
            PagerDuty(phases=[WorkflowExecutionPhase.TIMED_OUT], recipients_email=["pd@example.com"]),
        ],
        labels=Labels(values={"team": "data"}),
        annotations=Annotations(values={"owner": "alice"}),
        raw_output_data_config="s3://bucket/outputs",
        max_parallelism=3,
        overwrite_cache=True,
    )
    spec = plan.to_launch_plan_spec(SETTINGS)
    assert spec.workflow_id.name == report.name and spec.workflow_id.version == "7"
    schedule = spec.entity_metadata.schedule
    assert schedule.cron_schedule.schedule == "0 6 * * *" and schedule.kickoff_time_input_arg == "when"
    email, slack, pager = spec.entity_metadata.notifications
    assert email.email.recipients_email == ("ops@example.com",) and email.phases == (WorkflowExecutionPhase.FAILED,)
    assert slack.slack is not None and pager.pager_duty is not None
    parameters = spec.default_inputs.parameters
    assert parameters["value"].default.scalar.primitive.integer == 10 and "factor" not in parameters
    assert parameters["when"].default is not None
    assert spec.fixed_inputs.literals["factor"].scalar.primitive.integer == 4
    assert spec.labels.values == {"team": "data"} and spec.annotations.values == {"owner": "alice"}
    assert spec.raw_output_data_config.output_location_prefix == "s3://bucket/outputs"
    assert spec.max_parallelism == 3 and spec.overwrite_cache is True
    assert from_json(to_json(spec), LaunchPlanSpec) == spec


def test_the_plan_shows_its_run_options_as_flytekit_names_them():
    plan = LaunchPlan.create(
        "labelled",
        report,
        notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])],
        labels={"team": "data"},
        annotations=Annotations(values={"owner": "alice"}),
        raw_output_data_config="s3://bucket/outputs",
    )
    assert plan.labels == Labels(values={"team": "data"})
    assert plan.annotations == Annotations(values={"owner": "alice"})
    assert plan.raw_output_data_config.output_location_prefix == "s3://bucket/outputs"
    assert [notification.recipients_email for notification in plan.notifications] == [("ops@example.com",)]
    assert plan.security_context is None
    bare = LaunchPlan.get_or_create(report)
    assert bare.labels == Labels() and bare.raw_output_data_config is None and bare.notifications == []


def test_a_required_input_is_a_required_parameter():
    spec = LaunchPlan.get_or_create(report).to_launch_plan_spec(SETTINGS)
    assert spec.default_inputs.parameters["value"].required is True


def test_fixed_rates_use_the_largest_whole_unit():
    assert FixedRate(dt.timedelta(hours=2)).to_model().rate.unit is FixedRateUnit.HOUR
    assert FixedRate(dt.timedelta(days=1)).to_model().rate.value == 1
    assert FixedRate(dt.timedelta(minutes=90)).to_model().rate.value == 90
    with pytest.raises(ValidationError, match="whole minutes"):
        FixedRate(dt.timedelta(seconds=30))
    with pytest.raises(ValueError, match="not a cron expression"):
        CronSchedule("every day")


def test_notifications_take_terminal_phases_only():
    with pytest.raises(ValidationError, match="phase .*RUNNING.* is not one of"):
        Email(phases=[WorkflowExecutionPhase.RUNNING], recipients_email=["a@b.c"])


def test_a_launch_plan_is_a_node_inside_a_workflow():
    plan = LaunchPlan.get_or_create(report, name="inner-plan", fixed_inputs={"factor": 10})

    @workflow
    def outer(x: int) -> int:
        return plan(value=x)

    assert outer(x=3) == 30
    template = outer.to_workflow_template(SETTINGS)
    assert template.nodes[0].workflow_node.launchplan_ref.name == "inner-plan"


def test_max_parallelism_is_honoured_locally():
    lock = threading.Lock()
    running = [0, 0]  # now, most

    @task
    def busy(x: int) -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return x

    @workflow
    def wide(x: int) -> list[int]:
        return [busy(x=x), busy(x=x), busy(x=x), busy(x=x)]

    assert LaunchPlan.get_or_create(wide, name="one-at-a-time", max_parallelism=1)(x=1) == [1, 1, 1, 1]
    assert running[1] == 1
    running[1] = 0
    assert wide(x=1) == [1, 1, 1, 1]
    assert running[1] > 1
