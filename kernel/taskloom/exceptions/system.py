"""Errors whose origin is taskloom itself, a plugin or the platform, not the user's code.

Each class also exists under flytekit's name (``FlyteSystemException``...).
"""

from __future__ import annotations

from taskloom.exceptions.base import RecoverableException, TaskloomException


class SystemException(TaskloomException):
    """taskloom, a plugin or the platform failed; the user's code is not at fault."""

    origin = "system"
    error_code = "SYSTEM:Unknown"


class RecoverableSystemException(SystemException, RecoverableException):
    """A transient system failure (storage hiccup, lost worker); a retry may succeed."""

    error_code = "SYSTEM:Recoverable"


class PluginError(SystemException):
    """A plugin could not be imported or registered, or is disabled, or is missing.

    ``plugin`` names the plugin (the entry point's name) when one is known.
    """

    error_code = "SYSTEM:Plugin"

    def __init__(self, message: str, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class PluginWarning(UserWarning):
    """Warns that a plugin was skipped because it failed to import, register or answer a hook."""


class StorageError(SystemException):
    """Data could not be read from or written to storage; the message names the URI."""

    error_code = "SYSTEM:Storage"


class EntrypointNotLoadable(SystemException):
    """The code an execution must run could not be found or imported."""

    error_code = "SYSTEM:EntrypointNotLoadable"


FlyteSystemException = SystemException
FlyteSystemAssertion = SystemException
FlyteEntrypointNotLoadable = EntrypointNotLoadable
FlyteDownloadDataException = StorageError
FlyteUploadDataException = StorageError
