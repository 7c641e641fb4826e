"""Errors whose origin is the user: wrong code, wrong input, or a user task asking for a retry.

Each class also exists under flytekit's name (``FlyteUserException``, ``FlyteTypeException``...), so
``from flytekit.exceptions.user import X`` ports to ``from taskloom.exceptions.user import X``.
"""

from __future__ import annotations

from typing import Any

from taskloom.exceptions.base import RecoverableException, TaskloomException
from taskloom.exceptions.system import StorageError


class UserException(TaskloomException):
    """The user's code or input is wrong; retrying will not help."""

    origin = "user"
    error_code = "USER:Unknown"


class UserTypeError(UserException, TypeError, ValueError):
    """A value or annotation has the wrong type."""

    error_code = "USER:TypeError"


class UserValueError(UserException, ValueError):
    """A value has the right type but an unacceptable content."""

    error_code = "USER:ValueError"


class UserAssertionError(UserException, AssertionError):
    """A user-facing precondition does not hold."""

    error_code = "USER:AssertionError"


class ValidationError(UserAssertionError, ValueError):
    """An entity definition (task, workflow, interface) is invalid."""

    error_code = "USER:ValidationError"


class UserTimeoutError(UserAssertionError):
    """A task or node exceeded its timeout."""

    error_code = "USER:Timeout"


class DisapprovalError(UserAssertionError):
    """Someone rejected the value an ``approve`` gate asked about."""

    error_code = "USER:ResultNotApproved"


class RecoverableUserException(UserException, RecoverableException):
    """Raise this from a task to ask for a retry (the task's ``retries`` budget applies).

    Exported also as :data:`FlyteRecoverableException`, flytekit's name.
    """

    error_code = "USER:Recoverable"


class TypeTransformerFailedError(UserTypeError, AssertionError, ValueError):
    """A value could not be converted between Python and a literal.

    The message names what was expected and what came, e.g. ``expected int, got str 'abc'``; when
    the conversion happens for an entity's input or output, the entity and the variable are named
    too. It is a :class:`TypeError` (and, as in flytekit, an ``AssertionError`` and ``ValueError``).
    """

    error_code = "USER:TypeTransformerFailed"


class UnsupportedTypeError(UserTypeError):
    """No type transformer supports an annotation, and the type was not opted in to pickling.

    Raised when an interface is built, naming the function, the parameter and the type.
    """

    error_code = "USER:UnsupportedType"


class MissingTypeError(ValidationError):
    """A task's or workflow's parameter has no type annotation (flytekit's ``FlyteMissingTypeException``).

    Raised when the entity is declared, naming the function and the parameter.
    """

    error_code = "USER:MissingType"


class FailureNodeInputMismatchError(ValidationError):
    """A workflow's ``on_failure`` handler does not take the workflow's inputs as flytekit's rule asks
    (flytekit's ``FlyteFailureNodeInputMismatchException``). Raised when the workflow is declared."""

    error_code = "USER:FailureNodeInputMismatch"


class PromiseAttributeResolveError(ValidationError):
    """An output's field or item that its type does not have (``p.missing``, ``p["k"]`` on a list).

    Raised when the workflow is declared, where flytekit raises its twin
    (``FlytePromiseAttributeResolveException``) when the workflow runs.
    """

    error_code = "USER:PromiseAttributeResolveError"


class DataNotFoundError(UserValueError, StorageError):
    """Nothing is stored at the URI a file, directory or input was to be read from.

    A user error (the URI is the user's) and a :class:`~taskloom.exceptions.system.StorageError`, so
    both ``except FlyteDataNotFoundException:`` and ``except StorageError:`` catch it.
    """

    error_code = "USER:ValueError"


class UserRuntimeError(UserException):
    """A user's exception wrapped by a container entrypoint (flytekit's ``FlyteUserRuntimeException``).

    ``value`` is the user's exception; ``error_code`` is its ``error_code`` when it has one. Run
    locally, a task's exception reaches the caller with its own type, in taskloom as in flytekit, so
    ``except FlyteUserRuntimeException:`` catches nothing there: catch the task's own exception.
    """

    def __init__(self, exc_value: Exception, timestamp: float | None = None) -> None:
        super().__init__(str(exc_value))
        self.value = exc_value
        self.timestamp = timestamp
        code: Any = getattr(exc_value, "error_code", None)
        self.error_code = str(code) if isinstance(code, (str, int)) else "USER:RuntimeError"


FlyteUserException = UserException
FlyteUserRuntimeException = UserRuntimeError
FlytePromiseAttributeResolveException = PromiseAttributeResolveError
FlyteDataNotFoundException = DataNotFoundError
FlyteTypeException = UserTypeError
FlyteValueException = UserValueError
FlyteAssertion = UserAssertionError
FlyteValidationException = ValidationError
FlyteTimeout = UserTimeoutError
FlyteDisapprovalException = DisapprovalError
FlyteRecoverableException = RecoverableUserException
FlyteMissingTypeException = MissingTypeError
FlyteFailureNodeInputMismatchException = FailureNodeInputMismatchError
