"""Directories passed between tasks: :class:`FlyteDirectory` (also exported as :data:`Directory`)."""

from __future__ import annotations

import os

from taskloom.types.blob import BlobValue


class FlyteDirectory(BlobValue):
    """A directory, local or remote, passed by reference and downloaded (recursively) when first used.

    ``FlyteDirectory[typing.TypeVar("parquet")]`` declares the format of the files inside.
    """

    multipart = True

    def listdir(self) -> list[str]:
        """Names of the entries of the directory (downloading it first if it is remote)."""
        return sorted(os.listdir(self.download()))


Directory = FlyteDirectory
