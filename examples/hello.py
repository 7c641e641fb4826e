"""A first taskloom workflow: `loom run examples/hello.py wf --name world`."""

from taskloom import task, workflow


@task
def greet(name: str) -> str:
    """Say hello to someone."""
    return f"Hello, {name}!"


@task
def shout(text: str, times: int = 1) -> str:
    """Make a greeting louder."""
    return " ".join([text.upper()] * times)


@workflow
def wf(name: str = "world", times: int = 2) -> str:
    """Greet, then shout it."""
    return shout(text=greet(name=name), times=times)


if __name__ == "__main__":
    print(wf(name="taskloom"))
