"""Branches with conditional(): several cases, a task output as the condition, a failing else."""

from flytekit import conditional, task, workflow


@task
def classify(x: float) -> str:
    return "small" if x < 10 else "large"


@task
def half(x: float) -> float:
    return x / 2


@task
def triple(x: float) -> float:
    return x * 3


@task
def is_even(n: int) -> bool:
    return n % 2 == 0


@workflow
def branch_wf(x: float) -> float:
    return (
        conditional("size")
        .if_((x > 0.0) & (x < 10.0))
        .then(triple(x=x))
        .elif_(x >= 10.0)
        .then(half(x=x))
        .else_()
        .fail("x must be positive")
    )


@workflow
def parity_wf(n: int) -> str:
    even = is_even(n=n)
    return conditional("parity").if_(even.is_true()).then(classify(x=1.0)).else_().then(classify(x=100.0))


if __name__ == "__main__":
    print(branch_wf(x=3.0), branch_wf(x=30.0), parity_wf(n=2), parity_wf(n=3))
    try:
        branch_wf(x=-1.0)
    except ValueError:
        print("failed as expected")
