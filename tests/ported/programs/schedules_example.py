"""Launch plans with schedules and notifications, declared as flytekit's docs declare them."""

from datetime import timedelta

from flytekit import CronSchedule, Email, FixedRate, LaunchPlan, WorkflowExecutionPhase, task, workflow


@task
def stamp(kickoff: str) -> str:
    return f"run at {kickoff}"


@workflow
def nightly_wf(kickoff: str = "now") -> str:
    return stamp(kickoff=kickoff)


nightly = LaunchPlan.get_or_create(
    nightly_wf,
    name="nightly",
    schedule=CronSchedule(schedule="0 2 * * *"),
    notifications=[Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"])],
)
hourly = LaunchPlan.get_or_create(
    nightly_wf, name="hourly", schedule=FixedRate(duration=timedelta(hours=1)), default_inputs={"kickoff": "hourly"}
)


if __name__ == "__main__":
    print(nightly.name, nightly.schedule.cron_schedule.schedule, len(nightly.notifications))
    print(hourly.name, hourly(), nightly())
