"""Conditionals as flytekit programs write them (issue 21, point 6): is_none() on task outputs, a failing
else_ that is a ValueError, and a bare output as a condition refused when the workflow is declared."""

from __future__ import annotations

from typing import Optional

import pytest

from taskloom import conditional, task, workflow
from taskloom.core.condition import ConditionFailedError


@task
def maybe(x: int) -> Optional[int]:
    return None if x < 0 else x


@task
def double(x: int) -> int:
    return 2 * x


@task
def positive(x: int) -> bool:
    return x > 0


@workflow
def none_or_double(x: int) -> int:
    value = maybe(x=x)
    return conditional("none").if_(value.is_none()).then(double(x=0)).else_().then(double(x=x))


@workflow
def only_positive(x: int) -> int:
    return conditional("sign").if_(x > 0).then(double(x=x)).else_().fail("x must be positive")


def test_is_none_on_a_task_output_picks_the_branch():
    assert none_or_double(x=-1) == 0
    assert none_or_double(x=3) == 6


def test_a_failing_else_is_a_value_error_as_in_flytekit():
    assert only_positive(x=2) == 4
    with pytest.raises(ValueError, match="x must be positive") as caught:
        only_positive(x=-1)
    assert isinstance(caught.value, ConditionFailedError)
    assert "conditional 'sign'" in str(caught.value)  # the message names the conditional too


@pytest.mark.parametrize("source", [positive, double], ids=["bool output", "int output"])
def test_a_bare_output_as_a_condition_is_refused_when_declared(source):
    with pytest.raises(AssertionError, match=r"bare output \(the unary form if_\(x\)\).*is_true\(\)"):

        @workflow
        def bare(x: int) -> int:
            flag = source(x=x)
            return conditional("bare").if_(flag).then(double(x=x)).else_().then(double(x=1))


def test_is_true_is_the_spelling_that_works():
    @workflow
    def explicit(x: int) -> int:
        flag = positive(x=x)
        return conditional("flag").if_(flag.is_true()).then(double(x=x)).else_().then(double(x=1))

    assert explicit(x=3) == 6
    assert explicit(x=-3) == 2
