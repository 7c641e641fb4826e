"""The local task cache: task outputs kept in SQLite under the user cache directory.

What a key covers
-----------------
A cached task's outputs are stored under a key of four parts (DESIGN §4, plus the project):

* the task's **name**. A task of a script run as ``python tasks.py`` is named ``tasks.f`` (not
  ``__main__.f``), as when ``loom run tasks.py`` (or an import) loads the same file, so that both
  ways of running a project share its entries;
* its **project**: the directory its module is imported from, the root of its package
  (:func:`project_of`). A module ``pkg.sub.tasks`` in ``/a/pkg/sub/tasks.py`` belongs to ``/a``; a
  script run as ``python tasks.py`` or loaded by ``loom run tasks.py``, to its own directory
  (whatever the current directory); a module with no file (``python -c``, an interactive session,
  a notebook), to the current directory. A task that is not a function's (an instance of a task
  class) belongs to the module that binds it at top level, else to its class's module. Paths are
  resolved (symbolic links followed). Two projects never share an entry, however alike their
  tasks; moving or renaming a project's directory starts its cache afresh;
* its **version**. With an explicit ``cache_version`` (or ``Cache(version=...)``) the user owns
  invalidation: the entry is served whatever changed in the code until the version changes. Without
  one, the version is a hash of the source of the whole file that defines the task's function (or
  its task class) and of the function's own source. The whole file, not just the function, because
  a function that calls a helper or reads a constant of its module would otherwise be served stale
  results after the helper changed, and a stale result is a silent wrong answer where an extra run
  only costs time; the function's own source as well, so that two functions given one name in one
  file keep apart. Not covered: other modules the task imports (even of the same project), installed
  packages, data files, the environment. Give a version, and change it, when those matter.
  ``Cache(salt=...)`` is appended to either;
* a stable hash of its **input literals** (JSON with sorted keys), leaving out ``ignored_inputs``. An input
  whose transformer hashes values in memory (``TypeTransformer.hash_of``: tables) is hashed so, never made
  a literal, so that computing a key writes no file. Outputs that store data (tables) are written under
  ``<cache file>-data/`` (unless the run has a raw output prefix); ``loom cache clear`` removes it, and
  ``loom cache clear --task`` what no entry left names.

Each entry also records the task's output types (their names, as ``type_name`` writes them). An
entry whose types differ from the task's current output types (the annotation changed, the version
did not) is a miss: a warning on stderr names the task and both types, the task runs, and its new
outputs replace the entry. An entry that cannot be read back is treated the same way.

Outputs are stored as their literal map in JSON and read back through the type engine, so a hit
returns what the task would have returned. SQLite runs in WAL mode with a busy timeout, so several
processes can read and write at once. ``cache_serialize`` makes identical concurrent calls in this
process compute once: the others wait for the first and read its result. ``loom cache list`` and
``loom cache clear`` show and empty it.

A broken cache is no cache
--------------------------
A cache file that is corrupt, written by a newer taskloom, on a read-only or full file system, or
whose path cannot be a file (its directory is a regular file; it is a directory) must not fail the
tasks that use it (DESIGN §7).
:meth:`LocalCache.get` then answers a miss and :meth:`LocalCache.put` does nothing; the first failure
of a process for a cache path writes one line on stderr naming the file and the reason. Every call
tries again, so a cache that comes back (space freed, a file removed by ``loom cache clear``) is used
again. ``loom cache list`` and ``loom cache clear`` raise :class:`CacheError` instead, which the CLI
prints in one line.

Private to its user
-------------------
Cached outputs are whatever tasks returned, so the cache is created private whatever the umask:
directories it makes are 0700 (as is ``$XDG_CACHE_HOME/taskloom``, the default one), the SQLite file
0600, and SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file. An existing
directory named by ``TASKLOOM_CACHE_PATH`` is left as it is. A cache must not be shared between users.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from taskloom.extend import SystemException

CACHE_ENV = "TASKLOOM_CACHE_PATH"

#: The layout of the file, kept in SQLite's ``user_version``. A file of an older layout is emptied
#: when first opened (version 1 keyed entries without their project, so its entries cannot be told
#: apart); a file of a newer layout is left alone and treated as unusable.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    task TEXT NOT NULL,
    project TEXT NOT NULL,
    version TEXT NOT NULL,
    inputs TEXT NOT NULL,
    types TEXT NOT NULL,
    outputs TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (task, project, version, inputs)
)
"""

#: A cache key: (task name, project, version, inputs hash); see the module's docstring.
CacheKey = tuple[str, str, str, str]


class CacheEntry(NamedTuple):
    """One cached result as ``loom cache list`` shows it."""

    task: str
    project: str
    version: str
    inputs: str
    created: float


class CacheError(SystemException):
    """The cache file cannot be read, written or removed; the message names the file and why.

    Raised only by the maintenance methods (:meth:`LocalCache.entries`, :meth:`LocalCache.clear`,
    :meth:`LocalCache.discard`); running tasks never see it.
    """

    error_code = "SYSTEM:Cache"

    def __init__(self, message: str, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


def _user_cache_directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "taskloom")


def default_cache_path() -> str:
    """``$TASKLOOM_CACHE_PATH``, else ``$XDG_CACHE_HOME/taskloom/cache.sqlite`` (``~/.cache`` by default)."""
    return os.environ.get(CACHE_ENV) or os.path.join(_user_cache_directory(), "cache.sqlite")


class LocalCache:
    """Task outputs in the SQLite file ``path`` (created, private, on first use)."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path or default_cache_path()
        self._ready = False
        self._locks: dict[CacheKey, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._path

    # --- keys ------------------------------------------------------------------------------

    @staticmethod
    def key(task: Any, inputs: dict[str, Any], types: dict[str, Any] | None = None) -> CacheKey:
        """The cache key of ``task`` called with ``inputs`` (Python values): (task, project, version, inputs hash).

        ``types`` replaces the declared type of some inputs: the ``Annotated`` output type of the node
        that made the value, whose ``HashMethod`` gives its hash (flytekit hashes an output so).
        """
        import hashlib

        from taskloom.extend import TypeEngine, to_json

        settings = task.cache
        ignored = set(settings.ignored_inputs) if settings is not None else set()
        version = (settings.version if settings is not None else None) or _remembered(task, _source_version)
        if settings is not None and settings.salt:
            version = f"{version}+{settings.salt}"
        name, project = _remembered(task, _origin)
        kept = {name: value for name, value in inputs.items() if name not in ignored}
        declared = task.python_interface.inputs if not types else {**task.python_interface.inputs, **types}
        # A value whose transformer hashes it in memory (a table: TypeTransformer.hash_of) is never made a
        # literal here, since its literal means writing it to storage; it stands in the key as the literal
        # of its hash, exactly as a HashMethod's hash does (_hash_placed).
        hashes = {name: TypeEngine.hash_of(value, declared[name]) for name, value in kept.items()}
        rest = {name: value for name, value in kept.items() if hashes[name] is None}
        literals = TypeEngine.dict_to_literal_map(None, rest, {name: declared[name] for name in rest})
        if len(rest) < len(kept):
            from taskloom.extend import LiteralMap, models

            placed = dict(literals.literals)
            for name, digest in hashes.items():
                if digest is not None:
                    text = models.literals.Primitive(string_value=digest)
                    placed[name] = models.literals.Literal(scalar=models.literals.Scalar(primitive=text), hash=digest)
            literals = LiteralMap(literals=placed)
        literals = _hash_placed(literals)
        return name, project, version, hashlib.sha256(to_json(literals).encode()).hexdigest()

    # --- entries ---------------------------------------------------------------------------

    def get(self, task: Any, key: CacheKey) -> dict[str, Any] | None:
        """The cached outputs of ``key`` as Python values, or None.

        None also when the cache cannot be used (said once on stderr), when the entry was stored
        for other output types, or when it cannot be read back (both said on stderr, naming the task).
        """
        try:
            with self._connect() as connection:
                row = connection.execute(
                    "SELECT types, outputs FROM entries WHERE task = ? AND project = ? AND version = ? AND inputs = ?",
                    key,
                ).fetchone()
        except (sqlite3.Error, OSError) as error:
            self._unusable(error)
            return None
        if row is None:
            return None
        stored, outputs = row
        expected = _remembered(task, _output_types)
        if stored != expected:
            _say(
                f"task {task.name!r}: its cached outputs in {self._path} are ({stored}) but the task now returns "
                f"({expected}); running it again"
            )
            return None
        from taskloom.extend import LiteralMap, TypeEngine, from_json

        try:
            literals = from_json(outputs, LiteralMap)
            return TypeEngine.literal_map_to_kwargs(
                None, literals, task.python_interface.outputs, entity=f"task {task.name!r}", direction="output"
            )
        except Exception as error:  # an entry is only a shortcut: one we cannot read is a miss
            _say(
                f"task {task.name!r}: its cached outputs in {self._path} cannot be read back ({_reason(error)}); "
                "running it again"
            )
            return None

    def put(self, task: Any, key: CacheKey, outputs: dict[str, Any]) -> None:
        """Store ``outputs`` (Python values by output name) under ``key``, replacing an older entry.

        Never raises: a cache that cannot be written is said once on stderr, outputs that cannot be
        made literals each time (the task then runs again next time).
        """
        from taskloom.extend import TypeEngine, to_json

        try:
            types = task.python_interface.outputs
            with self._durable_files():
                literals = to_json(TypeEngine.dict_to_literal_map(None, outputs, types, direction="output"))
        except Exception as error:  # the task succeeded; only its shortcut is lost
            _say(f"task {task.name!r}: its outputs cannot be cached ({_reason(error)}); it will run again")
            return
        try:
            with self._connect() as connection:
                connection.execute(
                    "INSERT OR REPLACE INTO entries (task, project, version, inputs, types, outputs, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*key, _remembered(task, _output_types), literals, time.time()),
                )
        except (sqlite3.Error, OSError) as error:
            self._unusable(error)

    @contextlib.contextmanager
    def _durable_files(self) -> Iterator[None]:
        """While outputs become literals, data they store (a table's Parquet) goes under ``data/`` beside
        the cache file, where it lives as long as the entry, unless the run has a raw output prefix of its
        own (``--raw-output-prefix``), which is durable by the user's choice. The default prefix is a
        temporary directory: an entry naming a file there would outlive its data."""
        from taskloom.extend import FileAccessProvider, FlyteContext, FlyteContextManager, raw_output_prefix

        if raw_output_prefix() is not None:
            yield
            return
        # Made by the first value that stores data (taskloom-local's file storage makes directories as it
        # writes), inside the cache's own directory, which is private (0700). Named after the cache file,
        # so that a cache file put in a project's directory never shares a "data" directory of the user's.
        data = self.data_directory
        # A context of its own, not current_context() changed: that would fix the process's context outside
        # tasks with this thread's parameters. Encoders use only its file access (the sandbox: unused).
        access = FileAccessProvider(local_sandbox_dir=tempfile.gettempdir(), raw_output_prefix=data)
        with FlyteContextManager.with_context(FlyteContext(file_access=access)):
            yield

    @property
    def data_directory(self) -> str:
        """Where cached values that store data (tables) are written: ``<cache file>-data/``, beside it."""
        return os.path.abspath(self._path) + "-data"

    def lock(self, key: CacheKey) -> threading.Lock:
        """The lock that serialises identical calls of a ``cache_serialize`` task in this process."""
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    # --- maintenance (loom cache) -----------------------------------------------------------

    def entries(self) -> list[CacheEntry]:
        """Every entry, newest first (none when there is no file yet).

        Reads without writing (it neither creates the file nor upgrades its layout). Raises
        :class:`CacheError` when the file cannot be read.
        """
        if not self._exists():
            return []
        try:
            connection = sqlite3.connect(_uri(self._path, "ro"), uri=True, timeout=30)
            try:
                layout = connection.execute("PRAGMA user_version").fetchone()[0]
                if layout > SCHEMA_VERSION:
                    raise self._unreadable(self._newer(layout))
                if layout < SCHEMA_VERSION:  # empty, or an older taskloom's entries, dropped on first use
                    return []
                rows = connection.execute(
                    "SELECT task, project, version, inputs, created FROM entries ORDER BY created DESC"
                ).fetchall()
            finally:
                connection.close()
        except (sqlite3.Error, OSError) as error:
            raise self._unreadable(self._explain(error)) from error
        return [CacheEntry(*row) for row in rows]

    def clear(self, task: str | None = None) -> int:
        """Delete every entry (or those of the task named ``task``); return how many were deleted.

        Raises :class:`CacheError` when the file cannot be opened or written; :meth:`discard`
        then removes it.
        """
        if not self._exists():
            return 0
        try:
            with self._connect() as connection:
                if task is None:
                    cursor = connection.execute("DELETE FROM entries")
                else:
                    cursor = connection.execute("DELETE FROM entries WHERE task = ?", (task,))
        except (sqlite3.Error, OSError) as error:
            raise self._unreadable(self._explain(error)) from error
        if task is None:  # no entry names a stored value any more
            shutil.rmtree(self.data_directory, ignore_errors=True)
        else:
            self._remove_unreferenced_data()
        return cursor.rowcount

    def _remove_unreferenced_data(self) -> None:
        """Remove the stored values (a table's directory under :attr:`data_directory`) no entry names.

        The entries left name theirs in their outputs (a literal's URI). A task cached while this runs
        in another process may have written its data and not yet its entry: that entry then reads as
        unreadable on its next use, which is a miss (the task runs again), never a wrong answer.
        """
        data = self.data_directory
        try:
            stored = os.listdir(data)
        except OSError:  # none yet, or unreadable: nothing to remove
            return
        try:
            with self._connect() as connection:
                outputs = [row[0] for row in connection.execute("SELECT outputs FROM entries")]
        except (sqlite3.Error, OSError):
            return
        named: set[str] = set()
        for text in outputs:
            try:
                named.update(_names_under(json.loads(text), data + "/"))
            except ValueError:  # an entry we cannot read keeps everything: it may name any of them
                return
        for name in stored:
            if name not in named:
                shutil.rmtree(os.path.join(data, name), ignore_errors=True)

    def discard(self) -> bool:
        """Remove the cache file with its ``-wal`` and ``-shm`` files; False if there was none.

        For a cache :meth:`clear` cannot empty: the next cached task makes a new file. Raises
        :class:`CacheError` when the path is not a regular file (it is never a directory taskloom
        should delete) or the file cannot be removed.
        """
        try:
            found = os.lstat(self._path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as error:
            raise self._unremovable(self._explain(error)) from error
        if not stat.S_ISREG(found.st_mode):
            kind = "it is a directory" if stat.S_ISDIR(found.st_mode) else "it is not a regular file"
            message = f"the task cache {self._path} cannot be used: {kind}; point {CACHE_ENV} at a file"
            raise CacheError(message, self._path, kind)
        try:
            for suffix in ("-wal", "-shm", "-journal", ""):  # the database last: a failure leaves it to retry
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self._path + suffix)
        except OSError as error:
            raise self._unremovable(self._explain(error)) from error
        self._ready = False
        return True

    # --- the file ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe across threads and processes. SQLite is
        # never allowed to create the file (mode=rw): only _prepare_file does, private to the user, so
        # a file removed under a running process is made again private, not with the umask's mode.
        connection = None
        try:
            if not self._ready:
                self._prepare_file()
            connection = sqlite3.connect(_uri(self._path, "rw"), uri=True, timeout=30, isolation_level=None)
            if not self._ready:
                self._prepare_schema(connection)
                self._ready = True
            yield connection
        except BaseException:
            self._ready = False  # the next operation prepares the file again
            raise
        finally:
            if connection is not None:
                connection.close()

    def _prepare_file(self) -> None:
        """Make the directory and the file, private to the user, before SQLite opens them.

        The file exists with mode 0600 before SQLite makes its ``-wal`` and ``-shm`` files, which
        take the database file's mode. Raises OSError naming what is wrong with the path.
        """
        directory = os.path.dirname(os.path.abspath(self._path))
        if not os.path.isdir(directory):
            in_the_way = _file_in_the_way(self._path)
            if in_the_way is not None:  # makedirs would say "File exists", or name a path below it
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), in_the_way)
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)  # makedirs's mode passes through the umask
        elif directory == os.path.abspath(_user_cache_directory()):
            _make_private(directory, 0o700)  # taskloom's own directory, which others may have made first
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            found = os.fstat(descriptor)
            if found.st_uid == os.geteuid() and stat.S_IMODE(found.st_mode) != 0o600:
                os.fchmod(descriptor, 0o600)  # made under an odd umask, or by an older taskloom
        finally:
            os.close(descriptor)
        for suffix in ("-wal", "-shm"):
            _make_private(self._path + suffix, 0o600)

    def _prepare_schema(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        if connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        connection.execute("BEGIN IMMEDIATE")  # one process upgrades; the others wait, then see it done
        try:
            layout = connection.execute("PRAGMA user_version").fetchone()[0]
            if layout > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(self._newer(layout))
            if layout < SCHEMA_VERSION:
                connection.execute("DROP TABLE IF EXISTS entries")
                connection.execute(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise

    def _exists(self) -> bool:
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            return False
        except OSError as error:
            in_the_way = _file_in_the_way(self._path) if isinstance(error, NotADirectoryError) else None
            if in_the_way is not None:  # name the regular file, not the path below it
                error = NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), in_the_way)
            raise self._unreadable(self._explain(error)) from error
        if stat.S_ISDIR(found.st_mode):
            raise self._unreadable("it is a directory")
        return True

    def _unreadable(self, reason: str) -> CacheError:
        return CacheError(f"the task cache {self._path} is unreadable ({reason})", self._path, reason)

    def _unremovable(self, reason: str) -> CacheError:
        return CacheError(f"cannot remove the task cache {self._path} ({reason})", self._path, reason)

    def _explain(self, error: BaseException) -> str:
        """``error`` as a reason in a few words: the system's or SQLite's own, and what SQLite leaves unsaid."""
        if isinstance(error, OSError) and error.strerror:
            if error.filename and os.path.abspath(error.filename) != os.path.abspath(self._path):
                return f"{error.filename}: {error.strerror}"  # the file that is in the way, or a -wal file
            return error.strerror
        if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
            # A WAL database needs its -shm file beside it, even to be read: a read-only file system stops that.
            with contextlib.suppress(OSError):
                if os.statvfs(os.path.dirname(os.path.abspath(self._path))).f_flag & os.ST_RDONLY:
                    return f"{os.strerror(errno.EROFS)}; SQLite: {error}"
        return _reason(error)

    def _newer(self, layout: int) -> str:
        return f"written by a newer taskloom (layout {layout}, this one reads {SCHEMA_VERSION})"

    def _unusable(self, error: BaseException) -> None:
        path = os.path.abspath(self._path)
        with _warned_guard:
            if path in _warned:
                return
            _warned.add(path)
        damaged = isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError)
        remedy = ": `loom cache clear` removes it" if damaged else ""
        _say(f"cannot use the task cache {self._path} ({self._explain(error)}); cached tasks run without it{remedy}")


#: Cache paths already said to be unusable in this process.
_warned: set[str] = set()
_warned_guard = threading.Lock()


def _say(message: str) -> None:
    stream = sys.stderr
    if stream is not None:  # pythonw has none
        with contextlib.suppress(OSError, ValueError):
            stream.write(f"taskloom: {message}\n")


def _reason(error: BaseException) -> str:
    if isinstance(error, sqlite3.Error):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _file_in_the_way(path: str) -> str | None:
    """The nearest existing ancestor of ``path`` if it is not a directory (a regular file), else None."""
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return None if os.path.isdir(directory) else directory


def _uri(path: str, mode: str) -> str:
    # SQLite URIs give "?" and "#" a meaning and decode "%"; any other byte of a path is itself.
    quoted = os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{quoted}?mode={mode}"


def _make_private(path: str, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        found = os.stat(path)
        if found.st_uid == os.geteuid() and stat.S_IMODE(found.st_mode) != mode:
            os.chmod(path, mode)


# --- what a key is made of -------------------------------------------------------------------


def _output_types(task: Any) -> str:
    """The task's output types as an entry records them: ``o0: int, o1: list[str]``."""
    from taskloom.extend import type_name

    outputs = task.python_interface.outputs
    return ", ".join(f"{name}: {type_name(python_type)}" for name, python_type in outputs.items()) or "no outputs"


def project_of(module_name: str) -> str:
    """The project of the loaded module ``module_name``: the directory from which it is imported.

    For ``pkg.sub.tasks`` loaded from ``/a/pkg/sub/tasks.py`` (or the package ``pkg`` from
    ``/a/pkg/__init__.py``) it is ``/a``; for a script (``python tasks.py``, ``loom run tasks.py``), its
    directory; for ``python -m pkg.tasks``, as for the import of ``pkg.tasks``. A module whose file
    does not sit where its name says (loaded from a file under another name) belongs to its file's
    directory; one with no file, to the current directory. Resolved (symbolic links followed).
    """
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return os.path.realpath(os.curdir)
    remembered = _projects.get((module_name, file))
    if remembered is None:
        remembered = _projects[(module_name, file)] = _project_of_file(_import_name(module_name, module), file)
    return remembered


_projects: dict[tuple[str, str], str] = {}


def _project_of_file(name: str, file: str) -> str:
    here = os.path.dirname(os.path.abspath(file))
    parts = name.split(".") if name else []
    is_package = os.path.splitext(os.path.basename(file))[0] == "__init__"
    directory = here
    for package in reversed(parts if is_package else parts[:-1]):
        if os.path.basename(directory) != package:
            return os.path.realpath(here)
        directory = os.path.dirname(directory)
    return os.path.realpath(directory)


def _import_name(module_name: str, module: Any) -> str:
    """The name the module is imported by: for ``__main__``, its spec's (``python -m``), or none (a script)."""
    if module_name != "__main__":
        return module_name
    spec = getattr(module, "__spec__", None)
    return getattr(spec, "name", None) or ""


def _origin(task: Any) -> tuple[str, str]:
    """(the task's name in keys, its project)."""
    function = getattr(task, "task_function", None)
    if function is not None:
        module_name = function.__module__
    else:  # a task class's instance belongs to the module that binds it, not to its class's
        from taskloom.extend import find_binding

        binding = find_binding(task)
        module_name = binding[0].__name__ if binding is not None else type(task).__module__
    return task.name, project_of(module_name)


def _hash_placed(literal: Any) -> Any:
    """``literal`` (a literal or a literal map) with each literal that carries a custom hash
    (``Literal.hash``, from a ``HashMethod``) replaced by its hash: two values with the same hash make
    the same cache key, as a Flyte backend computes keys. Unchanged when none carries one, so keys of
    values without custom hashes stay what they were.
    """
    from taskloom.extend import models

    literals = models.literals
    if isinstance(literal, literals.LiteralMap):
        placed = {name: _hash_placed(item) for name, item in literal.literals.items()}
        changed = any(placed[name] is not item for name, item in literal.literals.items())
        return literals.LiteralMap(literals=placed) if changed else literal
    if literal.hash:
        text = literals.Primitive(string_value=literal.hash)
        return literals.Literal(scalar=literals.Scalar(primitive=text), hash=literal.hash)
    if literal.collection is not None:
        items = [_hash_placed(item) for item in literal.collection.literals]
        if any(new is not old for new, old in zip(items, literal.collection.literals, strict=True)):
            return literals.Literal(collection=literals.LiteralCollection(literals=items))
    elif literal.map is not None:
        inner = _hash_placed(literal.map)
        if inner is not literal.map:
            return literals.Literal(map=inner)
    elif literal.scalar is not None and literal.scalar.union is not None:
        union = literal.scalar.union
        value = _hash_placed(union.value)
        if value is not union.value:
            return literals.Literal(scalar=literals.Scalar(union=literals.Union(value=value, type=union.type)))
    return literal


def _source_version(task: Any) -> str:
    """The version of a task without one: a hash of its module's file and of its function's source."""
    import hashlib
    import inspect  # ~8 ms: only for unversioned caches

    target = getattr(task, "task_function", None) or type(task)
    digest = hashlib.sha256()
    file = getattr(sys.modules.get(target.__module__), "__file__", None)
    if file:
        digest.update(_file_digest(file))
    try:
        source = inspect.getsource(target).encode()
    except (OSError, TypeError):  # no file (python -c, a session): the compiled code stands for it
        code = getattr(target, "__code__", None)
        source = _code_bytes(code) if code is not None else target.__qualname__.encode()
    digest.update(source)
    return "src-" + digest.hexdigest()[:16]


def _file_digest(file: str) -> bytes:
    remembered = _file_digests.get(file)
    if remembered is None:
        import hashlib

        try:
            with open(file, "rb") as handle:
                remembered = hashlib.sha256(handle.read()).digest()
        except OSError:
            remembered = b""
        _file_digests[file] = remembered
    return remembered


#: Module files' hashes, read once per process: the code that runs is the code that was loaded.
_file_digests: dict[str, bytes] = {}


def _code_bytes(code: Any) -> bytes:
    # Not marshal.dumps: its output depends on reference counts, so it differs between processes.
    # Not repr of a frozenset constant either: its order follows string hashing, which is salted.
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars)).encode()]
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            parts.append(_code_bytes(constant))
        elif isinstance(constant, frozenset):
            parts.append(repr(sorted(map(repr, constant))).encode())
        else:
            parts.append(repr(constant).encode())
    return b"\0".join(parts)


_remembered_values: weakref.WeakKeyDictionary[Any, dict[Callable[[Any], Any], Any]] = weakref.WeakKeyDictionary()


def _remembered(task: Any, compute: Callable[[Any], Any]) -> Any:
    """``compute(task)``, computed once per task object (its source and module do not change while it lives)."""
    try:
        values = _remembered_values.setdefault(task, {})
    except TypeError:  # a task type that is not hashable or not weakly referable
        return compute(task)
    if compute not in values:
        values[compute] = compute(task)
    return values[compute]


def _names_under(value: Any, directory: str) -> Iterator[str]:
    """The first path component under ``directory`` of every string in the JSON ``value`` that lies there."""
    if isinstance(value, str):
        if value.startswith(directory):
            yield value[len(directory) :].split("/", 1)[0]
    elif isinstance(value, dict):
        for each in value.values():
            yield from _names_under(each, directory)
    elif isinstance(value, list):
        for each in value:
            yield from _names_under(each, directory)
