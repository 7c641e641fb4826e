"""Where data lives: URIs, their protocols, and the filesystem that serves each protocol.

The kernel stores nothing itself. A plugin answers :func:`~taskloom.hookspecs.taskloom_filesystem`
for the protocols it serves (``file`` and ``memory`` by taskloom-local, ``s3`` by taskloom-s3...),
returning an object with the :class:`FileSystem` methods; any fsspec filesystem qualifies.
"""

from __future__ import annotations

import os
from typing import IO, Any, Protocol

from taskloom.exceptions.system import StorageError
from taskloom.exceptions.user import DataNotFoundError
from taskloom.plugins import distribution_providing, get_plugin_manager


class FileSystem(Protocol):
    """The part of ``fsspec.AbstractFileSystem`` that taskloom uses; paths keep their protocol.

    :func:`upload` gives ``put`` two lists, of local files and of their destinations (a
    directory is listed file by file, and its directories too when the destination is local), so
    that fsspec neither expands glob characters, nor copies *into* a destination that exists, nor
    makes directories (s3fs makes one by creating its bucket). :func:`download` gives ``get`` a
    URI and a local path (lists of one when the URI has glob characters), or a directory's URI
    with ``recursive=True``.

    A filesystem may also offer ``explain_error(error, uri) -> str | None``: plain words for an
    error it raised (``"access denied: check AWS_ACCESS_KEY_ID..."``), which the
    :class:`~taskloom.exceptions.system.StorageError` then gives before the original message.
    """

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open ``path`` for reading (``"rb"``) or writing (``"wb"``)."""

    def get(self, rpath: str | list[str], lpath: str | list[str], recursive: bool = False, **kwargs: Any) -> Any:
        """Copy remote ``rpath`` (a file, or a directory when ``recursive``) to local ``lpath``."""

    def put(self, lpath: str | list[str], rpath: str | list[str], recursive: bool = False, **kwargs: Any) -> Any:
        """Copy local ``lpath`` (a file, or a directory when ``recursive``) to remote ``rpath``."""

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Tell whether ``path`` exists."""

    def isdir(self, path: str) -> bool:
        """Tell whether ``path`` is a directory (or a prefix holding objects)."""

    def rm(self, path: str | list[str], recursive: bool = False, **kwargs: Any) -> Any:
        """Remove ``path`` (or each path of a list)."""


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
    answer = get_plugin_manager().hook.taskloom_filesystem(protocol=protocol)
    if answer is None:
        hint = distribution_providing(protocol=protocol)
        install = f"; install {hint}" if hint else ""
        raise StorageError(f"no installed taskloom plugin serves '{protocol}://' URIs{install}")
    return answer


def download(uri: str, local_path: str, *, recursive: bool = False) -> str:
    """Copy ``uri`` to ``local_path`` through its protocol's filesystem; return ``local_path``.

    A directory (``recursive``) is copied file by file to the same relative paths under
    ``local_path``; files already there under other names stay. The copy is made under a hidden
    name beside ``local_path`` and renamed into place when complete, so ``local_path`` never holds
    half a file, nor (when it did not exist) half a directory.

    Errors name the URI and say why in plain words (:class:`~taskloom.exceptions.system.StorageError`).
    """
    filesystem = _filesystem_for(uri, "download")
    parent = os.path.dirname(local_path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    staged = _staging_path(local_path)
    try:
        if recursive:
            filesystem.get(uri, staged, recursive=True)
        elif any(character in uri for character in "*?["):  # fsspec expands a string as a glob pattern
            filesystem.get([uri], [staged])
        else:
            filesystem.get(uri, staged)
        _publish(staged, local_path)
    except Exception as error:
        _discard(staged)
        if isinstance(error, StorageError):  # a filesystem that words its own errors
            raise
        message = f"could not download {uri} to {local_path}: {_reason(filesystem, error, uri)}"
        if isinstance(error, FileNotFoundError):  # flytekit's FlyteDataNotFoundException: the user's URI
            raise DataNotFoundError(message) from error
        raise StorageError(message) from error
    return local_path


def upload(local_path: str, uri: str, *, recursive: bool = False) -> str:
    """Copy ``local_path`` (a file, or a directory when ``recursive``) to ``uri``; return ``uri``.

    A directory's files go to the same relative paths under ``uri``. Nothing partial looks
    complete: on the local filesystem the copy is made under a hidden name and renamed into place;
    on object stores each object appears whole when its upload completes (a multipart upload is
    invisible until then), and the objects of a directory whose upload failed are removed again.

    Errors name both ends and say why in plain words (:class:`~taskloom.exceptions.system.StorageError`).
    """
    protocol, path = split_protocol(uri)
    filesystem = _filesystem_for(uri, "upload")
    local = protocol == "file"
    # Directories are listed only for a local destination (to keep empty ones): an object store
    # has none, and s3fs "makes" one by creating its bucket (a mistyped bucket would appear).
    sources, relative = _tree(local_path, with_directories=local) if recursive else ([local_path], [""])
    # Only a local disk can rename atomically; an object store's objects are atomic by themselves.
    staged = _staging_path(path) if local else None
    root = staged if staged is not None else uri.rstrip("/") if recursive else uri
    targets = [f"{root}/{name}" if name else root for name in relative]
    try:
        if staged is not None:
            os.makedirs(staged if recursive else os.path.dirname(staged), exist_ok=True)
        filesystem.put(sources, targets)
        if staged is not None:
            _publish(staged, path)
    except Exception as error:
        if staged is not None:
            _discard(staged)
        elif recursive:
            _remove_quietly(filesystem, targets)
        if isinstance(error, StorageError):
            raise
        raise StorageError(f"could not upload {local_path} to {uri}: {_reason(filesystem, error, uri)}") from error
    return uri


def _filesystem_for(uri: str, action: str) -> FileSystem:
    try:
        return get_filesystem(split_protocol(uri)[0])
    except StorageError as error:
        raise StorageError(f"could not {action} {uri}: {error}") from error


def _tree(root: str, *, with_directories: bool) -> tuple[list[str], list[str]]:
    """Every file (and directory) under ``root``, itself excluded: local paths and paths relative to it."""
    sources: list[str] = []
    relative: list[str] = []
    for directory, directories, files in os.walk(root):
        directories.sort()
        for name in [*(directories if with_directories else ()), *sorted(files)]:
            source = os.path.join(directory, name)
            sources.append(source)
            relative.append(os.path.relpath(source, root).replace(os.sep, "/"))
    return sources, relative


def _staging_path(final: str) -> str:
    """A hidden name beside ``final`` for its copy in progress (the same filesystem: rename works)."""
    directory, name = os.path.split(os.path.normpath(final))
    return os.path.join(directory, f".{name}.taskloom-partial-{os.getpid()}-{os.urandom(4).hex()}")


def _publish(staged: str, final: str) -> None:
    """Rename the complete copy ``staged`` to ``final``; into an existing directory, entry by entry."""
    if os.path.isdir(staged) and not os.path.islink(staged) and os.path.isdir(final):
        for name in os.listdir(staged):
            _publish(os.path.join(staged, name), os.path.join(final, name))
        os.rmdir(staged)
    else:
        os.replace(staged, final)


def _discard(staged: str) -> None:
    if os.path.isdir(staged) and not os.path.islink(staged):
        import shutil

        shutil.rmtree(staged, ignore_errors=True)
    elif os.path.lexists(staged):
        os.unlink(staged)


def _remove_quietly(filesystem: FileSystem, uris: list[str]) -> None:
    # Best effort: the upload already failed, and that error is the one to report.
    if uris:
        try:
            filesystem.rm(uris)
        except Exception:
            pass


#: Plain words for the errors every filesystem raises, when the filesystem has none of its own.
_GENERIC_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "not found"),
    (PermissionError, "permission denied"),
    (IsADirectoryError, "a directory is in the way"),
    (NotADirectoryError, "a file is in the way"),
)


def _reason(filesystem: Any, error: BaseException, uri: str) -> str:
    """Why a transfer failed: the filesystem's own words (``explain_error``), else generic ones,
    followed by the original error's type and message."""
    reason = None
    explain = getattr(filesystem, "explain_error", None)
    if explain is not None:
        try:
            reason = explain(error, uri)
        except Exception:  # an explanation must never hide the error it explains
            reason = None
    if reason is None:
        reason = next((words for kind, words in _GENERIC_REASONS if isinstance(error, kind)), None)
    detail = f"{type(error).__name__}: {error}"
    return f"{reason} ({detail})" if reason else detail


#: The environment variable naming where executors keep offloaded data (``loom run --raw-output-prefix``).
RAW_OUTPUT_PREFIX_ENV = "TASKLOOM_RAW_OUTPUT_PREFIX"


def raw_output_prefix() -> str | None:
    """The prefix under which task outputs that are data (files, directories) are stored, or None.

    ``$TASKLOOM_RAW_OUTPUT_PREFIX`` (``s3://bucket/runs``, ``memory://scratch``, ``/data/runs``...);
    unset, a local run passes local files by reference.
    """
    return os.environ.get(RAW_OUTPUT_PREFIX_ENV) or None
