"""Roots of the exception hierarchy; see :mod:`taskloom.exceptions`."""

from __future__ import annotations


class TaskloomException(Exception):
    """Root of every exception taskloom raises on purpose.

    Subclasses set ``origin`` and ``error_code``; mixing in :class:`RecoverableException` makes the
    error recoverable.
    """

    origin: str = "system"
    error_code: str = "Unknown"

    @property
    def kind(self) -> str:
        """``"recoverable"`` when a retry may succeed, otherwise ``"non-recoverable"``."""
        return "recoverable" if isinstance(self, RecoverableException) else "non-recoverable"


class RecoverableException(TaskloomException):
    """Marks an error as recoverable: an executor retries the task up to its ``retries`` budget.

    Mixed into the user and system recoverable errors; flytekit calls its twin
    ``flytekit.exceptions.base.FlyteRecoverableException``.
    """

    error_code = "Recoverable"


#: flytekit's names for the roots, so ported ``except`` clauses keep working.
FlyteException = TaskloomException
FlyteRecoverableException = RecoverableException
