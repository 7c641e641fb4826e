"""``DuckDBQuery``: SQL over tables and files in an in-process DuckDB (flytekit's ``flytekitplugins.duckdb``).

::

    top = DuckDBQuery(
        "top",
        query="select name, sum(amount) as total from sales where region = $1 group by name order by total desc",
        inputs=kwtypes(sales=StructuredDataset, params=list),
    )
    top(sales=StructuredDataset(dataframe=df), params=["north"])

As in flytekit, each table input (``StructuredDataset``, ``pandas.DataFrame``, ``pyarrow.Table``) is queried
under its input's name; a ``list`` input holds the query's parameters (``$1``/``?``; a list of lists when
``query`` is a list of statements with parameters each), a ``str`` input the same as JSON, and an input named
``query`` replaces the query when it runs. taskloom adds files: a ``FlyteFile`` input whose name ends with
``.parquet``, ``.csv`` or ``.json`` (``.jsonl``, ``.ndjson``) is read by DuckDB under its input's name. The
last statement's rows are the output ``result``, a StructuredDataset. Parameters are bound by DuckDB, as
flytekit binds them. DuckDB is the ``duckdb`` extra (``pip install 'taskloom-sql[duckdb]'``).
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from taskloom import FlyteFile, Secret, current_context
from taskloom.extend import PythonInstanceTask, ValidationError, strip_annotated

from taskloom_sql.errors import SQLTaskError
from taskloom_sql.results import STRUCTURED, as_output

# File inputs DuckDB reads, by the file name's ending -> its reader's name.
_READERS = {
    ".parquet": "read_parquet",
    ".csv": "read_csv",
    ".json": "read_json",
    ".jsonl": "read_json",
    ".ndjson": "read_json",
}


def connect_local() -> Any:
    """An in-memory DuckDB (flytekit's ``connect_local``)."""
    # Imported here: DuckDB (~60 ms) is an extra, needed when a query runs, not when a task is declared.
    import duckdb

    return duckdb.connect(":memory:")


class DuckDBProvider(enum.Enum):
    """Where queries run (flytekit's ``DuckDBProvider``). Only ``LOCAL``: flytekit's ``MOTHERDUCK`` needs a
    network service; pass your own callable as ``provider`` (it receives the secret of ``secret_requests``)."""

    LOCAL = "local"


class DuckDBQuery(PythonInstanceTask[None]):
    """A DuckDB query over the task's table and file inputs; the output ``result`` is a StructuredDataset.

    ``query`` is one statement or a list of them (the last one's rows are the result), or None when an input
    named ``query`` gives it at run time. ``provider`` is ``DuckDBProvider.LOCAL`` or a callable returning a
    DuckDB connection, given the value of the one secret in ``secret_requests`` when there is one.
    """

    _TASK_TYPE = "duckdb"

    def __init__(
        self,
        name: str,
        query: str | list[str] | None = None,
        inputs: dict[str, Any] | None = None,
        provider: DuckDBProvider | Callable[..., Any] = DuckDBProvider.LOCAL,
        **kwargs: Any,
    ) -> None:
        from taskloom import StructuredDataset  # taskloom-arrow, a dependency

        inputs = dict(inputs or {})
        if query is None and "query" not in inputs:
            raise ValidationError(
                f"task {name!r}: DuckDBQuery needs a query, expected query=... or an input named 'query', got neither"
            )
        secrets = list(kwargs.pop("secret_requests", None) or [])
        if len(secrets) > 1 or not all(isinstance(secret, Secret) for secret in secrets):
            raise ValidationError(
                f"task {name!r}: DuckDBQuery takes at most one Secret in secret_requests (given to the provider), "
                f"got {len(secrets)} item(s)"
            )
        if secrets:
            from taskloom.extend import models

            kwargs["security_ctx"] = models.security.SecurityContext(secrets=tuple(secrets))
        self._connect_secret = secrets[0] if secrets else None
        self._query = query
        self._provider = provider
        super().__init__(
            name, None, task_type=self._TASK_TYPE, inputs=inputs, outputs={"result": StructuredDataset}, **kwargs
        )

    @property
    def query(self) -> str | list[str] | None:
        """The statement, or statements, given when the task was declared."""
        return self._query

    def _connect(self) -> Any:
        entity = f"task {self.name!r}"
        token = None
        if self._connect_secret is not None:
            secret = self._connect_secret
            try:
                token = current_context().secrets.get(
                    group=secret.group, key=secret.key or None, group_version=secret.group_version or None
                )
            except Exception as error:
                raise SQLTaskError(f"{entity}: the provider's secret could not be read: {error}") from None
        connect: Callable[..., Any] = connect_local if self._provider is DuckDBProvider.LOCAL else self._provider
        try:
            return connect(token) if token is not None else connect()
        except Exception as error:
            # The provider's own message, without the token it was given.
            text = str(error).replace(str(token), "***") if token else str(error)
            raise SQLTaskError(f"{entity}: the DuckDB provider could not connect: {text}") from None

    def execute(self, **kwargs: Any) -> Any:
        """Register the table and file inputs, run the statements with the parameters, return the last's rows."""
        entity = f"task {self.name!r}"
        query = self._query
        parameters: Any = None
        connection = self._connect()
        try:
            for name, python_type in self.python_interface.inputs.items():
                value = kwargs.get(name)
                if name == "query" and value is not None:
                    query = value  # the run's query replaces the declared one, as in flytekit
                elif isinstance(strip_annotated(python_type), type) and issubclass(
                    strip_annotated(python_type), FlyteFile
                ):
                    self._register_file(connection, entity, name, value)
                elif isinstance(value, list):
                    parameters = value
                elif isinstance(value, str):
                    parameters = _json_parameters(entity, name, value)
                elif value is not None:
                    connection.register(name, _as_arrow(entity, name, value))
            statements = [query] if isinstance(query, str) else list(query or [])
            return as_output(STRUCTURED, _run(connection, entity, statements, parameters))
        finally:
            connection.close()

    def _register_file(self, connection: Any, entity: str, name: str, value: Any) -> None:
        ending = os.path.splitext(value.uri)[1].lower()
        reader = _READERS.get(ending)
        if reader is None:
            raise SQLTaskError(
                f"{entity}: input {name!r}: DuckDBQuery reads files ending with {', '.join(_READERS)}, "
                f"got {value.uri!r}"
            )
        # download() fetches remote data once and gives the local path (a local file's own).
        connection.register(name, getattr(connection, reader)(value.download()))


def _json_parameters(entity: str, name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise SQLTaskError(
            f"{entity}: input {name!r}: expected query parameters as a JSON list, got {text!r}"
        ) from None


def _as_arrow(entity: str, name: str, value: Any) -> Any:
    if hasattr(value, "open") and hasattr(value, "uri"):  # a StructuredDataset
        return value.open(pa.Table).all()
    if isinstance(value, pa.Table) or hasattr(value, "__arrow_c_stream__") or type(value).__name__ == "DataFrame":
        return value
    raise SQLTaskError(
        f"{entity}: input {name!r}: expected a StructuredDataset, a table, a FlyteFile, a list or a str, "
        f"got {type(value).__name__}"
    )


def _run(connection: Any, entity: str, statements: list[str], parameters: Any) -> pa.Table:
    """Run ``statements`` in order (flytekit's rules for parameters); the last one's rows as an Arrow table."""
    # A list of lists gives each statement with placeholders its own parameters, in order.
    per_statement = bool(parameters) and isinstance(parameters[0], list)
    used = -1
    result: Any = None
    for index, statement in enumerate(statements):
        arguments: Any = None
        if "$" in statement or "?" in statement:
            if per_statement:
                used += 1
                if used >= len(parameters):
                    raise SQLTaskError(
                        f"{entity}: statement {index + 1} has placeholders but the parameters hold "
                        f"{len(parameters)} list(s)"
                    )
                arguments = parameters[used]
            elif parameters:
                arguments = parameters
            else:
                raise SQLTaskError(f"{entity}: statement {index + 1} has placeholders but no parameters were given")
        last = index == len(statements) - 1
        try:
            if not last and arguments is not None and per_statement and "insert" in statement.lower():
                connection.executemany(statement, arguments)  # flytekit's rule: one row per list
            elif not last:
                connection.execute(statement, arguments)
            else:
                result = connection.sql(statement, params=arguments)
        except Exception as error:
            if type(error).__module__.split(".")[0] not in ("duckdb", "_duckdb"):
                raise
            raise SQLTaskError(f"{entity}: statement {index + 1} failed in DuckDB: {error}") from error
    if result is None:
        raise SQLTaskError(f"{entity}: the last statement returned no rows to give as result (expected a query)")
    # DuckDB 2.0 renamed fetch_arrow_table (deprecated there) to to_arrow_table, which 1.x lacks.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()
