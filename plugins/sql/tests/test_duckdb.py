"""DuckDBQuery: SQL over table and file inputs, with parameters bound by DuckDB."""

from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import taskloom
from taskloom import FlyteFile, Secret, StructuredDataset, kwtypes, task, workflow
from taskloom.extend import SecretsManager, ValidationError

from taskloom_sql import SQLTaskError
from taskloom_sql.duck import DuckDBProvider, DuckDBQuery, connect_local
from taskloom_sql.testing import hostile_strings

SALES = pd.DataFrame({"name": ["ana", "bo", "ana"], "amount": [1, 2, 3]})


def frame(result: StructuredDataset) -> dict[str, list[object]]:
    return result.open(pd.DataFrame).all().to_dict("list")


@pytest.mark.parametrize("value", hostile_strings("kept"))
def test_a_hostile_parameter_is_matched_literally_and_the_table_survives(value: str) -> None:
    rows = pd.DataFrame({"name": ["ana", value]})
    query = DuckDBQuery(
        "hostile",
        query=[
            "create table kept as select * from rows",
            "select (select count(*) from kept) as kept, count(*) filter (where name = $1) as matched from kept",
        ],
        inputs=kwtypes(rows=pd.DataFrame, params=list[str]),
    )
    assert frame(query(rows=rows, params=[value])) == {"kept": [2], "matched": [1]}


def test_table_inputs_are_queried_under_their_names_inside_a_workflow() -> None:
    @task
    def sales() -> StructuredDataset:
        return StructuredDataset(dataframe=SALES)

    totals = DuckDBQuery(
        "totals",
        query="select s.name, sum(s.amount) + max(b.bonus) as total from s join b using (name) "
        "where s.amount > ? group by s.name order by s.name",
        inputs=kwtypes(s=StructuredDataset, b=pa.Table, params=list[int]),
    )

    @workflow
    def report(threshold: int) -> StructuredDataset:
        return totals(s=sales(), b=pa.table({"name": ["ana", "bo"], "bonus": [10, 20]}), params=[threshold])

    assert frame(report(threshold=1)) == {"name": ["ana", "bo"], "total": [13, 22]}
    assert totals.python_interface.outputs == {"result": StructuredDataset}
    assert totals.task_type == "duckdb"


def test_parquet_and_csv_files_are_read_under_their_input_names(tmp_path: object) -> None:
    parquet = os.path.join(str(tmp_path), "sales.parquet")
    pq.write_table(pa.Table.from_pandas(SALES), parquet)
    csv = os.path.join(str(tmp_path), "people.csv")
    with open(csv, "w", encoding="utf-8") as file:
        file.write("name,city\nana,Oslo\nbo,Lima\n")
    joined = DuckDBQuery(
        "joined",
        query="select p.city, sum(s.amount) as amount from s join p using (name) group by p.city order by p.city",
        inputs=kwtypes(s=FlyteFile, p=FlyteFile),
    )
    assert frame(joined(s=FlyteFile(parquet), p=FlyteFile(csv))) == {"city": ["Lima", "Oslo"], "amount": [2, 4]}
    text = os.path.join(str(tmp_path), "notes.txt")
    open(text, "w").close()
    with pytest.raises(
        SQLTaskError, match=r"task 'joined': input 's': DuckDBQuery reads files ending with .*notes\.txt"
    ):
        joined(s=FlyteFile(text), p=FlyteFile(csv))


def test_statements_with_parameters_each_and_a_query_given_at_run_time() -> None:
    steps = DuckDBQuery(
        "steps",
        query=[
            "create table t (name varchar, n integer)",
            "insert into t values (?, ?)",
            "select name, n from t where n >= ? order by n",
        ],
        inputs=kwtypes(params=str),  # mixed types: a list input holds one type, JSON text any
    )
    parameters = json.dumps([[["a", 1], ["b", 2], ["c", 3]], [2]])
    assert frame(steps(params=parameters)) == {"name": ["b", "c"], "n": [2, 3]}
    adhoc = DuckDBQuery("adhoc", inputs=kwtypes(query=str, t=pd.DataFrame))
    assert frame(adhoc(query="select count(*) as n from t", t=SALES)) == {"n": [3]}


def test_parameters_as_json_text() -> None:
    query = DuckDBQuery("json", query="select $1 || $2 as joined", inputs=kwtypes(params=str))
    assert frame(query(params='["a", "; drop table x"]')) == {"joined": ["a; drop table x"]}
    with pytest.raises(SQLTaskError, match=r"task 'json': input 'params': expected query parameters as a JSON list"):
        query(params="not json")


def test_bad_sql_and_missing_parameters_are_one_error_naming_the_task() -> None:
    broken = DuckDBQuery("broken", query="selec 1")
    with pytest.raises(SQLTaskError, match=r"^task 'broken': statement 1 failed in DuckDB: .*syntax error"):
        broken()
    unbound = DuckDBQuery("unbound", query="select $1 as x")
    with pytest.raises(SQLTaskError, match=r"^task 'unbound': statement 1 has placeholders but no parameters"):
        unbound()


def test_a_query_is_required_when_declared() -> None:
    with pytest.raises(
        ValidationError, match=r"task 'q': DuckDBQuery needs a query, expected query=\.\.\. or an input named 'query'"
    ):
        DuckDBQuery("q", inputs=kwtypes(t=pd.DataFrame))


def test_a_custom_provider_gets_the_secret_and_a_missing_secret_names_the_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    tokens: list[str] = []

    def provider(token: str) -> object:
        tokens.append(token)
        return connect_local()

    secret = Secret(group="duck", key="token")
    query = DuckDBQuery("remote", query="select 1 as one", provider=provider, secret_requests=[secret])
    assert query.security_context is not None and query.security_context.secrets == (secret,)
    monkeypatch.setenv(SecretsManager().get_secrets_env_var("duck", "token"), "t0ken")
    assert frame(query()) == {"one": [1]}
    assert tokens == ["t0ken"]
    monkeypatch.delenv(SecretsManager().get_secrets_env_var("duck", "token"))
    monkeypatch.setenv("FLYTE_SECRETS_DEFAULT_DIR", str(tmp_path))
    with pytest.raises(SQLTaskError, match=r"^task 'remote': the provider's secret could not be read: .*duck"):
        query()


def test_the_names_resolve_from_taskloom() -> None:
    assert (taskloom.DuckDBQuery, taskloom.DuckDBProvider) == (DuckDBQuery, DuckDBProvider)
