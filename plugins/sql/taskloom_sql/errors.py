"""The errors of SQL tasks: each names the task, what it was doing and what the database said."""

from __future__ import annotations

from taskloom.extend import RecoverableUserException, UserException


class SQLTaskError(UserException):
    """A SQL task's query could not run: bad SQL, a refused login, a missing secret, an unreadable database.

    The message names the task and says what failed; it never holds a secret's value (those are replaced
    by ``***`` wherever the driver repeats them).
    """


class SQLConnectionError(SQLTaskError, RecoverableUserException):
    """The connection to the database was lost while the query ran; recoverable, so the task's retries apply."""
