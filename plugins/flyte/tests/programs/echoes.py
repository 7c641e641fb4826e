"""An echo task (flytekit's ``Echo``): packaged with task type "echo" and no container."""

from flytekit import kwtypes, task, workflow
from flytekit.core.task import Echo

passthrough = Echo(name="passthrough", inputs=kwtypes(a=int, b=str))


@task
def shorten(b: str) -> str:
    return b[:3]


@workflow
def echo_wf(a: int = 1, b: str = "hello") -> tuple[int, str]:
    x, y = passthrough(a=a, b=shorten(b=b))
    return x, y
