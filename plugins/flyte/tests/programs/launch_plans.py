"""Launch plans with default and fixed inputs, a cron schedule and an email notification."""

import datetime

from flytekit import CronSchedule, Email, LaunchPlan, WorkflowExecutionPhase, task, workflow


@task
def report(day: datetime.datetime, region: str, limit: int) -> str:
    return f"{day:%Y-%m-%d} {region} {limit}"


@workflow
def report_wf(day: datetime.datetime, region: str = "eu", limit: int = 10) -> str:
    return report(day=day, region=region, limit=limit)


nightly = LaunchPlan.get_or_create(
    report_wf,
    name="launch_plans.nightly",
    default_inputs={"limit": 100},
    fixed_inputs={"region": "us"},
    schedule=CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg="day"),
    notifications=[
        Email(
            phases=[WorkflowExecutionPhase.FAILED, WorkflowExecutionPhase.SUCCEEDED],
            recipients_email=["team@example.com"],
        )
    ],
)
