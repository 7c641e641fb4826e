"""Gate nodes: ``sleep``, ``wait_for_input`` and ``approve``."""

import datetime

from flytekit import approve, sleep, task, wait_for_input, workflow


@task
def draft(topic: str) -> str:
    return f"draft about {topic}"


@task
def publish(text: str, title: str) -> str:
    return f"{title}: {text}"


@workflow
def gate_wf(topic: str = "flyte") -> str:
    text = draft(topic=topic)
    pause = sleep(datetime.timedelta(seconds=30))
    title = wait_for_input("title", timeout=datetime.timedelta(hours=1), expected_type=str)
    approved = approve(text, "review", timeout=datetime.timedelta(hours=2))
    pause >> title
    return publish(text=approved, title=title)
