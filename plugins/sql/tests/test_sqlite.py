"""SQLite3Task: queries over a SQLite file, inputs bound as parameters, results as tables."""

from __future__ import annotations

import os
import shutil
import sqlite3
import zipfile
from typing import Annotated

import pandas as pd
import pyarrow as pa
import pytest
import taskloom
from taskloom import StructuredDataset, kwtypes, workflow
from taskloom.extend import ValidationError

from taskloom_sql import SQLTaskError
from taskloom_sql.sqlite import SQLite3Config, SQLite3Task
from taskloom_sql.testing import hostile_strings


def rows(path: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        found = connection.execute("select id, name, composer from tracks order by id").fetchall()
    connection.close()
    return found


def by_composer(uri: str, **kwargs: object) -> SQLite3Task:
    return SQLite3Task(
        "by_composer",
        query_template="select id, name from tracks where composer = {{ .inputs.composer }} order by id",
        inputs=kwtypes(composer=str),
        task_config=SQLite3Config(uri=uri),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("value", hostile_strings("tracks"))
def test_a_hostile_input_is_matched_literally_and_the_table_survives(chinook: str, value: str) -> None:
    before = rows(chinook)
    task = by_composer(chinook, output_schema_type=pd.DataFrame)
    assert task(composer=value).empty  # no composer has that name: nothing matched, nothing ran
    with sqlite3.connect(chinook) as connection:
        connection.execute("insert into tracks values (4, 'Hostile', ?)", (value,))
    connection.close()
    found = task(composer=value)
    assert found.to_dict("list") == {"id": [4], "name": ["Hostile"]}  # exactly the row holding the string
    assert rows(chinook) == [*before, (4, "Hostile", value)]


def test_results_are_a_structured_dataset_by_default_with_declared_columns(chinook: str) -> None:
    task = SQLite3Task(
        "tracks",
        query_template="select id, name from tracks where id <= {{ .inputs.limit }} order by id",
        inputs=kwtypes(limit=int),
        output_schema_type=Annotated[StructuredDataset, kwtypes(id=int, name=str)],
        task_config=SQLite3Config(uri=chinook),
    )
    assert task.output_columns == ["id", "name"]
    result = task(limit=2)
    assert isinstance(result, taskloom.StructuredDataset)
    assert result.open(pd.DataFrame).all().to_dict("list") == {
        "id": [1, 2],
        "name": ["Balls to the Wall", "Fast As a Shark"],
    }
    assert by_composer(chinook).python_interface.outputs == {"results": StructuredDataset}


def test_results_as_pandas_and_arrow_tables_inside_a_workflow(chinook: str) -> None:
    names = by_composer(chinook, output_schema_type=pa.Table)
    everything = SQLite3Task(
        "everything",
        query_template="select * from tracks order by id",
        task_config=SQLite3Config(chinook),
        output_schema_type=pd.DataFrame,
    )

    @workflow
    def both(composer: str) -> tuple[pa.Table, pd.DataFrame]:
        return names(composer=composer), everything()

    table, frame = both(composer="F. Baltes")
    assert table.to_pydict() == {"id": [2], "name": ["Fast As a Shark"]}
    assert list(frame["id"]) == [1, 2, 3]


def test_an_empty_result_has_the_declared_column_types(chinook: str) -> None:
    task = by_composer(chinook, output_schema_type=Annotated[pa.Table, kwtypes(id=int, name=str)])
    table = task(composer="nobody")
    assert table.num_rows == 0
    assert table.schema == pa.schema([("id", pa.int64()), ("name", pa.string())])


def test_a_compressed_database_is_unpacked_and_an_archive_of_two_files_is_refused(
    chinook: str, tmp_path: object
) -> None:
    archive = os.path.join(str(tmp_path), "chinook.zip")
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(chinook, "chinook.db")
    task = by_composer(archive, output_schema_type=pd.DataFrame)
    assert task.task_config.compressed is False
    compressed = SQLite3Task(
        "zipped",
        "select count(*) as n from tracks",
        task_config=SQLite3Config(archive, compressed=True),
        output_schema_type=pd.DataFrame,
    )
    assert compressed()["n"].tolist() == [3]
    two = os.path.join(str(tmp_path), "two.zip")
    shutil.copy(archive, two)
    with zipfile.ZipFile(two, "a") as zipped:
        zipped.write(chinook, "other.db")
    broken = SQLite3Task("two", "select 1", task_config=SQLite3Config(two, compressed=True))
    with pytest.raises(SQLTaskError, match=r"task 'two': the archive should hold exactly one database file"):
        broken()


def test_bad_sql_fails_naming_the_task_and_what_sqlite_said(chinook: str) -> None:
    task = SQLite3Task("broken", "selec * from tracks", task_config=SQLite3Config(chinook))
    with pytest.raises(
        SQLTaskError, match=r"^task 'broken': the query failed in SQLite \(.*chinook.db\): .*syntax error"
    ):
        task()


def test_statements_change_the_run_s_copy_only_as_in_flytekit(chinook: str) -> None:
    task = SQLite3Task(
        "wipe", "delete from tracks returning id", task_config=SQLite3Config(chinook), output_schema_type=pd.DataFrame
    )
    assert sorted(task()["id"]) == [1, 2, 3]
    assert len(rows(chinook)) == 3


def test_declaring_without_a_uri_or_with_an_unsupported_output_type_is_refused(chinook: str) -> None:
    with pytest.raises(
        ValidationError, match=r"task 'q': SQLite3Task needs task_config=SQLite3Config\(uri=...\), got None"
    ):
        SQLite3Task("q", "select 1")
    with pytest.raises(
        ValidationError, match=r"task 'q': output_schema_type must be StructuredDataset .* got <class 'int'>"
    ):
        SQLite3Task("q", "select 1", task_config=SQLite3Config(chinook), output_schema_type=int)


def test_the_names_resolve_from_taskloom() -> None:
    assert taskloom.SQLite3Task is SQLite3Task
    assert taskloom.SQLite3Config is SQLite3Config
    from taskloom_sql.alchemy import SQLAlchemyConfig, SQLAlchemyTask
    from taskloom_sql.base import SQLTask

    assert (taskloom.SQLAlchemyTask, taskloom.SQLAlchemyConfig, taskloom.SQLTask) == (
        SQLAlchemyTask,
        SQLAlchemyConfig,
        SQLTask,
    )


def test_the_template_carries_the_query_and_the_database_as_flytekit_s(chinook: str) -> None:
    from taskloom.extend import SerializationSettings

    task = SQLite3Task(
        "q",
        "select * from tracks where id = '{{ .inputs.id }}'",
        inputs=kwtypes(id=int),
        task_config=SQLite3Config(chinook, compressed=False),
    )
    assert task.task_type == "sqlite"
    assert task.get_custom(SerializationSettings.for_image("loom:1", "v1")) == {
        "query_template": "select * from tracks where id = '{{ .inputs.id }}'",
        "uri": chinook,
        "compressed": False,
    }


def test_flytekit_s_module_path_resolves_to_this_plugin() -> None:
    from taskloom.extras.sqlite3 import SQLite3Task as at_package
    from taskloom.extras.sqlite3.task import SQLite3Config as config
    from taskloom.extras.sqlite3.task import SQLite3Task as at_module

    assert at_package is at_module is SQLite3Task
    assert config is SQLite3Config
