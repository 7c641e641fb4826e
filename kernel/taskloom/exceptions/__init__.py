"""taskloom's exception hierarchy.

It mirrors flytekit's split so that code written against flytekit's exceptions ports by rewriting imports:

* the *origin* of an error: :mod:`taskloom.exceptions.user` (the user's code or input is wrong) versus
  :mod:`taskloom.exceptions.system` (taskloom, a plugin or the platform failed);
* its *kind*: recoverable (a retry may succeed, e.g. a flaky network call) versus non-recoverable.

Every exception carries ``origin`` (``"user"`` or ``"system"``), ``kind`` (``"recoverable"`` or
``"non-recoverable"``) and ``error_code``, the values an executor writes into a Flyte ``ContainerError``.
"""

from taskloom.exceptions.base import RecoverableException, TaskloomException

__all__ = ["RecoverableException", "TaskloomException"]
