"""datetime, date and timedelta values between tasks."""

import datetime

from flytekit import task, workflow


@task
def later(start: datetime.datetime, delay: datetime.timedelta) -> datetime.datetime:
    return start + delay


@task
def describe(moment: datetime.datetime) -> str:
    return moment.isoformat()


@task
def weekday(day: datetime.date) -> int:
    return day.isoweekday()


@workflow
def time_wf(start: datetime.datetime, delay: datetime.timedelta, day: datetime.date) -> tuple[str, int]:
    return describe(moment=later(start=start, delay=delay)), weekday(day=day)


if __name__ == "__main__":
    start = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    moment, day = time_wf(start=start, delay=datetime.timedelta(hours=25), day=datetime.date(2024, 2, 29))
    print(moment, day)
