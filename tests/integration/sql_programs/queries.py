"""SQL task types as a flytekit user writes them (packaged by pyflyte and, imports rewritten, by loom)."""

from typing import Annotated

from flytekit import Secret, StructuredDataset, kwtypes, workflow
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
from flytekitplugins.sqlalchemy import SQLAlchemyConfig, SQLAlchemyTask

tracks = SQLite3Task(
    "tracks",
    query_template="select id, name from tracks where composer = {{ .inputs.composer }} order by id",
    inputs=kwtypes(composer=str),
    output_schema_type=Annotated[StructuredDataset, kwtypes(id=int, name=str)],
    task_config=SQLite3Config(uri="https://example.org/chinook.zip", compressed=True),
)

users = SQLAlchemyTask(
    "users",
    query_template="select id, name from users where name = {{ .inputs.name }} order by id",
    inputs=kwtypes(name=str),
    output_schema_type=StructuredDataset,
    task_config=SQLAlchemyConfig(
        uri="postgresql+psycopg://ana@db.example.org/app",
        connect_args={"application_name": "taskloom"},
        secret_connect_args={"password": Secret(group="db", key="password")},
    ),
)


@workflow
def lookup(composer: str, name: str) -> StructuredDataset:
    tracks(composer=composer)
    return users(name=name)
