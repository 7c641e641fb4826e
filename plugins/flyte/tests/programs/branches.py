"""``conditional`` with comparisons, ``&`` and ``|``, a failing else, and a branch used as a value."""

from flytekit import conditional, task, workflow


@task
def square(n: float) -> float:
    return n * n


@task
def double(n: float) -> float:
    return 2 * n


@task
def coin() -> bool:
    return True


@workflow
def branch_wf(my_input: float = 5.0) -> float:
    result = (
        conditional("fractions")
        .if_((my_input > 0.1) & (my_input < 1.0))
        .then(double(n=my_input))
        .elif_((my_input >= 1.0) & (my_input <= 10.0) | (my_input == 42.0))
        .then(square(n=my_input))
        .else_()
        .fail("the input must be between 0.1 and 10, or 42")
    )
    flip = coin()
    return conditional("flipped").if_(flip.is_true()).then(square(n=result)).else_().then(double(n=result))
