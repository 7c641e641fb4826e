"""Query templates: ``{{ .inputs.x }}`` becomes a driver parameter, checked where the task is declared."""

from __future__ import annotations

import pytest
from taskloom import kwtypes
from taskloom.extend import ValidationError

from taskloom_sql.base import parameterize
from taskloom_sql.sqlite import SQLite3Config, SQLite3Task

INPUTS = {"name", "limit"}


def colon(name: str) -> str:
    return f":{name}"


def test_each_placeholder_becomes_a_named_parameter_in_order() -> None:
    query, used = parameterize(
        "task 't'",
        "select * from t where a = {{ .inputs.name }} or b = {{.inputs.name}} limit {{ .Inputs.limit }}",
        INPUTS,
        colon,
    )
    assert query == "select * from t where a = :name or b = :name limit :limit"
    assert used == ["name", "name", "limit"]


def test_a_placeholder_that_is_a_whole_quoted_string_is_the_parameter_with_its_quotes() -> None:
    # flytekit's pasting needs the quotes for text; bound as a parameter, they would make it a constant.
    query, _ = parameterize(
        "task 't'", "select 'it''s' where a = '{{ .inputs.name }}' limit {{ .inputs.limit }}", INPUTS, colon
    )
    assert query == "select 'it''s' where a = :name limit :limit"


@pytest.mark.parametrize(
    "template",
    [
        "select * from t where a like '%{{ .inputs.name }}%' limit {{ .inputs.limit }}",
        'select "col_{{ .inputs.name }}" from t limit {{ .inputs.limit }}',
        "select 'it''s {{ .inputs.name }}' limit {{ .inputs.limit }}",
    ],
)
def test_a_placeholder_inside_a_longer_quoted_string_is_refused_saying_what_to_write(template: str) -> None:
    with pytest.raises(ValidationError, match=r"task 't': .*input 'name' inside a quoted string.*'%' \|\| "):
        parameterize("task 't'", template, INPUTS, colon)


def test_a_placeholder_naming_no_input_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"task 't': query_template names input 'nme' .*expected one of"):
        parameterize("task 't'", "select {{ .inputs.nme }}, {{ .inputs.name }}, {{ .inputs.limit }}", INPUTS, colon)


def test_an_input_missing_from_the_template_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"task 't': inputs \['limit'\] appear nowhere in query_template"):
        parameterize("task 't'", "select {{ .inputs.name }}", INPUTS, colon)


def test_the_task_checks_its_template_when_declared_and_keeps_it_as_flytekit_does(chinook: str) -> None:
    with pytest.raises(ValidationError, match=r"task 'tracks': inputs \['limit'\] appear nowhere"):
        SQLite3Task("tracks", "select * from tracks", inputs=kwtypes(limit=int), task_config=SQLite3Config(chinook))
    tracks = SQLite3Task(
        "tracks",
        "select *\n\tfrom tracks\n   limit {{ .inputs.limit }}  ",
        inputs=kwtypes(limit=int),
        task_config=SQLite3Config(chinook),
    )
    assert tracks.query_template == "select * from tracks limit {{ .inputs.limit }}"
