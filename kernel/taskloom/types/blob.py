"""The common base of :class:`~taskloom.types.file.FlyteFile` and
:class:`~taskloom.types.directory.FlyteDirectory`: data stored as a blob, downloaded lazily.
"""

from __future__ import annotations

import os
import threading
import typing
from typing import Any, ClassVar

from taskloom.storage import download, is_remote, upload

_download_root: str | None = None
_download_lock = threading.Lock()


def download_root() -> str:
    """The directory under which remote files and directories of this process are downloaded."""
    global _download_root
    with _download_lock:
        if _download_root is None:
            from taskloom.core.scratch import scratch_directory

            _download_root = scratch_directory("taskloom-downloads-")
        return _download_root


class BlobValue(os.PathLike[str]):
    """A local or remote path whose content is fetched on first use.

    ``path`` is the local path (for remote data, where it will be downloaded), ``remote_source``
    the remote URI it comes from (None for local data), ``uri`` what a literal records.
    ``os.fspath(value)`` and :meth:`download` fetch remote data through the storage plugin that
    serves its protocol.

    Subscripting with a format gives a subclass carrying it: ``FlyteFile[typing.TypeVar("csv")]``
    or ``FlyteFile["csv"]``; the same format always gives the same class.
    """

    #: True for directories: downloads are recursive and literals are multipart blobs.
    multipart: ClassVar[bool] = False
    _format: ClassVar[str] = ""
    _formatted: ClassVar[dict[str, type]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_format" not in cls.__dict__:  # a class of its own, not a formatted variant
            cls._formatted = {}

    def __init__(self, path: str | os.PathLike[str], remote_path: str | None = None) -> None:
        text = os.fspath(path)
        self._remote_path = remote_path
        if is_remote(text):
            self._remote_source: str | None = text
            self._path: str | None = None  # chosen on first use: reading a literal touches no disk
            self._downloaded = False
        else:
            self._remote_source = None
            self._path = text
            self._downloaded = True
        self._lock = threading.RLock()  # download() picks the path under the same lock

    @classmethod
    def extension(cls) -> str:
        """The format given by subscripting (``"csv"``), or ``""``."""
        return cls._format

    def __class_getitem__(cls, item: Any) -> type:
        if isinstance(item, typing.TypeVar):
            fmt = item.__name__
        elif isinstance(item, str):
            fmt = item
        else:
            raise TypeError(f"{cls.__name__}[...] takes a format name or typing.TypeVar('name'), got {item!r}")
        fmt = fmt.strip()
        base: type[BlobValue] = next(klass for klass in cls.__mro__ if "_formatted" in klass.__dict__)
        formatted = base._formatted
        if fmt not in formatted:
            formatted[fmt] = type(f"{base.__name__}[{fmt}]", (base,), {"_format": fmt, "__module__": base.__module__})
        return formatted[fmt]

    @property
    def path(self) -> str:
        """The local path (for remote data: where it is, or will be, downloaded)."""
        if self._path is None:
            with self._lock:
                if self._path is None:
                    assert self._remote_source is not None
                    name = self._remote_source.rstrip("/").rsplit("/", 1)[-1] or "data"
                    import tempfile

                    self._path = os.path.join(tempfile.mkdtemp(dir=download_root()), name)
        return self._path

    @property
    def remote_source(self) -> str | None:
        """The remote URI the data comes from, or None for local data."""
        return self._remote_source

    @property
    def remote_path(self) -> str | None:
        """Where the data should be uploaded when it leaves a task, if the user chose a place."""
        return self._remote_path

    @property
    def uri(self) -> str:
        """What a literal records: the remote URI when there is one, else the local path."""
        return self._remote_source or self.path

    @property
    def downloaded(self) -> bool:
        """Whether the data is available at :attr:`path`."""
        return self._downloaded

    def download(self) -> str:
        """Fetch remote data to :attr:`path` (once) and return the local path."""
        if not self._downloaded:
            with self._lock:
                if not self._downloaded:
                    assert self._remote_source is not None
                    download(self._remote_source, self.path, recursive=self.multipart)
                    self._downloaded = True
        return self.path

    def __fspath__(self) -> str:
        return self.download()

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled to cross to another process of this machine (a worker of the process pool): the
        # value without its lock, and a formatted class (``FlyteFile["csv"]``, which has no importable
        # name) as its base class and format.
        state = {name: value for name, value in self.__dict__.items() if name != "_lock"}
        kind = type(self)
        if "_format" in kind.__dict__:  # FlyteFile["csv"], made by __class_getitem__ from its base
            return _restore, (kind.__mro__[1], kind._format, state)
        return _restore, (kind, "", state)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BlobValue) or other.multipart != self.multipart:
            return NotImplemented
        return self.uri == other.uri and self.extension() == other.extension()

    def __hash__(self) -> int:
        return hash((self.multipart, self.uri, self.extension()))

    def __repr__(self) -> str:
        source = f", remote_source={self._remote_source!r}" if self._remote_source else ""
        return f"{type(self).__name__}(path={self._path!r}{source})"


def offload(outputs: dict[str, Any], types: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``outputs`` with every local file and directory among them uploaded under ``prefix``.

    What an executor does with a task's outputs when they must outlive the machine that made them.
    Each becomes a value of its class pointing at ``<prefix>/<output>/<name>`` (or at the
    ``remote_path`` its author chose), downloaded lazily by whoever reads it. Values already remote
    stay as they are; files inside lists and dicts are found too (inside dataclasses they are not:
    they stay local paths, as they would be without a prefix).
    """
    return {name: _offload_value(value, types.get(name), f"{prefix}/{name}") for name, value in outputs.items()}


def _offload_value(value: Any, python_type: Any, target: str) -> Any:
    if isinstance(value, BlobValue) or (
        isinstance(value, (str, os.PathLike)) and isinstance(python_type, type) and issubclass(python_type, BlobValue)
    ):
        blob = value if isinstance(value, BlobValue) else python_type(value)
        if blob.remote_source is not None:
            return value
        local = blob.path
        destination = blob.remote_path or f"{target}/{os.path.basename(os.path.normpath(local)) or 'data'}"
        upload(local, destination, recursive=blob.multipart)
        return type(blob)(destination)
    arguments = typing.get_args(python_type)
    if isinstance(value, list):
        item_type = arguments[0] if arguments else None
        return [_offload_value(item, item_type, f"{target}/{index}") for index, item in enumerate(value)]
    if isinstance(value, dict):
        item_type = arguments[1] if len(arguments) == 2 else None
        return {key: _offload_value(item, item_type, f"{target}/{key}") for key, item in value.items()}
    return value


def _restore(cls: type[BlobValue], fmt: str, state: dict[str, Any]) -> BlobValue:
    """Rebuild a pickled :class:`BlobValue` (see ``BlobValue.__reduce__``)."""
    if fmt:
        cls = cls[fmt]  # type: ignore[index]
    value = cls.__new__(cls)
    value.__dict__.update(state)
    value._lock = threading.RLock()
    return value
