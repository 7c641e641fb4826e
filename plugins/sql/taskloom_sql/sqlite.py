"""``SQLite3Task`` and ``SQLite3Config``: queries over a SQLite database file (flytekit's ``flytekit.extras.sqlite3``).

::

    tracks = SQLite3Task(
        "tracks",
        query_template="select TrackId, Name from tracks where Composer = {{ .inputs.composer }} limit {{ .inputs.limit }}",
        inputs=kwtypes(composer=str, limit=int),
        output_schema_type=Annotated[StructuredDataset, kwtypes(TrackId=int, Name=str)],
        task_config=SQLite3Config(uri="https://example.org/chinook.zip", compressed=True),
    )

As in flytekit, the database is fetched from ``uri`` (any protocol the installed plugins serve, or a
local path) into a temporary directory for each run, unpacked when ``compressed``, and queried there:
a statement that writes changes that copy only. Inputs are bound as parameters (see
:mod:`taskloom_sql.base`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sqlite3
import tempfile
from typing import Any

from taskloom import kwtypes
from taskloom.extend import SerializationSettings, ValidationError, download

from taskloom_sql.base import SQLTask, parameterize
from taskloom_sql.errors import SQLTaskError
from taskloom_sql.results import STRUCTURED, as_output, declared_columns, output_kind, template_columns, to_table


@dataclasses.dataclass
class SQLite3Config:
    """Where the database file is: ``uri`` (a path, or a URI of any protocol a plugin serves) and whether it is
    an archive holding that one file (``compressed``: zip, tar, gztar, bztar or xztar), as flytekit's."""

    uri: str
    compressed: bool = False


class SQLite3Task(SQLTask[SQLite3Config]):
    """A SQL query over a SQLite database file; its one output ``results`` is a table (flytekit's ``SQLite3Task``).

    ``output_schema_type`` is the output's type: ``StructuredDataset`` by default (flytekit's default,
    ``FlyteSchema``, is deprecated there and refused here), optionally ``Annotated`` with columns, or
    ``pandas.DataFrame``, ``pyarrow.Table``, ``polars.DataFrame``.
    """

    _SQLITE_TASK_TYPE = "sqlite"
    executor_path = "taskloom_sql.sqlite.SQLite3TaskExecutor"

    def __init__(
        self,
        name: str,
        query_template: str,
        inputs: dict[str, Any] | None = None,
        task_config: SQLite3Config | None = None,
        output_schema_type: Any = None,
        container_image: str | None = None,
        **kwargs: Any,
    ) -> None:
        if task_config is None or not getattr(task_config, "uri", None):
            raise ValidationError(
                f"task {name!r}: SQLite3Task needs task_config=SQLite3Config(uri=...), got {task_config!r}"
            )
        if output_schema_type is None:
            from taskloom import StructuredDataset  # taskloom-arrow, a dependency

            output_schema_type = StructuredDataset
        self._kind = output_kind(f"task {name!r}", output_schema_type)
        super().__init__(
            name=name,
            query_template=query_template,
            task_config=task_config,
            task_type=self._SQLITE_TASK_TYPE,
            inputs=inputs,
            outputs=kwtypes(results=output_schema_type),
            container_image=container_image,
            **kwargs,
        )

    @property
    def output_columns(self) -> list[str] | None:
        """The declared columns of ``results``, or None (flytekit's property)."""
        return list(declared_columns(self.python_interface.outputs["results"])) or None

    def get_custom(self, settings: SerializationSettings) -> dict[str, Any]:
        """The template's ``custom``, flytekit's fields: the query, the database's URI and whether it is an archive."""
        return {
            "query_template": self.query_template,
            "uri": self.task_config.uri,
            "compressed": self.task_config.compressed,
        }

    def execute(self, **kwargs: Any) -> Any:
        """Fetch the database, run the query with ``kwargs`` bound as parameters, return the rows as ``results``."""
        query, _ = self.bound_query(lambda name: f":{name}")
        config = self.task_config
        columns = declared_columns(self.python_interface.outputs["results"])
        names, rows = query_sqlite(f"task {self.name!r}", config.uri, config.compressed, query, kwargs)
        return as_output(self._kind, to_table(names, rows, columns))


class SQLite3TaskExecutor:
    """Runs a ``sqlite`` task from its template alone (flytekit's ``SQLite3TaskExecutor``): what ``loom-execute``
    with the template resolver calls in a pre-built image, with no user code. ``custom`` holds the query, the
    URI and ``compressed``; ``results`` is returned as a StructuredDataset."""

    def __init__(self, template: Any) -> None:
        self.template = template

    def execute(self, **kwargs: Any) -> Any:
        """Run the template's query with ``kwargs`` bound as parameters."""
        custom, entity = self.template.custom, f"task {self.template.id.name!r}"
        inputs = set(self.template.interface.inputs.variables) if self.template.interface else set()
        query, _ = parameterize(entity, custom["query_template"], inputs, lambda name: f":{name}")
        names, rows = query_sqlite(entity, custom["uri"], bool(custom.get("compressed")), query, kwargs)
        return as_output(STRUCTURED, to_table(names, rows, template_columns(self.template)))


def query_sqlite(
    entity: str, uri: str, compressed: bool, query: str, parameters: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``query`` with ``parameters`` over a fresh copy of the database at ``uri``; its column names and rows."""
    with tempfile.TemporaryDirectory(prefix="taskloom-sqlite-") as directory:
        local_path = download(uri, os.path.join(directory, os.path.basename(uri.rstrip("/")) or "database"))
        if compressed:
            local_path = _unpack(entity, local_path, directory)
        with contextlib.closing(sqlite3.connect(local_path)) as connection:
            try:
                cursor = connection.execute(query, parameters)
                rows = cursor.fetchall()
                connection.commit()
            except sqlite3.Error as error:
                raise SQLTaskError(f"{entity}: the query failed in SQLite ({uri}): {error}") from error
        names = [column[0] for column in cursor.description or ()]
    return names, rows


def _unpack(entity: str, archive: str, directory: str) -> str:
    """The one file the archive holds, unpacked under ``directory`` (flytekit's ``unarchive_file``)."""
    target = os.path.join(directory, "_arch")
    try:
        shutil.unpack_archive(archive, target)
    except (shutil.ReadError, ValueError) as error:
        raise SQLTaskError(
            f"{entity}: SQLite3Config(compressed=True) expects a zip or tar archive, got {os.path.basename(archive)!r}"
            f" ({error})"
        ) from error
    files = os.listdir(target)
    if len(files) != 1:
        raise SQLTaskError(f"{entity}: the archive should hold exactly one database file, found {sorted(files)}")
    return os.path.join(target, files[0])
