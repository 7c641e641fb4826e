"""Tables: StructuredDataset with and without columns and formats, pandas and pyarrow tables annotated
directly, columns subset between tasks, a table in a workflow's interface and a launch plan.

flytekit writes a table's literal type as a structured dataset type carrying the declared columns (each
with its literal type) and format; both SDKs must write the same, or a Flyte backend would refuse to bind
one SDK's outputs to the other's inputs.
"""

import typing

import pandas as pd
import pyarrow as pa
from flytekit import StructuredDataset, kwtypes, task, workflow
from typing_extensions import Annotated

Columns = kwtypes(name=str, age=int, score=float)


@task
def make_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"name": ["a"] * n, "age": list(range(n)), "score": [0.5] * n})


@task
def make_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame)


@task
def wrap(frame: pd.DataFrame) -> Annotated[StructuredDataset, Columns]:
    return StructuredDataset(dataframe=frame)


@task
def ages(sd: Annotated[StructuredDataset, kwtypes(age=int)]) -> int:
    return int(sd.open(pd.DataFrame).all()["age"].sum())


@task
def as_csv(table: pa.Table) -> Annotated[StructuredDataset, "csv"]:
    return StructuredDataset(dataframe=table)


@task
def nested_columns(
    sd: Annotated[StructuredDataset, kwtypes(tags=typing.List[str], weights=typing.Dict[str, float])],
) -> Annotated[pd.DataFrame, kwtypes(age=int), "parquet"]:
    return pd.DataFrame({"age": [1]})


@task
def plain(sd: StructuredDataset) -> StructuredDataset:
    return sd


@workflow
def tables(n: int = 3) -> typing.Tuple[int, StructuredDataset]:
    frame = make_frame(n=n)
    table = make_table(frame=frame)
    sd = wrap(frame=frame)
    total = ages(sd=sd)
    return total, plain(sd=as_csv(table=table))
