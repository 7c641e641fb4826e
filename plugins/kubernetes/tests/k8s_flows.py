"""Workflows of the tests: the Pods find their tasks by module (this file, the Pods' working directory) and name."""

from __future__ import annotations

import datetime as dt
import os

from taskloom import Secret, current_context, dynamic, map_task, task, workflow
from taskloom.exceptions.user import FlyteRecoverableException


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def double(x: int) -> int:
    return 2 * x


@task
def where(x: int) -> tuple[int, int, str]:
    """x, the process that ran the body, and the attempt it was told."""
    return x, os.getpid(), os.environ.get("FLYTE_ATTEMPT_NUMBER", "")


@workflow
def diamond(x: int) -> int:
    left = double(x=x)
    right = add(x=x, y=10)
    return add(x=left, y=right)


@task
def square(x: int) -> int:
    return x * x


@workflow
def squares(xs: list[int]) -> list[int]:
    return map_task(square, concurrency=2)(x=xs)


@task(retries=2)
def broken(x: int) -> int:
    print(f"about to fail on {x}")
    raise ValueError(f"no good: {x}")


@workflow
def fails(x: int) -> int:
    return broken(x=double(x=x))


@task(retries=2)
def flaky(marker: str) -> int:
    """Fails recoverably until a third attempt: ``marker`` (a local file) counts the attempts."""
    with open(marker, "a+") as stream:
        stream.seek(0)
        attempts = len(stream.read())
        stream.write("x")
    if attempts < 2:
        raise FlyteRecoverableException(f"attempt {attempts} fails")
    return attempts


@task(cache=True, cache_version="1")
def counted(marker: str, x: int) -> int:
    with open(marker, "a") as stream:
        stream.write("x")
    return x + 1


@workflow
def cached(marker: str, x: int) -> int:
    return counted(marker=marker, x=x)


@task(timeout=dt.timedelta(seconds=1))
def sleepy(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return 1


@task(retries=1)
def oom_once(x: int) -> int:
    return x + 100


@task
def waits_forever(x: int) -> int:
    return x


@task
def sleeps(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return 1


@task
def first(counter: str, x: int) -> int:
    with open(counter, "a") as stream:
        stream.write("first\n")
    return x + 1


@task
def second(gate: str, y: int) -> int:
    if not os.path.exists(gate):
        raise ValueError("the gate file is missing")
    return y * 10


@workflow
def gated(counter: str, gate: str, x: int) -> int:
    return second(gate=gate, y=first(counter=counter, x=x))


@task(secret_requests=[Secret(group="db", key="password", mount_requirement=Secret.MountType.ENV_VAR)])
def reads_secret(x: int) -> str:
    return f"{x}:{current_context().secrets.get('db', 'password')}"


@task
def odd_fails(x: int) -> int:
    if x % 2:
        raise ValueError(f"{x} is odd")
    return x


@workflow
def mostly(xs: list[int]) -> list[int | None]:
    return map_task(odd_fails, min_success_ratio=0.5)(x=xs)


@dynamic
def fan_out(n: int) -> list[int]:
    return [double(x=index) for index in range(n)]


@task(pod_template_name="gpu-base", environment={"MODE": "task"})
def on_base_template(x: int) -> str:
    return f"{x}:{os.environ.get('MODE')}:{os.environ.get('FROM_BASE')}"


@task(pod_template_name="nowhere")
def on_missing_template(x: int) -> int:
    return x
