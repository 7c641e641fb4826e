"""Two outputs from one task, passed on to the next: a least-squares line through points."""

import typing

from flytekit import task, workflow


@task
def fit(x: typing.List[float], y: typing.List[float]) -> typing.Tuple[float, float]:
    n = len(x)
    mean_x, mean_y = sum(x) / n, sum(y) / n
    slope = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y)) / sum((a - mean_x) ** 2 for a in x)
    return slope, mean_y - slope * mean_x


@task
def predict(slope: float, intercept: float, at: float) -> float:
    return round(slope * at + intercept, 6)


@workflow
def regression_wf(x: typing.List[float], y: typing.List[float], at: float = 10.0) -> float:
    slope, intercept = fit(x=x, y=y)
    return predict(slope=slope, intercept=intercept, at=at)


if __name__ == "__main__":
    print(regression_wf(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 4.1, 5.9, 8.0]))
