"""Errors a ported program catches with flytekit's builtin classes (issue 21, point 9, first part)."""

from __future__ import annotations

import pytest

from taskloom import conditional, current_context, task, workflow
from taskloom.core.context_manager import SecretNotFoundError
from taskloom.exceptions.user import UserTypeError, UserValueError, ValidationError


def test_a_missing_secret_is_a_value_error_as_in_flytekit(monkeypatch, tmp_path):
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))

    @task
    def connect() -> str:
        return current_context().secrets.get("db", "password")

    with pytest.raises(ValueError, match="secret group='db' key='password' not found") as caught:
        connect()
    assert isinstance(caught.value, (SecretNotFoundError, KeyError))


def test_a_failed_condition_is_a_value_error_as_in_flytekit():
    @task
    def double(x: int) -> int:
        return 2 * x

    @workflow
    def only_positive(x: int) -> int:
        return conditional("sign").if_(x > 0).then(double(x=x)).else_().fail("x must be positive")

    try:
        only_positive(x=-1)
    except ValueError as error:  # the except clause of a ported program
        assert "x must be positive" in str(error)
    else:
        pytest.fail("the failing case did not raise")


@pytest.mark.parametrize(
    "error, builtin",
    [(UserValueError, ValueError), (UserTypeError, TypeError), (ValidationError, AssertionError)],
)
def test_user_errors_subclass_the_builtin_flytekit_raises(error, builtin):
    assert issubclass(error, builtin)


def test_a_validation_error_is_caught_as_an_assertion_error():
    with pytest.raises(AssertionError, match="retries"):

        @task(retries=-1)
        def never(x: int) -> int:
            return x
