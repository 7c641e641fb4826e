"""Checkpoints: state a task saves so that its next attempt can resume (flytekit's ``Checkpoint``).

``current_context().checkpoint.write(b"...")`` in one attempt; ``read()`` in the next returns it.
Locally a checkpoint is a directory kept for the node across its attempts; other executors give a
checkpoint backed by their storage with the same methods.
"""

from __future__ import annotations

import os


class Checkpoint:
    """A checkpoint stored in the local directory ``path`` (created on first write)."""

    _BLOB = "_checkpoint"

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        """The directory holding the checkpoint."""
        return self._path

    def prev_exists(self) -> bool:
        """Whether an earlier attempt saved something."""
        return os.path.isdir(self._path) and bool(os.listdir(self._path))

    def read(self) -> bytes | None:
        """The bytes saved with :meth:`write`, or None."""
        try:
            with open(os.path.join(self._path, self._BLOB), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def write(self, data: bytes) -> None:
        """Save ``data``, replacing what was saved before (written to a temporary file, then renamed)."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"Checkpoint.write expects bytes, got {type(data).__name__}")
        os.makedirs(self._path, exist_ok=True)
        target = os.path.join(self._path, self._BLOB)
        partial = target + ".partial"
        with open(partial, "wb") as handle:
            handle.write(data)
        os.replace(partial, target)

    def save(self, source: str) -> None:
        """Save the file or directory ``source`` into the checkpoint."""
        import shutil  # ~3 ms: only when a checkpoint copies files

        os.makedirs(self._path, exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, self._path, dirs_exist_ok=True)
        else:
            shutil.copy2(source, self._path)

    def restore(self, destination: str) -> str | None:
        """Copy what was saved into the directory ``destination``; return it, or None if nothing was."""
        if not self.prev_exists():
            return None
        import shutil

        shutil.copytree(self._path, destination, dirs_exist_ok=True)
        return destination
