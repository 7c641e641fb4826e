"""SQLAlchemyTask against a real PostgreSQL server: parameters, results, and errors that never show a secret."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from typing import Annotated, Any

import pandas as pd
import pytest
from taskloom import Secret, StructuredDataset, kwtypes, workflow
from taskloom.extend import SecretsManager, SerializationSettings, ValidationError

from taskloom_sql import SQLConnectionError, SQLTaskError
from taskloom_sql.alchemy import SQLAlchemyConfig, SQLAlchemyTask
from taskloom_sql.testing import PostgresServer, hostile_strings

PASSWORD = Secret(group="db", key="password")


@pytest.fixture
def database(postgres: PostgresServer, role: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A role's database with a table ``users(id, name)`` of two rows, its password in the secret ``db/password``;
    yields the role's URL, which carries no password."""
    name, password = role
    with postgres.connect(name, password) as connection:
        connection.execute("create table users (id serial primary key, name text not null)")
        connection.execute("insert into users (name) values ('ana'), ('bo')")
    monkeypatch.setenv(SecretsManager().get_secrets_env_var(PASSWORD.group, PASSWORD.key), password)
    yield postgres.url(name)


def users(
    url: str, query: str = "select id, name from users where name = {{ .inputs.name }} order by id", **kwargs: Any
) -> SQLAlchemyTask:
    return SQLAlchemyTask(
        "users",
        query_template=query,
        inputs=kwargs.pop("inputs", kwtypes(name=str)),
        output_schema_type=kwargs.pop("output_schema_type", pd.DataFrame),
        task_config=SQLAlchemyConfig(
            uri=url, connect_args={"connect_timeout": 10}, secret_connect_args={"password": PASSWORD}
        ),
        **kwargs,
    )


def table(postgres: PostgresServer, url: str, password: str) -> list[tuple[Any, ...]]:
    with postgres.connect(url.rsplit("/", 1)[1], password) as connection:
        return connection.execute("select id, name from users order by id").fetchall()


def assert_hidden(
    secret: str, error: BaseException, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The secret is in no part of the error (message, notes, causes, traceback), no log record and no output."""
    assert secret not in "".join(traceback.format_exception(error))
    assert secret not in caplog.text
    out, err = capsys.readouterr()
    assert secret not in out + err


@pytest.mark.parametrize("value", hostile_strings("users"))
def test_a_hostile_input_is_matched_literally_and_the_table_survives(
    postgres: PostgresServer, role: tuple[str, str], database: str, value: str
) -> None:
    task = users(database)
    before = table(postgres, database, role[1])
    assert task(name=value).empty
    with postgres.connect(*role) as connection:
        connection.execute("insert into users (name) values (%s)", (value,))
    assert task(name=value)["name"].tolist() == [value]
    assert table(postgres, database, role[1]) == [*before, (3, value)]


def test_results_as_a_structured_dataset_inside_a_workflow_and_writes_are_committed(
    postgres: PostgresServer, role: tuple[str, str], database: str
) -> None:
    add = users(
        database,
        "insert into users (name) values ({{ .inputs.name }}) returning id",
        output_schema_type=Annotated[StructuredDataset, kwtypes(id=int)],
    )
    everyone = users(
        database, "select id, name from users order by id", inputs={}, output_schema_type=StructuredDataset
    )

    @workflow
    def register(name: str) -> StructuredDataset:
        added = add(name=name)
        everyone_now = everyone()
        added >> everyone_now
        return everyone_now

    result = register(name="cy")
    assert result.open(pd.DataFrame).all().to_dict("list") == {"id": [1, 2, 3], "name": ["ana", "bo", "cy"]}
    assert table(postgres, database, role[1])[-1] == (3, "cy")


def test_bad_sql_is_one_error_naming_the_task(
    role: tuple[str, str], database: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    task = users(database, "selec id from users where name = {{ .inputs.name }}")
    with pytest.raises(
        SQLTaskError,
        match=r"^task 'users': the query failed on the database at postgresql\+psycopg://loom\d+@127\.0\.0\.1:\d+/loom\d+: syntax error",
    ) as caught:
        task(name="ana")
    assert not isinstance(caught.value, SQLConnectionError)
    assert_hidden(role[1], caught.value, caplog, capsys)


def test_a_dropped_connection_is_one_recoverable_error_naming_the_task(
    role: tuple[str, str], database: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    # The server ends the task's own connection while the statement runs.
    task = users(database, "select pg_terminate_backend(pg_backend_pid()) where {{ .inputs.name }} <> ''")
    with pytest.raises(
        SQLConnectionError, match=r"^task 'users': the connection to the database at .* was lost during the query"
    ) as caught:
        task(name="ana")
    assert_hidden(role[1], caught.value, caplog, capsys)


def test_wrong_credentials_are_one_error_naming_the_task_without_the_password(
    role: tuple[str, str],
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-" + role[1]
    monkeypatch.setenv(SecretsManager().get_secrets_env_var(PASSWORD.group, PASSWORD.key), wrong)
    with pytest.raises(
        SQLTaskError, match=r"^task 'users': could not connect to the database at .*password authentication failed"
    ) as caught:
        users(database)(name="ana")
    assert_hidden(wrong, caught.value, caplog, capsys)
    assert_hidden(role[1], caught.value, caplog, capsys)


def test_a_password_in_the_uri_is_masked_in_errors(
    postgres: PostgresServer,
    role: tuple[str, str],
    database: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    name, password = role
    task = SQLAlchemyTask(
        "inline", "select nonsense from users", task_config=SQLAlchemyConfig(uri=postgres.url(name, password))
    )
    with pytest.raises(
        SQLTaskError, match=r"^task 'inline': the query failed on the database at postgresql\+psycopg://loom\d+:\*\*\*@"
    ) as caught:
        task()
    assert_hidden(password, caught.value, caplog, capsys)


def test_a_missing_secret_is_one_error_naming_the_task_and_the_argument(
    database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv(SecretsManager().get_secrets_env_var(PASSWORD.group, PASSWORD.key))
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))
    with pytest.raises(
        SQLTaskError, match=r"^task 'users': secret_connect_args\['password'\] could not be read: .*db.*password"
    ) as caught:
        users(database)(name="ana")
    assert caught.value.__cause__ is None


def test_the_template_names_where_secrets_are_never_their_values(database: str, role: tuple[str, str]) -> None:
    task = users(database, secret_requests=[PASSWORD])
    custom = task.get_custom(SerializationSettings.for_image("loom:1", "v1"))
    assert custom == {
        "query_template": "select id, name from users where name = {{ .inputs.name }} order by id",
        "uri": database,
        "connect_args": {"connect_timeout": 10},
        "secret_connect_args": {
            "password": {"group": "db", "key": "password", "group_version": None, "mount_requirement": 0}
        },
    }
    assert role[1] not in json.dumps(custom)
    assert task.security_context is not None and task.security_context.secrets == (PASSWORD,)


def test_a_secret_connect_arg_that_is_not_a_secret_is_refused_without_showing_it(database: str) -> None:
    with pytest.raises(
        ValidationError,
        match=r"task 'q': secret_connect_args\['password'\] expects a Secret\(group=..., key=...\), got a str$",
    ):
        SQLAlchemyTask(
            "q", "select 1", task_config=SQLAlchemyConfig(database, secret_connect_args={"password": "hunter2"})
        )  # type: ignore[dict-item]


def test_no_output_schema_type_runs_a_statement_for_its_effect(
    postgres: PostgresServer, role: tuple[str, str], database: str
) -> None:
    rename = users(database, "update users set name = {{ .inputs.name }} where id = 1", output_schema_type=None)
    assert rename.python_interface.outputs == {}
    assert rename(name="ana'; --") is None
    assert table(postgres, database, role[1])[0] == (1, "ana'; --")
