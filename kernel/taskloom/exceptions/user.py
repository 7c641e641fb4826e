"""Errors whose origin is the user: wrong code, wrong input, or a user task asking for a retry.

Each class also exists under flytekit's name (``FlyteUserException``, ``FlyteTypeException``...), so
``from flytekit.exceptions.user import X`` ports to ``from taskloom.exceptions.user import X``.
"""

from __future__ import annotations

from taskloom.exceptions.base import RecoverableException, TaskloomException


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


FlyteUserException = UserException
FlyteTypeException = UserTypeError
FlyteValueException = UserValueError
FlyteAssertion = UserAssertionError
FlyteValidationException = ValidationError
FlyteTimeout = UserTimeoutError
FlyteDisapprovalException = DisapprovalError
FlyteRecoverableException = RecoverableUserException
FlyteMissingTypeException = UnsupportedTypeError
