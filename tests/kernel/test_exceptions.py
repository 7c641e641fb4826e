"""The exception hierarchy mirrors flytekit's user/system and recoverable/non-recoverable split."""

from __future__ import annotations

import pytest

from taskloom.exceptions import RecoverableException, TaskloomException, base, system, user


def test_the_recoverable_user_error_is_also_exported_under_flytekits_name():
    assert user.FlyteRecoverableException is user.RecoverableUserException
    error = user.FlyteRecoverableException("flaky")
    assert isinstance(error, RecoverableException) and isinstance(error, user.UserException)
    assert (error.origin, error.kind) == ("user", "recoverable")


@pytest.mark.parametrize(
    ("error", "origin", "kind"),
    [
        (user.UserValueError("x"), "user", "non-recoverable"),
        (user.TypeTransformerFailedError("x"), "user", "non-recoverable"),
        (system.SystemException("x"), "system", "non-recoverable"),
        (system.RecoverableSystemException("x"), "system", "recoverable"),
        (system.StorageError("x"), "system", "non-recoverable"),
    ],
)
def test_every_error_knows_its_origin_and_kind(error, origin, kind):
    assert isinstance(error, TaskloomException)
    assert (error.origin, error.kind) == (origin, kind)


def test_type_errors_stay_builtin_type_errors():
    assert issubclass(user.TypeTransformerFailedError, TypeError)
    assert issubclass(user.TypeTransformerFailedError, ValueError)
    assert issubclass(user.UnsupportedTypeError, TypeError)
    assert issubclass(user.UserValueError, ValueError)


def test_flytekit_names_alias_the_same_classes():
    assert base.FlyteException is TaskloomException
    assert user.FlyteUserException is user.UserException
    assert user.FlyteTypeException is user.UserTypeError
    assert system.FlyteSystemException is system.SystemException


def test_plugin_errors_name_the_plugin():
    assert system.PluginError("broken", plugin="dask").plugin == "dask"
