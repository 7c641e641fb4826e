"""Echo: a task that passes its inputs through, used as a no-op branch of a conditional."""

from flytekit import conditional, kwtypes, task, workflow
from flytekit.core.task import Echo

passthrough = Echo(name="passthrough", inputs=kwtypes(x=float))


@task
def halve(x: float) -> float:
    return x / 2


@workflow
def echo_wf(x: float) -> float:
    return conditional("big").if_(x > 10.0).then(halve(x=x)).else_().then(passthrough(x=x))


if __name__ == "__main__":
    print(echo_wf(x=30.0), echo_wf(x=3.0))
