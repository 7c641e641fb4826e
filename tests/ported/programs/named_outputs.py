"""NamedTuple outputs: names on the outputs, read by attribute in the workflow."""

import typing

from flytekit import task, workflow

Stats = typing.NamedTuple("Stats", [("total", int), ("mean", float)])
Doubled = typing.NamedTuple("Doubled", [("value", int)])


@task
def describe(values: typing.List[int]) -> Stats:
    return Stats(total=sum(values), mean=sum(values) / len(values))


@task
def double(x: int) -> Doubled:
    return Doubled(value=2 * x)


@task
def report(total: int, mean: float, doubled: int) -> str:
    return f"total={total} mean={mean:.2f} doubled={doubled}"


@workflow
def stats_wf(values: typing.List[int]) -> str:
    stats = describe(values=values)
    doubled = double(x=stats.total)
    return report(total=stats.total, mean=stats.mean, doubled=doubled.value)


if __name__ == "__main__":
    print(stats_wf(values=[1, 2, 3, 4]))
