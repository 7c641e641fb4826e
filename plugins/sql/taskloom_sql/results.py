"""A query's rows as the task's declared output: a StructuredDataset, or a pyarrow, pandas or polars table.

Rows become an Arrow table column by column (pyarrow infers each column's type from its values; a
result with no rows takes its column types from the declared columns, ``kwtypes(a=int)``, where
given). The other libraries are reached from Arrow, so none of them is needed unless declared.
"""

from __future__ import annotations

import datetime
import typing
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from taskloom.extend import ValidationError, strip_annotated

#: Output kinds, by the declared type's class name: the check imports none of the libraries.
STRUCTURED, ARROW, PANDAS, POLARS = "StructuredDataset", "Table", "pandas", "polars"
_KINDS = {
    ("taskloom_arrow.structured", "StructuredDataset"): STRUCTURED,
    ("pyarrow.lib", "Table"): ARROW,
    ("pandas.core.frame", "DataFrame"): PANDAS,
    ("pandas", "DataFrame"): PANDAS,
    ("polars.dataframe.frame", "DataFrame"): POLARS,
    ("polars", "DataFrame"): POLARS,
}
# Declared column types -> Arrow types, for results with no rows to infer them from.
_ARROW_TYPES: dict[Any, Any] = {
    int: pa.int64(),
    float: pa.float64(),
    str: pa.string(),
    bool: pa.bool_(),
    bytes: pa.binary(),
    datetime.datetime: pa.timestamp("us"),
    datetime.date: pa.date32(),
    datetime.timedelta: pa.duration("us"),
}


def output_kind(entity: str, python_type: Any) -> str:
    """What the task returns for its declared ``results`` type; a ValidationError naming ``entity`` otherwise."""
    base = strip_annotated(python_type)
    kind = _KINDS.get((getattr(base, "__module__", ""), getattr(base, "__qualname__", "")))
    if kind is None:
        raise ValidationError(
            f"{entity}: output_schema_type must be StructuredDataset (optionally Annotated with columns), "
            f"pyarrow.Table, pandas.DataFrame or polars.DataFrame, got {python_type!r}"
        )
    return kind


def declared_columns(python_type: Any) -> dict[str, Any]:
    """The columns of ``Annotated[T, kwtypes(...)]``, or none."""
    if typing.get_origin(python_type) is typing.Annotated:
        for extra in python_type.__metadata__:
            if isinstance(extra, dict):
                return dict(extra)
    return {}


def template_columns(template: Any) -> dict[str, Any]:
    """The declared columns of a task template's ``results`` (from its structured dataset type), as Python types."""
    variable = template.interface.outputs.variables.get("results") if template.interface else None
    dataset = variable.type.structured_dataset_type if variable is not None else None
    simple = {1: int, 2: float, 3: str, 4: bool, 5: datetime.datetime, 6: datetime.timedelta}  # SimpleType values
    columns: dict[str, Any] = {}
    for column in dataset.columns if dataset is not None else ():
        kind = column.literal_type.simple
        columns[column.name] = simple.get(getattr(kind, "value", kind))
    return columns


def to_table(names: Sequence[str], rows: Sequence[Sequence[Any]], columns: dict[str, Any]) -> pa.Table:
    """The rows as an Arrow table with columns ``names``."""
    if not rows:
        return pa.table({name: pa.array([], type=_ARROW_TYPES.get(columns.get(name), pa.null())) for name in names})
    values = list(zip(*rows, strict=True))
    return pa.table({name: pa.array(list(column)) for name, column in zip(names, values, strict=True)})


def as_output(kind: str, table: pa.Table) -> Any:
    """``table`` as the declared output kind."""
    if kind == STRUCTURED:
        from taskloom import StructuredDataset  # resolved through taskloom-arrow, a dependency

        return StructuredDataset(dataframe=table)
    if kind == PANDAS:
        return table.to_pandas()
    if kind == POLARS:
        import polars  # declared by the task, so installed

        return polars.from_arrow(table)
    return table
