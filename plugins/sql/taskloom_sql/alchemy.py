"""``SQLAlchemyTask`` and ``SQLAlchemyConfig``: queries over any database SQLAlchemy reaches
(flytekit's ``flytekitplugins.sqlalchemy``, here ``taskloom_sql``).

::

    users = SQLAlchemyTask(
        "users",
        query_template="select id, name from users where name = {{ .inputs.name }}",
        inputs=kwtypes(name=str),
        output_schema_type=pd.DataFrame,
        task_config=SQLAlchemyConfig(
            uri="postgresql+psycopg://ana@db.example.org/app",
            connect_args={"connect_timeout": 10},
            secret_connect_args={"password": Secret(group="db", key="password")},
        ),
    )

``secret_connect_args`` names, for each connect argument, the secret that holds its value: it is read
when the task runs (``current_context().secrets``, an environment variable or a mounted file, as in
flytekit) and handed to the driver, never written into the task's template, a log line or an error.
SQLAlchemy and the driver are the ``sqlalchemy`` extra plus the driver of your database
(``pip install 'taskloom-sql[sqlalchemy]' psycopg[binary]``); SQLAlchemy is imported when such a task
first runs, not when it is declared.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from taskloom import Secret, current_context, kwtypes
from taskloom.extend import SerializationSettings, ValidationError, models

from taskloom_sql.base import SQLTask, parameterize
from taskloom_sql.errors import SQLConnectionError, SQLTaskError
from taskloom_sql.results import STRUCTURED, as_output, declared_columns, output_kind, template_columns, to_table

#: What replaces a secret's value in any message that might repeat it.
HIDDEN = "***"
# output_schema_type's default (StructuredDataset, resolved when a task is declared): None means no output.
_DEFAULT: Any = object()


@dataclasses.dataclass
class SQLAlchemyConfig:
    """How to connect (flytekit's ``SQLAlchemyConfig``): a SQLAlchemy URL, the driver's connect arguments, and the
    connect arguments whose values are secrets, each named by a :class:`~taskloom.Secret`."""

    uri: str
    connect_args: dict[str, Any] | None = None
    secret_connect_args: dict[str, Secret] | None = None

    @staticmethod
    def _secret_to_dict(secret: Secret) -> dict[str, Any]:
        # flytekit's shape in the template: where the secret is, never its value.
        return {
            "group": secret.group,
            "key": secret.key or None,
            "group_version": secret.group_version or None,
            # mypy reads the contract's nested enum alias (Secret.MountType) as a variable: the value is an int.
            "mount_requirement": secret.mount_requirement.value,  # type: ignore[attr-defined]
        }

    def secret_connect_args_to_dicts(self) -> dict[str, dict[str, Any]] | None:
        """``secret_connect_args`` as the template's ``custom`` holds them (flytekit's method)."""
        if self.secret_connect_args is None:
            return None
        return {name: self._secret_to_dict(secret) for name, secret in self.secret_connect_args.items()}


class SQLAlchemyTask(SQLTask[SQLAlchemyConfig]):
    """A SQL query run through SQLAlchemy; its one output ``results`` is a table (flytekit's ``SQLAlchemyTask``).

    ``output_schema_type`` as for :class:`~taskloom_sql.SQLite3Task`; ``None`` (as in flytekit) declares no
    output, for a statement run for its effect. The statement runs in one transaction, committed when it
    succeeds, so an ``insert ... returning`` writes. ``secret_requests`` (flytekit's) go into the task's
    security context, so Flyte mounts them.
    """

    _SQLALCHEMY_TASK_TYPE = "sqlalchemy"
    executor_path = "taskloom_sql.alchemy.SQLAlchemyTaskExecutor"

    def __init__(
        self,
        name: str,
        query_template: str,
        task_config: SQLAlchemyConfig,
        inputs: dict[str, Any] | None = None,
        output_schema_type: Any = _DEFAULT,
        container_image: str | None = None,
        secret_requests: list[Secret] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(task_config, SQLAlchemyConfig) or not task_config.uri:
            raise ValidationError(
                f"task {name!r}: SQLAlchemyTask needs task_config=SQLAlchemyConfig(uri=...), got {task_config!r}"
            )
        for argument, secret in (task_config.secret_connect_args or {}).items():
            if not isinstance(secret, Secret):
                raise ValidationError(
                    f"task {name!r}: secret_connect_args[{argument!r}] expects a Secret(group=..., key=...), "
                    f"got a {type(secret).__name__}"  # the type only: the value might be the secret itself
                )
        if secret_requests:
            kwargs["security_ctx"] = models.security.SecurityContext(secrets=tuple(secret_requests))
        if output_schema_type is _DEFAULT:
            from taskloom import StructuredDataset  # taskloom-arrow, a dependency

            output_schema_type = StructuredDataset
        self._kind = None if output_schema_type is None else output_kind(f"task {name!r}", output_schema_type)
        super().__init__(
            name=name,
            query_template=query_template,
            task_config=task_config,
            task_type=self._SQLALCHEMY_TASK_TYPE,
            inputs=inputs,
            outputs=None if output_schema_type is None else kwtypes(results=output_schema_type),
            container_image=container_image,
            **kwargs,
        )

    @property
    def output_columns(self) -> list[str] | None:
        """The declared columns of ``results``, or None (flytekit's property)."""
        results = self.python_interface.outputs.get("results")
        return list(declared_columns(results)) or None

    def get_custom(self, settings: SerializationSettings) -> dict[str, Any]:
        """The template's ``custom``, flytekit's fields: the query, the URI, the connect arguments and where each
        secret connect argument is (group and key, never its value)."""
        return {
            "query_template": self.query_template,
            "uri": self.task_config.uri,
            "connect_args": self.task_config.connect_args or {},
            "secret_connect_args": self.task_config.secret_connect_args_to_dicts(),
        }

    def execute(self, **kwargs: Any) -> Any:
        """Connect, run the query with ``kwargs`` bound as parameters, return the rows as ``results`` (or nothing)."""
        query, _ = self.bound_query(lambda name: f":{name}")
        config = self.task_config
        names, rows = query_sqlalchemy(
            f"task {self.name!r}", config.uri, config.connect_args, config.secret_connect_args_to_dicts(), query, kwargs
        )
        if self._kind is None:
            return None
        return as_output(self._kind, to_table(names, rows, declared_columns(self.python_interface.outputs["results"])))


class SQLAlchemyTaskExecutor:
    """Runs a ``sqlalchemy`` task from its template alone (flytekit's ``SQLAlchemyTaskExecutor``): what
    ``loom-execute`` with the template resolver calls in a pre-built image, with no user code. ``custom``
    holds the query, the URI, the connect arguments and where the secret ones are; ``results``, when the
    template declares it, is returned as a StructuredDataset."""

    def __init__(self, template: Any) -> None:
        self.template = template

    def execute(self, **kwargs: Any) -> Any:
        """Run the template's query with ``kwargs`` bound as parameters."""
        custom, entity = self.template.custom, f"task {self.template.id.name!r}"
        interface = self.template.interface
        inputs = set(interface.inputs.variables) if interface else set()
        query, _ = parameterize(entity, custom["query_template"], inputs, lambda name: f":{name}")
        names, rows = query_sqlalchemy(
            entity, custom["uri"], custom.get("connect_args"), custom.get("secret_connect_args"), query, kwargs
        )
        if interface is None or "results" not in interface.outputs.variables:
            return None
        return as_output(STRUCTURED, to_table(names, rows, template_columns(self.template)))


def query_sqlalchemy(
    entity: str,
    uri: str,
    connect_args: dict[str, Any] | None,
    secret_connect_args: dict[str, dict[str, Any]] | None,
    query: str,
    parameters: dict[str, Any],
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``query`` with ``parameters`` on ``uri``; its column names and rows.

    ``secret_connect_args`` are in the template's shape (group, key...); their values are read here.
    Every error is a :class:`SQLTaskError` naming ``entity`` whose message holds no secret.
    """
    # Imported here: SQLAlchemy (~100 ms) is an extra, needed only by the run, not by declaring a task.
    import sqlalchemy
    from sqlalchemy import exc

    arguments = dict(connect_args or {})
    secrets: list[str] = []
    for argument, location in (secret_connect_args or {}).items():
        try:
            value = current_context().secrets.get(
                group=location["group"], key=location.get("key"), group_version=location.get("group_version")
            )
        except Exception as error:
            # The kernel's message names the group, the key and the places looked at: no value to hide.
            raise SQLTaskError(f"{entity}: secret_connect_args[{argument!r}] could not be read: {error}") from None
        arguments[argument] = value
        secrets.append(value if isinstance(value, str) else value.decode(errors="replace"))
    try:
        url = sqlalchemy.make_url(uri)
    except exc.ArgumentError as error:
        raise SQLTaskError(f"{entity}: SQLAlchemyConfig.uri is not a SQLAlchemy URL: {error}") from None
    if url.password:
        secrets.append(str(url.password))
    where = url.render_as_string(hide_password=True)

    def hidden(error: BaseException) -> str:
        # The driver's own message (not SQLAlchemy's, which repeats the statement and its parameters), with every
        # secret value masked: drivers may echo a connect argument back (a DSN in a connection error).
        original = getattr(error, "orig", None)
        text = " ".join(str(original if original is not None else error).split())
        for secret in secrets:
            if secret:
                text = text.replace(secret, HIDDEN)
        return text

    try:
        engine = sqlalchemy.create_engine(url, connect_args=arguments)
    except Exception as error:  # a missing driver module, an unknown dialect
        raise SQLTaskError(f"{entity}: cannot use the database at {where}: {hidden(error)}") from None
    try:
        try:
            connection = engine.connect()
        except exc.DBAPIError as error:
            raise SQLTaskError(f"{entity}: could not connect to the database at {where}: {hidden(error)}") from None
        with connection:
            try:
                with connection.begin():
                    result = connection.execute(sqlalchemy.text(query), parameters)
                    names = list(result.keys()) if result.returns_rows else []
                    rows = [tuple(row) for row in result] if result.returns_rows else []
            except exc.DBAPIError as error:
                if error.connection_invalidated:
                    raise SQLConnectionError(
                        f"{entity}: the connection to the database at {where} was lost during the query: "
                        f"{hidden(error)}"
                    ) from None
                raise SQLTaskError(f"{entity}: the query failed on the database at {where}: {hidden(error)}") from None
    finally:
        engine.dispose()
    return names, rows
