"""The local task cache: task outputs kept in SQLite under the user cache directory.

A cached task's outputs are stored under a key of three parts, as DESIGN §4 fixes it:

* the task's name;
* its cache version, or, when the task gives none, a hash of the function's source (so editing the
  function invalidates its entries), plus the cache's salt;
* a stable hash of its input literals (JSON with sorted keys), leaving out ``ignored_inputs``.

Outputs are stored as their literal map in JSON and read back through the type engine, so a hit
returns what the task would have returned. SQLite runs in WAL mode with a busy timeout, so several
processes can read and write at once. ``cache_serialize`` makes identical concurrent calls in this
process compute once: the others wait for the first and read its result. ``loom cache list`` and
``loom cache clear`` show and empty it.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sqlite3
import threading
import time
from typing import Any, Iterator

CACHE_ENV = "TASKLOOM_CACHE_PATH"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    task TEXT NOT NULL,
    version TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (task, version, inputs)
)
"""


def default_cache_path() -> str:
    """``$TASKLOOM_CACHE_PATH``, else ``$XDG_CACHE_HOME/taskloom/cache.sqlite`` (``~/.cache`` by default)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "taskloom", "cache.sqlite")


class LocalCache:
    """Task outputs in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path or default_cache_path()
        self._ready = False
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe across threads and processes.
        if not self._ready:
            os.makedirs(os.path.dirname(self._path) or ".", exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        try:
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                self._ready = True
            yield connection
        finally:
            connection.close()

    # --- keys ------------------------------------------------------------------------------

    @staticmethod
    def key(task: Any, inputs: dict[str, Any]) -> tuple[str, str, str]:
        """The cache key of ``task`` called with ``inputs`` (Python values): (task, version, inputs hash)."""
        from taskloom.core.type_engine import TypeEngine
        from taskloom.models.converter import to_json

        settings = task.cache
        ignored = set(settings.ignored_inputs) if settings is not None else set()
        version = (settings.version if settings is not None else None) or _source_hash(task)
        if settings is not None and settings.salt:
            version = f"{version}+{settings.salt}"
        kept = {name: value for name, value in inputs.items() if name not in ignored}
        types = task.python_interface.inputs
        literals = TypeEngine.dict_to_literal_map(None, kept, {name: types[name] for name in kept})
        import hashlib

        return task.name, version, hashlib.sha256(to_json(literals).encode()).hexdigest()

    # --- entries ---------------------------------------------------------------------------

    def get(self, task: Any, key: tuple[str, str, str]) -> dict[str, Any] | None:
        """The cached outputs of ``key`` as Python values, or None."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT outputs FROM entries WHERE task = ? AND version = ? AND inputs = ?", key
            ).fetchone()
        if row is None:
            return None
        from taskloom.core.type_engine import TypeEngine
        from taskloom.models.converter import from_json
        from taskloom.models.literals import LiteralMap

        return TypeEngine.literal_map_to_kwargs(
            None, from_json(row[0], LiteralMap), task.python_interface.outputs, entity=f"task {task.name!r}", direction="output"
        )

    def put(self, task: Any, key: tuple[str, str, str], outputs: dict[str, Any]) -> None:
        """Store ``outputs`` (Python values by output name) under ``key``, replacing an older entry."""
        from taskloom.core.type_engine import TypeEngine
        from taskloom.models.converter import to_json

        literals = TypeEngine.dict_to_literal_map(None, outputs, task.python_interface.outputs, direction="output")
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO entries (task, version, inputs, outputs, created) VALUES (?, ?, ?, ?, ?)",
                (*key, to_json(literals), time.time()),
            )

    def lock(self, key: tuple[str, str, str]) -> threading.Lock:
        """The lock that serialises identical calls of a ``cache_serialize`` task in this process."""
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def entries(self) -> Iterator[tuple[str, str, str, float]]:
        """Every entry as (task, version, inputs hash, creation time), newest first."""
        if not os.path.exists(self._path):
            return iter(())
        with self._connect() as connection:
            rows = connection.execute("SELECT task, version, inputs, created FROM entries ORDER BY created DESC").fetchall()
        return iter(rows)

    def clear(self, task: str | None = None) -> int:
        """Delete every entry (or those of ``task``); return how many were deleted."""
        if not os.path.exists(self._path):
            return 0
        with self._connect() as connection:
            if task is None:
                cursor = connection.execute("DELETE FROM entries")
            else:
                cursor = connection.execute("DELETE FROM entries WHERE task = ?", (task,))
        return cursor.rowcount


def _source_hash(task: Any) -> str:
    # Unversioned caches follow the code: the hash of the function's source (or the task class's).
    target = getattr(task, "task_function", None) or type(task)
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        source = getattr(target, "__qualname__", repr(target))
    import hashlib

    return "src-" + hashlib.sha256(source.encode()).hexdigest()[:16]
