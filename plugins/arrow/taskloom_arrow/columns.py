"""Declared columns (``kwtypes(a=int)`` in ``Annotated[...]``) and the columns a table really has.

A column is compared by kind (integer, float, string, boolean, datetime, duration, list, map), the
kinds flytekit maps column types to (``SimpleType`` of the column's literal type): ``int`` accepts an
``int32`` or ``uint64`` column as flytekit's literal does. The columns of a table are read from its
schema or dtypes only, never from its data, so a check costs the same for ten rows as for ten million.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing
from typing import Any

from taskloom.extend import TypeTransformerFailedError, UnsupportedTypeError

INTEGER, FLOAT, STRING, BOOLEAN, DATETIME, DURATION, LIST, MAP = (
    "integer",
    "float",
    "string",
    "boolean",
    "datetime",
    "duration",
    "list",
    "map",
)

# Python and numpy column types -> kind (numpy's by name: checking them must not import numpy).
_PYTHON_KINDS: dict[Any, str] = {
    int: INTEGER,
    float: FLOAT,
    str: STRING,
    bool: BOOLEAN,
    datetime.datetime: DATETIME,
    datetime.timedelta: DURATION,
}
_NUMPY_KINDS = {
    "int32": INTEGER,
    "int64": INTEGER,
    "uint32": INTEGER,
    "uint64": INTEGER,
    "float32": FLOAT,
    "float64": FLOAT,
    "bool": BOOLEAN,
    "bool_": BOOLEAN,
    "datetime64": DATETIME,
    "timedelta64": DURATION,
    "bytes_": STRING,
    "str_": STRING,
    "object_": STRING,
}
_SIMPLE = {INTEGER: 1, FLOAT: 2, STRING: 3, BOOLEAN: 4, DATETIME: 5, DURATION: 6}  # models.SimpleType values


def declared(python_type: Any) -> tuple[Any, dict[str, Any] | None, str, Any]:
    """``(base type, columns or None, format, pyarrow schema or None)`` of a possibly ``Annotated`` type
    (flytekit's ``extract_cols_and_format``): columns from a dict (``kwtypes``) or a dataclass, the format
    from a string, an Arrow schema from a ``pyarrow.Schema``."""
    columns: dict[str, Any] | None = None
    storage_format = ""
    schema = None
    if typing.get_origin(python_type) is not typing.Annotated:
        return python_type, None, "", None
    base, *metadata = typing.get_args(python_type)
    for item in metadata:
        if isinstance(item, str):
            if storage_format:
                raise UnsupportedTypeError(f"a format was already given ({storage_format!r}); cannot use {item!r}")
            storage_format = item
        elif isinstance(item, dict):
            if columns is not None:
                raise UnsupportedTypeError(f"columns were already given ({columns}); cannot use {item}")
            columns = dict(item)
        elif dataclasses.is_dataclass(item) and isinstance(item, type):
            columns = dict(typing.get_type_hints(item))
        elif type(item).__module__.startswith("pyarrow") and type(item).__name__ == "Schema":
            schema = item
    return base, _flatten(columns) if columns else columns, storage_format, schema


def _flatten(columns: dict[str, Any], parent: str = "") -> dict[str, Any]:
    # Nested dicts and dataclasses are dotted names, as flytekit flattens them.
    flat: dict[str, Any] = collections.OrderedDict()
    for name, column_type in columns.items():
        key = f"{parent}.{name}" if parent else name
        if isinstance(column_type, dict):
            flat.update(_flatten(column_type, key))
        elif dataclasses.is_dataclass(column_type) and isinstance(column_type, type):
            flat.update(_flatten(dict(typing.get_type_hints(column_type)), key))
        else:
            flat[key] = column_type
    return flat


def expected_kind(column_type: Any) -> str:
    """The kind of a declared column type; UnsupportedTypeError for a type flytekit cannot put in a column."""
    kind = _PYTHON_KINDS.get(column_type)
    if kind is not None:
        return kind
    if isinstance(column_type, type) and column_type.__module__ == "numpy":
        kind = _NUMPY_KINDS.get(column_type.__name__)
        if kind is not None:
            return kind
    origin = typing.get_origin(column_type)
    if origin is list:
        expected_kind(typing.get_args(column_type)[0])
        return LIST
    if origin is dict:
        expected_kind(typing.get_args(column_type)[1])
        return MAP
    raise UnsupportedTypeError(f"type {column_type!r} is not supported as a column of a StructuredDataset")


def column_literal_type(column_type: Any) -> Any:
    """The literal type flytekit gives a column of ``column_type`` (its ``_get_dataset_column_literal_type``)."""
    # The contracts (attrs, ~30 ms) are imported where literal types are built, never to run in-process.
    from taskloom.extend import models

    types = models.types
    kind = expected_kind(column_type)
    if kind == LIST:
        return types.LiteralType(collection_type=column_literal_type(typing.get_args(column_type)[0]))
    if kind == MAP:
        return types.LiteralType(map_value_type=column_literal_type(typing.get_args(column_type)[1]))
    return types.LiteralType(simple=types.SimpleType(_SIMPLE[kind]))


def column_name(column_type: Any) -> str:
    """How a declared column type reads in an error (``int``, ``list[int]``)."""
    if isinstance(column_type, type) and typing.get_origin(column_type) is None:
        return column_type.__name__
    return repr(column_type).replace("typing.", "")


def actual_columns(table: Any) -> dict[str, tuple[str, str]] | None:
    """``{name: (kind, type as the library writes it)}`` of a pyarrow, pandas or polars table, read from
    its schema or dtypes; None for another library (its columns are then checked when it is read)."""
    module = type(table).__module__.split(".", 1)[0]
    if module == "pyarrow":
        return {field.name: (arrow_kind(field.type), str(field.type)) for field in table.schema}
    if module == "pandas":
        return {str(name): (_pandas_kind(dtype), str(dtype)) for name, dtype in table.dtypes.items()}
    if module == "polars":
        return {name: (_polars_kind(dtype), str(dtype)) for name, dtype in table.schema.items()}
    return None


def arrow_kind(arrow_type: Any) -> str:
    """The kind of column (``STRING``, ``INTEGER``...) an Arrow type is, as declared columns are compared;
    the Arrow type's own name for a kind without a Python counterpart."""
    import pyarrow as pa  # the table is one already: pyarrow is loaded

    types = pa.types
    if types.is_integer(arrow_type):
        return INTEGER
    if types.is_floating(arrow_type):
        return FLOAT
    if types.is_boolean(arrow_type):
        return BOOLEAN
    if types.is_string(arrow_type) or types.is_large_string(arrow_type) or types.is_string_view(arrow_type):
        return STRING
    if types.is_binary(arrow_type) or types.is_large_binary(arrow_type):
        return STRING
    if types.is_timestamp(arrow_type) or types.is_date(arrow_type):
        return DATETIME
    if types.is_duration(arrow_type):
        return DURATION
    if types.is_list(arrow_type) or types.is_large_list(arrow_type) or types.is_fixed_size_list(arrow_type):
        return LIST
    if types.is_map(arrow_type) or types.is_struct(arrow_type):
        return MAP
    if types.is_dictionary(arrow_type):
        return arrow_kind(arrow_type.value_type)
    return str(arrow_type)


def _pandas_kind(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind in "iu":
        return INTEGER
    if kind == "f":
        return FLOAT
    if kind == "b":
        return BOOLEAN
    if kind == "M":
        return DATETIME
    if kind == "m":
        return DURATION
    name = str(dtype)
    if name.startswith("category"):
        return _pandas_kind(dtype.categories.dtype)
    # object columns hold strings by flytekit's table (np.object_ -> STRING); so do pandas' string dtypes.
    return STRING if kind in "OSU" or name in ("str", "string") else name


def _polars_kind(dtype: Any) -> str:
    if dtype.is_integer():
        return INTEGER
    if dtype.is_float():
        return FLOAT
    name = str(dtype)
    if name == "Boolean":
        return BOOLEAN
    if name in ("String", "Utf8", "Categorical", "Enum", "Binary") or name.startswith(("Categorical", "Enum")):
        return STRING
    if name.startswith(("Datetime", "Date")):
        return DATETIME
    if name.startswith("Duration"):
        return DURATION
    if name.startswith(("List", "Array")):
        return LIST
    if name.startswith("Struct"):
        return MAP
    return name


def mismatch(table: Any, columns: dict[str, Any] | None) -> str | None:
    """Why ``table`` does not have the declared ``columns`` (the first column missing or of another kind),
    or None when it has them (or nothing is declared, or its library's columns cannot be read)."""
    if not columns:
        return None
    actual = actual_columns(table)
    if actual is None:
        return None
    for name, column_type in columns.items():
        found = actual.get(name)
        if found is None:
            return f"column {name!r} expects {column_name(column_type)}, but the table has no such column (it has {', '.join(map(repr, actual)) or 'none'})"
        if found[0] != expected_kind(column_type):
            return f"column {name!r} expects {column_name(column_type)}, got {found[1]}"
    return None


def check(table: Any, columns: dict[str, Any] | None) -> None:
    """Raise TypeTransformerFailedError with :func:`mismatch`'s words when ``table`` lacks the declared columns."""
    problem = mismatch(table, columns)
    if problem is not None:
        raise TypeTransformerFailedError(problem)
