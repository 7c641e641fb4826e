"""What an ``@eager`` workflow's body, and its caller, catch when a task it awaited failed.

flytekit documents ``except EagerException:`` around an awaited call; yet run locally, flytekit 1.16
raises the task's own exception (a ``ValueError`` stays a ``ValueError``), and only on a cluster an
``EagerException``. taskloom gives both clauses what they expect, everywhere: the error raised
into the body is the child's exception, of a class that derives from the child's class *and* from
:class:`EagerException`, with the same arguments, attributes, notes and traceback.
"""

from __future__ import annotations

from typing import Any


class EagerException(Exception):
    """A task, workflow or launch plan called from an ``@eager`` workflow failed (flytekit's name).

    ``except EagerException:`` in the eager body (or around the eager workflow's call) catches the
    failure of an awaited child; the error is also an instance of the child's own exception class, so
    ``except ValueError:`` catches it too.
    """


def eager_failure(error: BaseException) -> BaseException:
    """``error`` as an :class:`EagerException` too: a copy whose class derives from both.

    An error that already is one is returned as it is, and so is one whose class cannot be combined
    (a class that refuses subclasses, or whose constructor does not accept its own ``args``).
    """
    if isinstance(error, EagerException) or not isinstance(error, Exception):
        return error
    combined = _combined_class(type(error))
    if combined is None:
        return error
    try:
        failure = combined.__new__(combined, *error.args)
    except Exception:  # a class whose __new__ wants other arguments: keep the original
        return error
    failure.args = error.args
    failure.__dict__.update(error.__dict__)  # the error's attributes and notes
    failure.__cause__ = error.__cause__
    failure.__context__ = error.__context__
    failure.__suppress_context__ = error.__suppress_context__
    return failure.with_traceback(error.__traceback__)


#: The combined class of each child's class, made once (two threads racing make two equivalent classes).
_COMBINED: dict[type[Exception], type[Exception] | None] = {}


def _combined_class(kind: type[Exception]) -> type[Exception] | None:
    if kind in _COMBINED:
        return _COMBINED[kind]
    combined: type[Exception] | None
    try:
        combined = type(kind.__name__, (kind, EagerException), {"__reduce__": _reduce})
    except TypeError:  # final classes, or bases whose layouts conflict
        combined = None
    else:
        # Shown as the child's class: `ValueError: x must be positive`, from the child's module.
        combined.__module__ = kind.__module__
        combined.__qualname__ = kind.__qualname__
    _COMBINED[kind] = combined
    return combined


def _reduce(self: BaseException) -> tuple[Any, ...]:
    # The combined class is made at run time and cannot be found by name: pickle (a worker process,
    # an execution record) rebuilds it from the child's class.
    original = type(self).__mro__[1]
    return _rebuild, (original, self.args, dict(self.__dict__))


def _rebuild(original: type[Exception], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    error = original.__new__(original, *args)
    error.args = args
    error.__dict__.update(state)
    return eager_failure(error)
