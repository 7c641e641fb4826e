"""Enum inputs and outputs."""

import enum

from flytekit import task, workflow


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@task
def next_colour(c: Colour) -> Colour:
    order = list(Colour)
    return order[(order.index(c) + 1) % len(order)]


@task
def describe(c: Colour) -> str:
    return f"{c.name.lower()} ({c.value})"


@workflow
def colour_wf(c: Colour = Colour.RED) -> str:
    return describe(c=next_colour(c=c))


if __name__ == "__main__":
    print(colour_wf())
    print(colour_wf(c=Colour.BLUE))
