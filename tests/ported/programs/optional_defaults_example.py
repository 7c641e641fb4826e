"""Workflow inputs with defaults and Optional values, passed on to tasks."""

import typing

from flytekit import task, workflow


@task
def greet(name: typing.Optional[str] = None, times: int = 1) -> str:
    return " ".join([f"hi {name or 'stranger'}"] * times)


@task
def maybe_len(s: str) -> typing.Optional[int]:
    return len(s) if s.strip() else None


@workflow
def greet_wf(name: typing.Optional[str] = None, times: int = 2) -> tuple[str, typing.Optional[int]]:
    text = greet(name=name, times=times)
    return text, maybe_len(s=text)


if __name__ == "__main__":
    for kwargs in ({}, {"name": "ada"}, {"name": "bob", "times": 1}):
        text, size = greet_wf(**kwargs)
        print(text, size)
