"""Files passed between tasks: :class:`FlyteFile` (also exported as :data:`File`)."""

from __future__ import annotations

from typing import IO, Any

from taskloom.types.blob import BlobValue


class FlyteFile(BlobValue):
    """A file, local or remote, passed between tasks by reference and downloaded when first used.

    ``FlyteFile("data.csv")`` refers to a local file; ``FlyteFile("s3://bucket/data.csv")`` to a
    remote one, fetched by the storage plugin serving ``s3`` on first :meth:`open`,
    :meth:`download` or ``os.fspath``. ``FlyteFile[typing.TypeVar("csv")]`` declares the format.
    """

    multipart = False

    def open(self, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open the file (downloading it first if it is remote) with the built-in :func:`open`."""
        if "r" in mode or "a" in mode or "+" in mode:
            self.download()
        return open(self.path, mode, **kwargs)


File = FlyteFile
