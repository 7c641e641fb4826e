"""The getting-started program: one task, one workflow."""

from flytekit import task, workflow


@task
def say_hello(name: str) -> str:
    return f"hello {name}!"


@workflow
def hello_world_wf(name: str = "world") -> str:
    return say_hello(name=name)


if __name__ == "__main__":
    print(hello_world_wf())
    print(hello_world_wf(name="taskloom"))
