"""``FileAccessProvider``: where a task's data goes, with flytekit's names (``ctx.file_access``).

A :class:`FileAccessProvider` has a local sandbox directory (scratch space of this process) and a
raw output prefix (where data that outlives the task goes: ``s3://bucket/runs``, ``memory://x``
or a local directory). It moves data through taskloom's storage plugins
(:func:`taskloom.storage.upload` and :func:`~taskloom.storage.download`), so every protocol a
plugin serves works here, and errors are :class:`~taskloom.exceptions.system.StorageError` naming
both ends. flytekit's version goes through fsspec directly; the names and signatures are the same
(synchronous methods only: flytekit's ``async_*`` twins are not offered).

Type transformers get one through the context they receive (``ctx.file_access``)::

    def to_literal(self, ctx, python_val, python_type, expected):
        local = ctx.file_access.get_random_local_path("value.txt")
        ...
        remote = ctx.file_access.put_data(local, ctx.file_access.get_random_remote_path(local))
"""

from __future__ import annotations

import os
import threading

from taskloom.core.scratch import scratch_directory
from taskloom.storage import download, get_filesystem, is_remote, raw_output_prefix, split_protocol, upload


class FileAccessProvider:
    """Reads and writes data for tasks and transformers: random local and remote paths, uploads and
    downloads through the storage plugin serving each URI's protocol.

    ``local_sandbox_dir`` is created if missing; ``raw_output_prefix`` is where
    :meth:`get_random_remote_path` puts paths (a trailing ``/`` is added). ``data_config`` and
    ``execution_metadata`` are accepted for flytekit's signature; the storage plugins read their own
    configuration (credentials, endpoints), so they are kept but not used.
    """

    def __init__(
        self,
        local_sandbox_dir: str | os.PathLike[str],
        raw_output_prefix: str,
        data_config: object = None,
        execution_metadata: dict[str, str] | None = None,
    ) -> None:
        if not local_sandbox_dir:
            raise ValueError("FileAccessProvider needs a local_sandbox_dir, got an empty one")
        if not raw_output_prefix:
            raise ValueError("FileAccessProvider needs a raw_output_prefix, got an empty one")
        self._local_sandbox_dir = os.fspath(local_sandbox_dir)
        os.makedirs(self._local_sandbox_dir, exist_ok=True)
        prefix = str(raw_output_prefix)
        self._raw_output_prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._data_config = data_config
        self._execution_metadata = execution_metadata

    @property
    def raw_output_prefix(self) -> str:
        """Where :meth:`get_random_remote_path` puts paths, ending in ``/``."""
        return self._raw_output_prefix

    @property
    def local_sandbox_dir(self) -> str:
        """The local scratch directory under which :meth:`get_random_local_path` puts paths."""
        return self._local_sandbox_dir

    @property
    def data_config(self) -> object:
        """The ``data_config`` given when this provider was made (None by default)."""
        return self._data_config

    # --- paths -----------------------------------------------------------------------------

    @staticmethod
    def is_remote(path: str | os.PathLike[str]) -> bool:
        """Tell whether ``path`` is not on the local filesystem (``s3://...`` is, ``/tmp/x`` is not)."""
        return is_remote(path)

    @staticmethod
    def get_random_string() -> str:
        """32 random hex digits (what random paths are named after)."""
        return os.urandom(16).hex()

    @staticmethod
    def get_file_tail(file_path_or_file_name: str) -> str:
        """The last part of a path (``c.txt`` for ``/a/b/c.txt``)."""
        return os.path.split(file_path_or_file_name)[1]

    def join(self, *args: str, unstrip: bool = False, fs: object = None) -> str:
        """Join URI parts with ``/`` (a trailing ``/`` on the first part is not doubled).

        ``unstrip`` and ``fs`` are accepted for flytekit's signature: parts keep their protocol here.
        """
        if not args:
            raise ValueError("join needs at least one part")
        base, *tails = args
        return "/".join([base.rstrip("/"), *tails]) if tails else base

    def get_random_local_path(self, file_path_or_file_name: str | None = None) -> str:
        """A fresh path in the local sandbox (not created); it ends in the given file name's last
        part, in a random directory, when one is given."""
        key = self.get_random_string()
        tail = self.get_file_tail(file_path_or_file_name) if file_path_or_file_name else ""
        if tail:
            return os.path.join(self._local_sandbox_dir, key, tail)
        return os.path.join(self._local_sandbox_dir, key)

    def get_random_local_directory(self) -> str:
        """A fresh, created, empty directory in the local sandbox."""
        path = self.get_random_local_path()
        os.makedirs(path, exist_ok=True)
        return path

    def get_random_remote_path(self, file_path_or_file_name: str | None = None) -> str:
        """A fresh URI under the raw output prefix; it ends in the given file name's last part when
        one is given."""
        if file_path_or_file_name:
            return self.join(
                self._raw_output_prefix, self.get_random_string(), self.get_file_tail(file_path_or_file_name)
            )
        return self.join(self._raw_output_prefix, self.get_random_string())

    def get_random_remote_directory(self) -> str:
        """A fresh URI under the raw output prefix, for a directory."""
        return self.join(self._raw_output_prefix, self.get_random_string())

    # --- data ------------------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        """Tell whether ``path`` (a local path or a URI) exists."""
        protocol, _ = split_protocol(path)
        if protocol == "file":  # no plugin needed to look at the local disk
            return os.path.exists(split_protocol(path)[1])
        return bool(get_filesystem(protocol).exists(path))

    def get_data(self, remote_path: str, local_path: str, is_multipart: bool = False, **kwargs: object) -> str:
        """Copy ``remote_path`` (a directory when ``is_multipart``) to ``local_path``; return ``local_path``.

        Raises :class:`~taskloom.exceptions.system.StorageError` naming both ends.
        """
        return download(remote_path, os.fspath(local_path), recursive=is_multipart)

    def put_data(
        self, local_path: str | os.PathLike[str], remote_path: str, is_multipart: bool = False, **kwargs: object
    ) -> str:
        """Copy ``local_path`` (a directory when ``is_multipart``) to ``remote_path``; return ``remote_path``.

        Raises :class:`~taskloom.exceptions.system.StorageError` naming both ends.
        """
        return upload(os.fspath(local_path), remote_path, recursive=is_multipart)

    def get(self, from_path: str, to_path: str, recursive: bool = False, **kwargs: object) -> str:
        """Copy ``from_path`` to the local ``to_path`` (:meth:`get_data`)."""
        return self.get_data(from_path, to_path, is_multipart=recursive)

    def put(self, from_path: str, to_path: str, recursive: bool = False, **kwargs: object) -> str:
        """Copy the local ``from_path`` to ``to_path`` (:meth:`put_data`)."""
        return self.put_data(from_path, to_path, is_multipart=recursive)

    def download(self, remote_path: str, local_path: str, **kwargs: object) -> str:
        """Copy the file ``remote_path`` to ``local_path``."""
        return self.get_data(remote_path, local_path)

    def download_directory(self, remote_path: str, local_path: str, **kwargs: object) -> str:
        """Copy the directory ``remote_path`` to ``local_path``."""
        return self.get_data(remote_path, local_path, is_multipart=True)

    def upload(self, file_path: str, to_path: str, **kwargs: object) -> str:
        """Copy the local file ``file_path`` to ``to_path``."""
        return self.put_data(file_path, to_path)

    def upload_directory(self, local_path: str, remote_path: str, **kwargs: object) -> str:
        """Copy the local directory ``local_path`` to ``remote_path``."""
        return self.put_data(local_path, remote_path, is_multipart=True)

    def __repr__(self) -> str:
        return f"FileAccessProvider(local_sandbox_dir={self._local_sandbox_dir!r}, raw_output_prefix={self._raw_output_prefix!r})"


_defaults: dict[str | None, FileAccessProvider] = {}
_defaults_lock = threading.Lock()
_sandbox_root: str | None = None


def default_file_access() -> FileAccessProvider:
    """This process's provider: a sandbox in a temporary directory made once, and the raw output
    prefix of the run (``$TASKLOOM_RAW_OUTPUT_PREFIX``, ``loom run --raw-output-prefix``), else a
    local directory beside the sandbox.
    """
    global _sandbox_root
    prefix = raw_output_prefix()
    provider = _defaults.get(prefix)
    if provider is not None:
        return provider
    with _defaults_lock:
        if _sandbox_root is None:
            _sandbox_root = scratch_directory("taskloom-files-")
        provider = _defaults.get(prefix)
        if provider is None:
            provider = FileAccessProvider(
                local_sandbox_dir=os.path.join(_sandbox_root, "sandbox"),
                raw_output_prefix=prefix or os.path.join(_sandbox_root, "raw"),
            )
            _defaults[prefix] = provider
    return provider
