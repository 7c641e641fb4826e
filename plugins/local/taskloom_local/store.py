"""The execution store: what local executions did, kept so that ``loom executions`` can show it and a
killed or failed run can be resumed (``loom run ... --resume ID``).

Everything lives under the data directory, ``$TASKLOOM_DATA_DIR``, else ``$XDG_DATA_HOME/taskloom``
(``~/.local/share/taskloom`` by default):

* ``executions.sqlite`` (WAL, a busy timeout, like the task cache) has a row per execution (entity,
  kind, the module and file it came from, status, times, error, the process that ran it) and a row
  per node (its path, such as ``n3``, ``n1-n0`` in a subworkflow, ``n2-5`` for a map element, with
  entity, status, attempts, times, error, and what became of its outputs);
* ``executions/<id>/inputs.literals`` and ``outputs.literals`` hold the execution's inputs and
  outputs, and ``executions/<id>/nodes/<path>.literals`` a node's outputs: literal maps, pickled.
  Pickle, not the contracts' JSON, because building the JSON converter costs a ``loom run`` some
  60 ms; the store is read only by this SDK on this machine, and a file that no longer unpickles
  (another taskloom version) is a node that runs again on resume. Plain values (builtin data that
  the type engine's fast tests accept) are kept as they are, with their types' names
  (:class:`PlainValues`), and made the same literal map when read: recording them needs no
  literal, so a run need not import the contracts (~30 ms) to record them.

A literal file is written to a temporary file in its directory and renamed over its final name
(``os.replace``) before the row that names it is committed, so a file named by a row is always
whole; temporary files are never read. Files are not fsynced: a process killed at any point leaves
the store consistent, a machine that loses power may lose the last files written (a resume finds
them missing or unreadable and re-runs those nodes).

The children a task body starts (map elements, eager calls, a dynamic graph's node) are not rows:
a map of 100,000 elements would make 100,000 of them. While their parent runs, the outputs of the
children that finished are written in *chunks* (``executions/<id>/children/<parent>/<n>.literals``, a
row each in ``children``), so that a resume of a parent that did not finish skips them; once the
parent has finished they are not needed and are not written, and the parent's row counts them.
Failed children do get a row, with their error.

For reports (taskloom-report reads them through ``taskloom_local``'s top-level names), an execution's row
keeps its graph's shape (``shape``: nodes, what each runs, where each input comes from) and a node's row its
cache hit or miss, its failure's traceback, short previews of its outputs (never whole values), and its
children's durations as a histogram of a few hundred bytes whatever their number: all computed by the
recorder's thread, off the executor's hot path.

The store is private to the user who runs: directories are made ``0700`` and files ``0600``,
whatever the umask. It holds pickles, which run code when read: it must never be shared between
users, nor read from a directory someone else can write. Only names that rows give are opened, and a
name that would lead outside its execution's directory (``../``, an absolute path) is refused.

The writing itself is done off the hot path by :mod:`taskloom_local.recorder`; this module holds the
storage and its queries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from taskloom.extend import SystemException, UserValueError

if TYPE_CHECKING:
    import sqlite3

DATA_ENV = "TASKLOOM_DATA_DIR"
RECORD_ENV = "TASKLOOM_RECORD"

#: What became of a succeeded node's outputs (the ``outputs_state`` column).
STORED = "stored"  # written: a resume reads them back instead of running the node
SUPERSEDED = "superseded"  # not written: every node that reads them had finished when they would have been
UNRECORDED = "unrecorded"  # could not be made literals: a resume runs the node again

#: Characters of a failure's traceback a node's row keeps (the end: where it was raised).
TRACEBACK_CHARS = 20_000

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS executions (
        id TEXT PRIMARY KEY,
        entity TEXT NOT NULL,
        kind TEXT NOT NULL,
        module TEXT,
        file TEXT,
        status TEXT NOT NULL,
        started REAL NOT NULL,
        finished REAL,
        error TEXT,
        inputs TEXT,
        outputs TEXT,
        note TEXT,
        host TEXT,
        pid INTEGER,
        resumes INTEGER NOT NULL DEFAULT 0,
        graph TEXT,
        shape TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS nodes (
        execution TEXT NOT NULL,
        path TEXT NOT NULL,
        parent TEXT,
        entity TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        started REAL,
        finished REAL,
        error TEXT,
        outputs TEXT,
        outputs_state TEXT,
        fingerprint TEXT,
        children_succeeded INTEGER,
        children_failed INTEGER,
        cache TEXT,
        traceback TEXT,
        previews TEXT,
        elements TEXT,
        logs TEXT,
        PRIMARY KEY (execution, path)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE IF NOT EXISTS children (
        execution TEXT NOT NULL,
        parent TEXT NOT NULL,
        number INTEGER NOT NULL,
        file TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (execution, parent, number)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS executions_by_start ON executions (started)",
)

_EXECUTION_COLUMNS = (
    "id, entity, kind, module, file, status, started, finished, error, inputs, outputs, note, host, pid, resumes, graph, "
    "shape"
)
_NODE_COLUMNS = (
    "execution, path, parent, entity, status, attempts, started, finished, error, outputs, outputs_state, "
    "fingerprint, children_succeeded, children_failed, cache, traceback, previews, elements, logs"
)


def default_data_dir() -> str:
    """``$TASKLOOM_DATA_DIR``, else ``$XDG_DATA_HOME/taskloom`` (``~/.local/share/taskloom`` by default)."""
    explicit = os.environ.get(DATA_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "taskloom")


def recording_enabled() -> bool:
    """Whether local executions are recorded: yes unless ``TASKLOOM_RECORD`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get(RECORD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class ResumeError(UserValueError):
    """An execution cannot be resumed as asked (unknown id, another entity, other inputs, still running)."""


class ExecutionBusy(ResumeError):
    """Another process (or another resume in this one) is running the execution now."""


class StoreUnreadable(SystemException):
    """The execution store's database cannot be read (damaged, not a database, not a directory)."""


_PLAIN_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})


def _is_builtin_data(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is list:
        return all(map(_is_builtin_data, value))
    if kind is dict:
        return all(type(key) is str and _is_builtin_data(item) for key, item in value.items())
    return False


class PlainValues:
    """Named values a literal file keeps as they are rather than as a literal map, with the names
    of their types.

    Values qualify (:meth:`of`) when each is builtin data (``str``, ``int``, ``float``, ``bool``,
    ``bytes``, ``None``, and lists and str-keyed dicts of them, exactly those classes) that the fast
    test of its type (:meth:`~taskloom.core.type_engine.TypeEngine.checker`) accepts: the type
    engine converts such values as they are, so :meth:`to_literal_map` gives the literal map that
    converting them when recorded would have given, without the recorder importing the contracts.
    Reading them with types of other names (the entity changed since) raises ValueError, as a
    file that no longer reads does: a node then runs again.
    """

    __slots__ = ("type_names", "values")

    def __init__(self, values: dict[str, Any], type_names: dict[str, str]) -> None:
        self.values = values
        self.type_names = type_names

    @classmethod
    def of(cls, values: dict[str, Any], types: dict[str, Any]) -> PlainValues | None:
        """``values`` (declared as ``types``) as plain values, or None when one does not qualify."""
        from taskloom.extend import TypeEngine, type_name

        for name, value in values.items():
            if name not in types:
                return None
            test = TypeEngine.checker(types[name])
            if test is None or not test(value) or not _is_builtin_data(value):
                return None
        return cls(dict(values), {name: type_name(types[name]) for name in values})

    def exact_values(self, types: dict[str, Any]) -> dict[str, Any] | None:
        """The values themselves, when each is a scalar of exactly its declared type (what converting
        through literals would give back unchanged, for a fraction of the cost); else None.
        """
        values = self.values
        for name, python_type in types.items():
            if name not in values or python_type not in _PLAIN_SCALARS or type(values[name]) is not python_type:
                return None
        return {name: values[name] for name in types}

    def to_literal_map(self, types: dict[str, Any]) -> Any:
        """The :class:`~taskloom.models.literals.LiteralMap` of the values named in ``types``, converted
        as their types say; ValueError if a type's name is not the one recorded.
        """
        from taskloom.extend import TypeEngine, type_name

        for name, python_type in types.items():
            recorded = self.type_names.get(name)
            if recorded is not None and type_name(python_type) != recorded:
                raise ValueError(f"{name!r} was recorded as {recorded}, not {type_name(python_type)}")
        values = {name: value for name, value in self.values.items() if name in types}
        return TypeEngine.dict_to_literal_map(None, values, types)


# Records are frozen dataclasses, not attrs classes: the recorder imports this module on every run,
# and attrs alone costs a run ~15 ms to import.
@dataclasses.dataclass(frozen=True)
class ExecutionRecord:
    """One recorded execution.

    ``status`` is what was last written (``running``, ``succeeded``, ``failed``); :attr:`state` also
    tells a run whose process is gone (killed) as ``interrupted``. ``inputs`` and ``outputs`` name the
    literal files (None when not written); ``note`` says why inputs or outputs were not recorded;
    ``graph`` is the fingerprint of the workflow's graph (:func:`~taskloom_local.recorder.graph_fingerprint`);
    ``shape`` the graph itself as JSON (:func:`~taskloom_local.recorder.graph_shape`: its nodes, what each runs,
    where each input comes from), for reports; None for a task, or a run recorded before it was kept.
    """

    id: str
    entity: str
    kind: str
    module: str | None
    file: str | None
    status: str
    started: float
    finished: float | None
    error: str | None
    inputs: str | None
    outputs: str | None
    note: str | None
    host: str | None
    pid: int | None
    resumes: int
    graph: str | None = None
    shape: str | None = None

    @property
    def state(self) -> str:
        """``status``, except ``interrupted`` for a ``running`` execution whose process has ended."""
        if self.status == "running" and not self.process_alive:
            return "interrupted"
        return self.status

    @property
    def process_alive(self) -> bool:
        """Whether the process that runs it may still run (always True for another host's)."""
        if self.pid is None or (self.host is not None and self.host != host_name()):
            return True
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None while it runs."""
        return None if self.finished is None else self.finished - self.started

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-able data (``loom executions list --json``)."""
        data = dataclasses.asdict(self)
        data["state"] = self.state
        data["started"] = _iso(self.started)
        data["finished"] = _iso(self.finished)
        return data


@dataclasses.dataclass(frozen=True)
class NodeRecord:
    """One recorded node of an execution: ``path`` is unique within it (``n3``, ``n1-n0``, ``n2-5``);
    ``outputs_state`` is :data:`STORED`, :data:`SUPERSEDED` or :data:`UNRECORDED` once it succeeded
    (``error`` then says why outputs went unrecorded); ``outputs`` names the literal file;
    ``fingerprint`` is what it ran (:func:`~taskloom_local.fingerprints.node_fingerprint`: a resume
    runs the node again when it differs); ``children_succeeded``/``children_failed`` count the
    children its body started (map elements, eager calls), once it finished.

    For reports (None when not known, or recorded before they were kept): ``cache`` is ``hit`` or ``miss``
    for a cached task; ``traceback`` the failure's traceback text (at most :data:`TRACEBACK_CHARS`, its end
    kept); ``previews`` JSON of its outputs' short previews by name (:func:`~taskloom_local.recorder.preview`);
    ``elements`` JSON of its children's durations as a histogram, when its body started any
    (:func:`~taskloom_local.recorder.element_summary`); ``logs`` what its body printed and logged, when the run
    captured logs (:mod:`taskloom_local.logs`).
    """

    execution: str
    path: str
    parent: str | None
    entity: str
    status: str
    attempts: int
    started: float | None
    finished: float | None
    error: str | None
    outputs: str | None
    outputs_state: str | None
    fingerprint: str | None = None
    children_succeeded: int | None = None
    children_failed: int | None = None
    cache: str | None = None
    traceback: str | None = None
    previews: str | None = None
    elements: str | None = None
    logs: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or None."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-able data."""
        data = dataclasses.asdict(self)
        data["started"] = _iso(self.started)
        data["finished"] = _iso(self.finished)
        return data


class ExecutionStore:
    """Executions and their nodes under ``directory`` (default: :func:`default_data_dir`), created on first write."""

    def __init__(self, directory: str | None = None) -> None:
        self._directory = os.path.abspath(directory or default_data_dir())
        self._path = os.path.join(self._directory, "executions.sqlite")
        self._ready = False

    @property
    def directory(self) -> str:
        """The data directory."""
        return self._directory

    @property
    def path(self) -> str:
        """The SQLite file."""
        return self._path

    def connect(self) -> sqlite3.Connection:
        """A new connection to the database (made with its tables if needed); the caller closes it."""
        import sqlite3

        if not self._ready:
            make_private_directory(self._directory)
            # Made before SQLite opens it, so that it (and the -wal and -shm files SQLite gives the
            # same mode) is the user's alone whatever the umask.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        connection = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a killed process
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")
                for statement in _SCHEMA:
                    connection.execute(statement)
                _add_new_columns(connection)
                self._ready = True
        except BaseException:
            connection.close()
            raise
        return connection

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        # What this process recorded is written first; reading never creates the store (None:
        # there is nothing yet). A damaged store is one clear error naming its file.
        import sqlite3

        from taskloom_local.recorder import flush_directory

        flush_directory(self._directory)
        if os.path.exists(self._directory) and not os.path.isdir(self._directory):
            raise self._unreadable(NotADirectoryError(20, f"{self._directory} is not a directory"))
        if not self._ready and not os.path.exists(self._path):
            yield None
            return
        try:
            connection = self.connect()
        except (sqlite3.Error, OSError) as error:
            raise self._unreadable(error) from error
        try:
            yield connection
        except sqlite3.Error as error:
            raise self._unreadable(error) from error
        finally:
            connection.close()

    def _unreadable(self, error: BaseException) -> StoreUnreadable:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return StoreUnreadable(
            f"the execution store {self._path} cannot be read ({reason}); move it away (or set "
            f"{DATA_ENV} to another directory) to start a new one"
        )

    # --- files -----------------------------------------------------------------------------

    def execution_directory(self, execution_id: str) -> str:
        """Where the literal files of ``execution_id`` are."""
        return os.path.join(self._directory, "executions", _file_name(execution_id))

    def write_literals(self, execution_id: str, name: str, literals: Any) -> str:
        """Write the :class:`~taskloom.models.literals.LiteralMap` (or :class:`PlainValues`, or any
        picklable record) ``literals`` as the file ``name`` of the execution, atomically; return its
        name relative to the execution's directory (what rows store).
        """
        import pickle

        relative = f"{name}.literals"
        target = os.path.join(self.execution_directory(execution_id), relative)
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            make_private_directory(directory)
        data = literals if isinstance(literals, bytes) else pickle.dumps(literals, protocol=pickle.HIGHEST_PROTOCOL)
        # A temporary file in the same directory, renamed over the target: readers see the old
        # file or the whole new one, never a part (and only ever open names that rows give).
        temporary = os.path.join(directory, f".{os.path.basename(target)}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return relative

    def node_file_name(self, path: str) -> str:
        """The name (without ``.literals``) under which a node's outputs are written."""
        return f"nodes/{_file_name(path)}"

    def _file(self, execution_id: str, relative: str) -> str:
        """The file a row names, refused if it would lead outside the execution's directory."""
        base = self.execution_directory(execution_id)
        parts = relative.replace("\\", "/").split("/")
        target = os.path.normpath(os.path.join(base, relative))
        if os.path.isabs(relative) or ".." in parts or not target.startswith(base + os.sep):
            raise ValueError(f"execution {execution_id} names the file {relative!r}, which is not inside its directory")
        return target

    def read_literals(self, execution_id: str, relative: str, types: dict[str, Any] | None = None) -> Any:
        """The :class:`~taskloom.models.literals.LiteralMap` in the execution's file ``relative``.

        ``types`` are the Python types of the values, needed to read :class:`PlainValues`. Raises
        OSError or ValueError if the file is missing, not a literal map, or not inside the
        execution's directory.
        """
        from taskloom.extend import LiteralMap

        literals = self._load(execution_id, relative)
        if isinstance(literals, PlainValues):
            if types is None:
                raise ValueError(
                    f"{relative} of execution {execution_id} holds plain values: reading needs their types"
                )
            try:
                return literals.to_literal_map(types)
            except ValueError as error:
                raise ValueError(f"{relative} of execution {execution_id}: {error}") from error
        if not isinstance(literals, LiteralMap):
            raise ValueError(f"{relative} of execution {execution_id} is not a literal map")
        return literals

    def _load(self, execution_id: str, relative: str) -> Any:
        import pickle

        with open(self._file(execution_id, relative), "rb") as stream:
            data = stream.read()
        try:
            return pickle.loads(data)
        except Exception as error:  # truncated, or written by another version
            raise ValueError(f"{relative} of execution {execution_id} is not a literal map: {error}") from error

    def previews(self, execution_id: str, relative: str) -> dict[str, str]:
        """Short previews (:func:`~taskloom_local.recorder.preview`) of the values in the execution's literal
        file ``relative``, by name, for reports: plain values as themselves, literals as literals. Raises
        OSError or ValueError as :meth:`read_literals` does.
        """
        from taskloom_local.recorder import preview

        loaded = self._load(execution_id, relative)
        if isinstance(loaded, PlainValues):
            return {name: preview(value) for name, value in loaded.values.items()}
        literals = getattr(loaded, "literals", None)
        if not isinstance(literals, dict):
            raise ValueError(f"{relative} of execution {execution_id} is not a literal map")
        return {name: preview(literal) for name, literal in literals.items()}

    def read_values(
        self, execution_id: str, relative: str, types: dict[str, Any], *, entity: str, direction: str
    ) -> dict[str, Any]:
        """The Python values of ``types`` in the execution's literal file ``relative``."""
        from taskloom.extend import TypeEngine

        literals = self.read_literals(execution_id, relative, types)
        return TypeEngine.literal_map_to_kwargs(None, literals, types, entity=entity, direction=direction)

    def children_file_name(self, parent: str, number: int) -> str:
        """The name (without ``.literals``) of the ``number``-th chunk of ``parent``'s children."""
        return f"children/{_file_name(parent)}/{number}"

    def children(self, execution_id: str, parent: str) -> dict[str, tuple[str | None, Any]]:
        """The recorded children of the node ``parent``, by name under it (``"5"`` for ``n2-5``):
        ``(fingerprint, outputs)``, outputs being what :meth:`read_literals` would read (a
        :class:`PlainValues`, a literal map, or None for none). Chunks that do not read are left out
        (their children run again).
        """
        with self._reading() as connection:
            if connection is None:
                return {}
            files = connection.execute(
                "SELECT file FROM children WHERE execution = ? AND parent = ? ORDER BY number", (execution_id, parent)
            ).fetchall()
        found: dict[str, tuple[str | None, Any]] = {}
        for (file,) in files:
            try:
                chunk = self._load(execution_id, file)
            except (OSError, ValueError):
                continue
            if isinstance(chunk, ChildRecords):
                found.update(chunk.by_name())
        return found

    # --- who runs an execution -------------------------------------------------------------

    def hold(self, execution_id: str) -> ExecutionLock:
        """Take the execution's lock for as long as this process runs it; raise
        :class:`ExecutionBusy` naming the holder when another process (or run) holds it.

        The lock is an ``flock`` on ``executions/<id>/lock``: the kernel lets go of it when its
        holder ends however it ends (SIGKILL included), so a killed run never keeps it.
        """
        import fcntl
        import time

        directory = self.execution_directory(execution_id)
        if not os.path.isdir(directory):
            make_private_directory(directory)
        path = os.path.join(directory, "lock")
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            for _ in range(20):  # the holder writes its name just after it takes the lock
                holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
                if holder:
                    break
                time.sleep(0.005)
            holder = holder or "another process"
            os.close(descriptor)
            raise ExecutionBusy(
                f"execution {execution_id} is being run now by {holder}; wait for it to end (or stop it) and resume again"
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"process {os.getpid()} on {host_name()}".encode(), 0)
        return ExecutionLock(descriptor)

    # --- queries ---------------------------------------------------------------------------

    def execution(self, execution_id: str) -> ExecutionRecord | None:
        """The record of ``execution_id``, or None."""
        with self._reading() as connection:
            if connection is None:
                return None
            row = connection.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
        return None if row is None else ExecutionRecord(*row)

    def executions(self, limit: int | None = None) -> list[ExecutionRecord]:
        """Recorded executions, newest first (at most ``limit``)."""
        with self._reading() as connection:
            if connection is None:
                return []
            rows = connection.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions ORDER BY started DESC LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [ExecutionRecord(*row) for row in rows]

    def nodes(self, execution_id: str) -> list[NodeRecord]:
        """The nodes recorded for ``execution_id``, in the order they started."""
        with self._reading() as connection:
            if connection is None:
                return []
            rows = connection.execute(
                f"SELECT {_NODE_COLUMNS} FROM nodes WHERE execution = ? ORDER BY started, path", (execution_id,)
            ).fetchall()
        return [NodeRecord(*row) for row in rows]

    def prune(self, older_than: dt.timedelta, *, dry_run: bool = False) -> list[ExecutionRecord]:
        """Delete the executions that ended (or, killed, started) more than ``older_than`` ago, with
        their nodes and files; return them. Executions still running are kept.
        """
        import time

        cutoff = time.time() - older_than.total_seconds()
        with self._reading() as connection:
            if connection is None:
                return []
            rows = connection.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE COALESCE(finished, started) < ?", (cutoff,)
            ).fetchall()
            doomed = [record for record in (ExecutionRecord(*row) for row in rows) if record.state != "running"]
            if dry_run or not doomed:
                return doomed
            identifiers = [(record.id,) for record in doomed]
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany("DELETE FROM nodes WHERE execution = ?", identifiers)
                connection.executemany("DELETE FROM children WHERE execution = ?", identifiers)
                connection.executemany("DELETE FROM executions WHERE id = ?", identifiers)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        import shutil

        for record in doomed:  # rows first: a file without a row is garbage, a row without its file is not
            shutil.rmtree(self.execution_directory(record.id), ignore_errors=True)
        return doomed

    # --- writing (the recorder's thread) ---------------------------------------------------

    def write_rows(
        self,
        connection: sqlite3.Connection,
        executions: Iterable[tuple[str, Any]],
        nodes: list[tuple[Any, ...]],
        children: Iterable[tuple[Any, ...]] = (),
        stale: Iterable[tuple[str, str, float]] = (),
    ) -> None:
        """In one transaction: apply ``executions`` (``(sql, parameters)`` statements), delete the
        ``stale`` rows ``(execution, path, since)`` (when a resume ran the node ``path`` again: the
        rows under it, its children and the nodes of its graph, that did not succeed and started
        before ``since``, that is before the resume),
        insert or replace ``nodes`` (tuples in :data:`_NODE_COLUMNS` order) and ``children`` chunks
        ``(execution, parent, number, file, count)``.
        """
        import sqlite3

        # Many rows per statement, not executemany: each statement step lets go of the GIL, and a
        # thread taking it back behind a busy one waits for a switch interval (5 ms) every time.
        width = len(_NODE_COLUMNS.split(","))
        per_statement = max(1, connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
        row = "(" + ",".join("?" * width) + ")"
        connection.execute("BEGIN")
        try:
            for statement, parameters in executions:
                connection.execute(statement, parameters)
            connection.executemany(
                "DELETE FROM nodes WHERE execution = ?1 AND (parent = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '-') "
                "AND status != 'succeeded' AND COALESCE(started, 0) < ?3",
                stale,
            )
            for start in range(0, len(nodes), per_statement):
                chunk = nodes[start : start + per_statement]
                connection.execute(
                    f"INSERT OR REPLACE INTO nodes ({_NODE_COLUMNS}) VALUES {','.join([row] * len(chunk))}",
                    [value for values in chunk for value in values],
                )
            connection.executemany(
                "INSERT OR REPLACE INTO children (execution, parent, number, file, count) VALUES (?, ?, ?, ?, ?)",
                children,
            )
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                connection.execute("ROLLBACK")
            raise


class ExecutionLock:
    """Held while this process runs an execution (:meth:`ExecutionStore.hold`); :meth:`release` ends it."""

    __slots__ = ("_descriptor",)

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        """Let go of the lock (closing the descriptor does; idempotent)."""
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(descriptor)


class ChildRecords:
    """One chunk of finished children of a node: their names under it, the fingerprints of what they
    ran (one for all, or one each), and their outputs as the store keeps a node's (a
    :class:`PlainValues`, a literal map, or None for a child without outputs), or, for a map's
    elements of plain scalar outputs, ``columns``: a :class:`PlainValues` whose values are lists,
    one item per child (a hundred thousand elements pickle as a few lists, not as many objects).
    """

    __slots__ = ("columns", "fingerprints", "names", "outputs")

    def __init__(
        self,
        names: list[str],
        fingerprints: list[str | None] | str | None,
        outputs: list[Any] | None = None,
        columns: PlainValues | None = None,
    ) -> None:
        self.names = names
        self.fingerprints = fingerprints
        self.outputs = outputs
        self.columns = columns

    def __getstate__(self) -> tuple[Any, ...]:
        return self.names, self.fingerprints, self.outputs, self.columns

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.names, self.fingerprints, self.outputs, self.columns = state

    def by_name(self) -> dict[str, tuple[str | None, Any]]:
        """``{name: (fingerprint, outputs)}``."""
        count = len(self.names)
        fingerprints = self.fingerprints if isinstance(self.fingerprints, list) else [self.fingerprints] * count
        if self.columns is not None:
            columns, type_names = self.columns.values, self.columns.type_names
            outputs: list[Any] = [
                PlainValues({name: column[index] for name, column in columns.items()}, type_names)
                for index in range(count)
            ]
        else:
            outputs = self.outputs or [None] * count
        return {name: (fingerprint, output) for name, fingerprint, output in zip(self.names, fingerprints, outputs)}


def make_private_directory(path: str) -> None:
    """Make ``path`` (and missing parents) readable by this user only (``0700``), whatever the umask.

    Only directories made here are changed: a data directory the user made keeps its mode.
    """
    missing = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise NotADirectoryError(20, "not a directory", directory) from None
            continue
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask


#: SQL the recorder runs for execution rows.
INSERT_EXECUTION = (
    f"INSERT OR REPLACE INTO executions ({_EXECUTION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
RESUME_EXECUTION = "UPDATE executions SET status = 'running', finished = NULL, error = NULL, host = ?, pid = ?, resumes = resumes + 1 WHERE id = ?"
FINISH_EXECUTION = (
    "UPDATE executions SET status = ?, finished = ?, error = ?, outputs = ?, note = COALESCE(?, note) WHERE id = ?"
)


#: Columns added after the tables were first made, by table: a store made before gets them.
_ADDED_COLUMNS = {
    "executions": (("graph", "TEXT"), ("shape", "TEXT")),
    "nodes": (
        ("fingerprint", "TEXT"),
        ("children_succeeded", "INTEGER"),
        ("children_failed", "INTEGER"),
        ("cache", "TEXT"),
        ("traceback", "TEXT"),
        ("previews", "TEXT"),
        ("elements", "TEXT"),
        ("logs", "TEXT"),
    ),
}


def _add_new_columns(connection: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns:
            if name not in present:
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def host_name() -> str:
    """This machine's name (executions record it with their process id)."""
    return os.uname().nodename  # what socket.gethostname() gives, without importing socket (~5 ms)


def _file_name(text: str) -> str:
    # Paths and ids are letters, digits and '-' (node ids are made so); anything else is hashed.
    if re.fullmatch(r"[A-Za-z0-9_.\-]{1,120}", text) and not text.startswith("."):
        return text
    import hashlib

    return "x-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_age(text: str) -> dt.timedelta:
    """``7d``, ``12h``, ``30m``, ``45s`` (or ``2w``) as a timedelta; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if match is None:
        raise ValueError(f"{text!r} is not an age such as 7d, 12h, 30m or 45s")
    number, unit = float(match.group(1)), match.group(2)
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    return dt.timedelta(seconds=number * seconds)
