"""Where data lives: URIs, their protocols, and the filesystem that serves each protocol.

The kernel stores nothing itself. A plugin answers :func:`~taskloom.hookspecs.taskloom_filesystem`
for the protocols it serves (``file`` and ``memory`` by taskloom-local, ``s3`` by taskloom-s3...),
returning an object with the :class:`FileSystem` methods; any fsspec filesystem qualifies.
"""

from __future__ import annotations

import os
from typing import IO, Any, Protocol

from taskloom.exceptions.system import StorageError

#: A few protocols and the distribution that serves them, for the error when none is installed.
PROTOCOL_DISTRIBUTIONS: dict[str, str] = {
    "file": "taskloom-local",
    "memory": "taskloom-local",
    "s3": "taskloom-s3",
}


class FileSystem(Protocol):
    """The part of ``fsspec.AbstractFileSystem`` that taskloom uses; paths keep their protocol."""

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open ``path`` for reading (``"rb"``) or writing (``"wb"``)."""

    def get(self, rpath: str, lpath: str, recursive: bool = False, **kwargs: Any) -> Any:
        """Copy remote ``rpath`` (a file, or a directory when ``recursive``) to local ``lpath``."""

    def put(self, lpath: str, rpath: str, recursive: bool = False, **kwargs: Any) -> Any:
        """Copy local ``lpath`` (a file, or a directory when ``recursive``) to remote ``rpath``."""

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Tell whether ``path`` exists."""

    def isdir(self, path: str) -> bool:
        """Tell whether ``path`` is a directory (or a prefix holding objects)."""


def split_protocol(uri: str | os.PathLike[str]) -> tuple[str, str]:
    """Split ``"s3://bucket/key"`` into ``("s3", "bucket/key")``; a plain path has protocol ``"file"``."""
    text = os.fspath(uri)
    protocol, separator, rest = text.partition("://")
    if not separator or "/" in protocol or not protocol:
        return "file", text
    return protocol.lower(), rest


def is_remote(uri: str | os.PathLike[str]) -> bool:
    """Tell whether ``uri`` names something that is not on the local filesystem."""
    return split_protocol(uri)[0] != "file"


def get_filesystem(protocol: str) -> FileSystem:
    """Return the filesystem serving ``protocol`` from the plugins.

    Raises :class:`~taskloom.exceptions.system.StorageError` naming the protocol (and the
    distribution that would serve it, when known) if no plugin does.
    """
    from taskloom.plugins import get_plugin_manager

    answer = get_plugin_manager().first_result("taskloom_filesystem", protocol=protocol)
    if answer is None:
        hint = PROTOCOL_DISTRIBUTIONS.get(protocol)
        install = f"; install {hint}" if hint else ""
        raise StorageError(f"no installed taskloom plugin serves '{protocol}://' URIs{install}")
    return answer[1]


def download(uri: str, local_path: str, *, recursive: bool = False) -> str:
    """Copy ``uri`` to ``local_path`` through its protocol's filesystem; return ``local_path``.

    Errors name the URI (:class:`~taskloom.exceptions.system.StorageError`).
    """
    protocol, _ = split_protocol(uri)
    filesystem = get_filesystem(protocol)
    parent = os.path.dirname(local_path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    try:
        filesystem.get(uri, local_path, recursive=recursive)
    except StorageError:
        raise
    except Exception as error:
        raise StorageError(f"could not download {uri} to {local_path}: {type(error).__name__}: {error}") from error
    return local_path


def upload(local_path: str, uri: str, *, recursive: bool = False) -> str:
    """Copy ``local_path`` (a file, or a directory when ``recursive``) to ``uri``; return ``uri``.

    Errors name both ends (:class:`~taskloom.exceptions.system.StorageError`).
    """
    protocol, _ = split_protocol(uri)
    filesystem = get_filesystem(protocol)
    try:
        filesystem.put(local_path, uri, recursive=recursive)
    except StorageError:
        raise
    except Exception as error:
        raise StorageError(f"could not upload {local_path} to {uri}: {type(error).__name__}: {error}") from error
    return uri


#: The environment variable naming where executors keep offloaded data (``loom run --raw-output-prefix``).
RAW_OUTPUT_PREFIX_ENV = "TASKLOOM_RAW_OUTPUT_PREFIX"


def raw_output_prefix() -> str | None:
    """The prefix under which task outputs that are data (files, directories) are stored, or None.

    ``$TASKLOOM_RAW_OUTPUT_PREFIX`` (``s3://bucket/runs``, ``memory://scratch``, ``/data/runs``...);
    unset, a local run passes local files by reference.
    """
    return os.environ.get(RAW_OUTPUT_PREFIX_ENV) or None
