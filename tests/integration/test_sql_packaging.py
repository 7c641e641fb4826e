"""SQL tasks are pre-built-image task types (issue 24, point 3).

Their templates carry the query and the configuration in ``custom``, as flytekit's do, and name the
template resolver and an executor class, so ``loom-execute`` runs them from the template alone, with no
user code in the container: the packages of the same program written for flytekit (``pyflyte package``)
and ported to taskloom (``loom serialize``) are compared as ``plugins/flyte/tests/test_flytekit_parity.py``
compares its programs, then the templates loom wrote are run from an empty directory against a SQLite file
and a PostgreSQL server.
"""

import os
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from flyteidl.admin import task_pb2
from google.protobuf import struct_pb2

from plugins.flyte.tests.flytekit_reference import (
    flytekit_python,
    graph_summary,
    package_with_flytekit,
    serialize_with_taskloom,
    summary_differences,
    write_programs,
)
from plugins.flyte.tests.test_entrypoint import inputs_file, read_error, read_outputs, run_container
from taskloom import StructuredDataset
from taskloom.extend import SecretsManager
from taskloom_sql.testing import start_postgres

SQL_PROGRAMS = Path(__file__).resolve().parent / "sql_programs"


def _flytekit_with_sqlalchemy() -> Path:
    """flytekit 1.16's environment, with flytekit's SQLAlchemy plugin added when missing (only adds)."""
    python = flytekit_python()
    if subprocess.run([str(python), "-c", "import flytekitplugins.sqlalchemy"], capture_output=True).returncode:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "flytekitplugins-sqlalchemy==1.16.*"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    return python


def _serialize(tmp_path: Path) -> list[Path]:
    source = write_programs(tmp_path / "taskloom", sdk="taskloom", sources=SQL_PROGRAMS)
    program = source / "programs" / "queries.py"
    # flytekit's SQLAlchemy plugin is its own distribution; here it is taskloom-sql.
    program.write_text(program.read_text().replace("flytekitplugins.sqlalchemy", "taskloom_sql"))
    return serialize_with_taskloom(source, tmp_path / "taskloom-out")


@pytest.mark.slow  # flytekit runs in its own virtual environment (created from PyPI on a fresh machine)
def test_the_packages_of_a_program_with_sql_tasks_are_flytekit_s(tmp_path):
    _flytekit_with_sqlalchemy()
    flytekit_files = package_with_flytekit(
        write_programs(tmp_path / "flytekit", sources=SQL_PROGRAMS), tmp_path / "flytekit-out"
    )
    taskloom_files = _serialize(tmp_path)
    assert [path.name for path in taskloom_files] == [path.name for path in flytekit_files]
    expected, actual = graph_summary(flytekit_files), graph_summary(taskloom_files)
    differences = summary_differences(expected, actual)
    assert not differences, "\n".join(differences[:60])
    # What was compared: the task types and their custom fields, secrets as where they are.
    assert actual["tasks"]["tracks"]["type"] == "sqlite"
    assert actual["tasks"]["users"]["custom"]["secret_connect_args"]["password"]["group"] == "db"


def _templates(tmp_path: Path) -> dict:
    templates = {}
    for path in _serialize(tmp_path):
        if path.name.endswith("_1.pb"):
            spec = task_pb2.TaskSpec()
            spec.ParseFromString(path.read_bytes())
            templates[spec.template.id.name] = spec.template
    return templates


def _run(template, tmp_path: Path, inputs: dict, env: dict | None = None):
    """Run ``template``'s container command as propeller does, from an empty directory (no user code)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    template_path = tmp_path / f"{template.id.name}-template.pb"
    template_path.write_bytes(template.SerializeToString())
    container = type(template)()
    container.CopyFrom(template)
    args = [str(template_path) if arg == "{{.taskTemplatePath}}" else arg for arg in container.container.args]
    del container.container.args[:]
    container.container.args.extend(args)
    empty = tmp_path / "image"
    empty.mkdir(exist_ok=True)
    work = tmp_path / f"work-{template.id.name}"
    work.mkdir()
    return run_container(container, empty, work, inputs_file(work, inputs, dict.fromkeys(inputs, str)), env=env)


def test_a_sqlite_template_names_the_template_resolver_and_runs_with_no_user_code(tmp_path):

    templates = _templates(tmp_path)
    tracks = templates["tracks"]
    assert list(tracks.container.args[-4:]) == [
        "taskloom_flyte.resolvers.task_template_resolver",
        "--",
        "{{.taskTemplatePath}}",
        "taskloom_sql.sqlite.SQLite3TaskExecutor",
    ]
    database = tmp_path / "chinook.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table tracks (id integer, name text, composer text)")
        connection.executemany(
            "insert into tracks values (?, ?, ?)", [(1, "Evil", "'; DROP TABLE tracks; --"), (2, "Good", "bo")]
        )
    connection.close()
    with zipfile.ZipFile(tmp_path / "chinook.zip", "w") as archive:
        archive.write(database, "chinook.db")
    # The template's URI points at the archive here (the program's is a public URL).

    tracks.custom.fields["uri"].CopyFrom(struct_pb2.Value(string_value=str(tmp_path / "chinook.zip")))
    completed, prefix = _run(tracks, tmp_path, {"composer": "'; DROP TABLE tracks; --"})
    assert completed.returncode == 0, completed.stderr
    result = read_outputs(prefix, {"results": StructuredDataset})["results"]
    assert result.open(pd.DataFrame).all().to_dict("list") == {"id": [1], "name": ["Evil"]}


def test_a_sqlalchemy_template_runs_with_no_user_code_and_its_errors_hold_no_secret(tmp_path):

    users = _templates(tmp_path)["users"]
    assert users.container.args[-1] == "taskloom_sql.alchemy.SQLAlchemyTaskExecutor"
    server = start_postgres()
    try:
        password = "pw-" + os.urandom(8).hex()
        server.create_role("ana", password)
        with server.connect("ana", password) as connection:
            connection.execute("create table users (id serial primary key, name text)")
            connection.execute("insert into users (name) values ('ana'), (%s)", ("x' OR '1'='1",))
        users.custom.fields["uri"].CopyFrom(struct_pb2.Value(string_value=server.url("ana")))
        secret = {SecretsManager().get_secrets_env_var("db", "password"): password}
        completed, prefix = _run(users, tmp_path, {"name": "x' OR '1'='1"}, env=secret)
        assert completed.returncode == 0, completed.stderr
        result = read_outputs(prefix, {"results": StructuredDataset})["results"]
        assert result.open(pd.DataFrame).all().to_dict("list") == {"id": [2], "name": ["x' OR '1'='1"]}

        users.custom.fields["query_template"].CopyFrom(struct_pb2.Value(string_value="selec {{ .inputs.name }}"))
        completed, prefix = _run(users, tmp_path / "bad", {"name": "ana"}, env=secret)
        error = read_error(prefix)
        assert "task 'users': the query failed on the database at postgresql+psycopg://ana@" in error.message
        assert "syntax error" in error.message
        assert password not in error.message + completed.stdout + completed.stderr
    finally:
        server.stop()
