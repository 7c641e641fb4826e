"""taskloom-arrow: StructuredDataset and tables between tasks, in-process and through literals."""

import datetime
import json
import os
import threading
import typing
from typing import Annotated

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import taskloom
from taskloom import StructuredDataset, kwtypes, task, workflow
from taskloom.extend import (
    PARQUET,
    DataFrameHandlers,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    TypeEngine,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    hookimpl,
    models,
)


def _table() -> pa.Table:
    return pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def _round_trip(value: typing.Any, python_type: typing.Any, expected: typing.Any = None) -> typing.Any:
    literal = TypeEngine.to_literal(None, value, python_type)
    return literal, TypeEngine.to_python_value(None, literal, expected or python_type)


# --- names ----------------------------------------------------------------------------------------


def test_structured_dataset_is_reachable_at_flytekits_paths():
    from taskloom.types.structured import StructuredDatasetTransformerEngine
    from taskloom.types.structured.structured_dataset import StructuredDataset as at_module_path

    assert taskloom.StructuredDataset is StructuredDataset is at_module_path
    assert TypeEngine.get_transformer(StructuredDataset).__class__ is StructuredDatasetTransformerEngine
    assert taskloom.StructuredDatasetType is models.types.StructuredDatasetType


@pytest.mark.parametrize("python_type", [pd.DataFrame, pa.Table, pl.DataFrame, pa.RecordBatch])
def test_table_classes_are_claimed_by_the_transformer(python_type):
    assert TypeEngine.get_transformer(python_type).__class__.__name__ == "StructuredDatasetTransformerEngine"


def test_a_column_is_not_claimed_as_a_table():
    with pytest.raises(UnsupportedTypeError, match="no type transformer supports ChunkedArray"):
        TypeEngine.get_transformer(pa.ChunkedArray)


def test_flyte_schema_is_refused_when_a_task_is_declared_naming_the_replacement():
    from taskloom.types.schema import FlyteSchema

    with pytest.raises(UnsupportedTypeError, match=r"FlyteSchema is not supported .*declare a StructuredDataset"):

        @task
        def reads(s: FlyteSchema[kwtypes(a=int)]) -> int:  # type: ignore[misc]
            return 1


# --- in-process: the same object, no literal, no file ----------------------------------------------


@pytest.mark.parametrize(
    "make", [_table, lambda: _table().to_pandas(), lambda: pl.from_arrow(_table())], ids=["pyarrow", "pandas", "polars"]
)
def test_a_local_run_hands_the_same_table_object_from_task_to_task(make, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "raw"))
    made = make()
    python_type = type(made)
    seen = []

    @task
    def produce() -> python_type:  # type: ignore[valid-type]
        return made

    @task
    def consume(table: python_type) -> int:  # type: ignore[valid-type]
        seen.append(table)
        return len(table)

    @task
    def wrapped(sd: StructuredDataset) -> int:
        seen.append(sd.open(python_type).all())
        return 0

    @workflow
    def flow() -> int:
        table = produce()
        wrapped(sd=table)
        return consume(table=table)

    assert flow() == 3
    assert seen[0] is made and seen[1] is made
    assert not (tmp_path / "raw").exists()  # nothing was written


def test_declared_columns_subset_the_table_in_process():
    @task
    def produce() -> pa.Table:
        return _table()

    @task
    def only_a(sd: Annotated[StructuredDataset, kwtypes(a=int)]) -> list[str]:
        return sd.open(pa.Table).all().column_names

    @task
    def only_b(df: Annotated[pd.DataFrame, kwtypes(b=str)]) -> list[str]:
        return list(df.columns)

    @workflow
    def flow() -> tuple[list[str], list[str]]:
        table = produce()
        return only_a(sd=table), only_b(df=table)

    assert flow() == (["a"], ["b"])


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        (kwtypes(b=int), "input 'df': column 'b' expects int, got string"),
        (kwtypes(c=float), "input 'df': column 'c' expects float, but the table has no such column"),
    ],
)
def test_a_column_of_another_type_or_missing_names_task_input_column_and_types(columns, words):
    @task
    def produce() -> pa.Table:
        return _table()

    @task
    def reads(df: Annotated[pa.Table, columns]) -> int:
        return 0

    @workflow
    def flow() -> int:
        return reads(df=produce())

    with pytest.raises(TypeTransformerFailedError) as raised:
        flow()
    assert f"task {reads.name!r}: {words}" in str(raised.value)


def test_a_returned_table_without_a_declared_output_column_names_the_output():
    @task
    def produce() -> Annotated[pd.DataFrame, kwtypes(a=int, missing=str)]:
        return _table().to_pandas()

    with pytest.raises(TypeTransformerFailedError, match=r"output 'o0': column 'missing' expects str, but the table"):
        produce()


# --- literals: what flytekit writes -----------------------------------------------------------------


def test_literal_type_carries_declared_columns_and_format():
    literal_type = TypeEngine.to_literal_type(Annotated[StructuredDataset, kwtypes(a=int, b=str), "csv"])
    sdt = literal_type.structured_dataset_type
    assert sdt.format == "csv"
    assert [(c.name, c.literal_type.simple.name) for c in sdt.columns] == [("a", "INTEGER"), ("b", "STRING")]
    assert TypeEngine.to_literal_type(pd.DataFrame).structured_dataset_type == models.types.StructuredDatasetType()


@pytest.mark.parametrize("storage_format", ["parquet", "csv"])
@pytest.mark.parametrize("python_type", [pa.Table, pd.DataFrame, pl.DataFrame])
@pytest.mark.parametrize("prefix", ["memory", "file"])
def test_tables_round_trip_through_storage(python_type, storage_format, prefix, tmp_path, monkeypatch):
    raw = f"memory://rt-{os.getpid()}-{id(tmp_path)}" if prefix == "memory" else str(tmp_path / "raw")
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", raw)
    table = python_type(_table()) if python_type is pl.DataFrame else _table()
    if python_type is pd.DataFrame:
        table = table.to_pandas()
    annotated = Annotated[python_type, storage_format]
    literal, back = _round_trip(table, annotated)
    stored = literal.scalar.structured_dataset
    assert stored.uri.startswith(raw.rstrip("/") + "/")
    assert stored.metadata.structured_dataset_type.format == storage_format
    assert isinstance(back, python_type)
    assert _rows(back) == _table().to_pylist()


def _rows(table: typing.Any) -> list[dict[str, typing.Any]]:
    if isinstance(table, pd.DataFrame):
        return table.to_dict("records")
    if isinstance(table, pl.DataFrame):
        return table.to_dicts()
    return table.to_pylist()


def test_a_stored_dataset_opens_only_the_declared_columns_and_streams_batches(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    # More rows than one batch of Parquet's reader (65,536): a stream of several batches.
    big = pa.table({"a": pa.array(range(150_000), pa.int64()), "b": pa.array(["s"] * 150_000)})
    literal = TypeEngine.to_literal(None, StructuredDataset(dataframe=big), StructuredDataset)
    sd = TypeEngine.to_python_value(None, literal, Annotated[StructuredDataset, kwtypes(a=int)])
    assert sd.dataframe is None and sd.uri == literal.scalar.structured_dataset.uri
    assert sd.open(pa.Table).all().column_names == ["a"]
    batches = list(sd.open(pd.DataFrame).iter())
    assert len(batches) > 1 and all(list(b.columns) == ["a"] for b in batches)
    assert sum(len(b) for b in batches) == 150_000


def test_parquet_keeps_dictionaries_for_text_and_writes_numbers_plainly(tmp_path, monkeypatch):
    import os

    import pyarrow.parquet as pq

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    table = pa.table({"n": list(range(1000)), "x": [i * 0.5 for i in range(1000)], "s": ["ab", "cd"] * 500})
    uri = TypeEngine.to_literal(None, table, pa.Table).scalar.structured_dataset.uri
    (part,) = [os.path.join(uri, name) for name in os.listdir(uri)]
    chunks = pq.ParquetFile(part).metadata.row_group(0)
    encodings = {chunks.column(i).path_in_schema: set(chunks.column(i).encodings) for i in range(chunks.num_columns)}
    assert "RLE_DICTIONARY" in encodings["s"]
    assert not any("DICTIONARY" in encoding for name in ("n", "x") for encoding in encodings[name]), encodings
    assert pq.read_table(part).cast(table.schema).equals(table)  # the values; columns without nulls read as not null


@pytest.mark.parametrize("prefix", ["memory", "file"])
def test_a_column_without_nulls_is_stored_required_and_read_back_as_it_was(prefix, tmp_path, monkeypatch):
    """Columns that hold no null are REQUIRED in Parquet (no definition levels to write and read); this
    plugin's reader gives back the table's own schema, any other reader the same values."""

    import fsspec
    import pyarrow.parquet as pq

    from taskloom_arrow.reading import NULLABLE_KEY

    monkeypatch.setenv(
        "TASKLOOM_RAW_OUTPUT_PREFIX", f"memory://{tmp_path.name}" if prefix == "memory" else str(tmp_path)
    )
    schema = pa.schema(
        [
            ("full", pa.int64()),
            ("holes", pa.float64()),
            pa.field("strict", pa.int64(), nullable=False),
            ("text", pa.string()),
            ("nested", pa.struct([("x", pa.int64())])),
            ("nothing", pa.null()),
        ],
        metadata={b"owner": b"test", NULLABLE_KEY: b'["holes"]'},  # a stale key, from a table read elsewhere
    )
    n = 2000
    table = pa.table(
        [
            pa.array(range(n)),
            pa.array([None if i % 3 else i * 0.5 for i in range(n)]),
            pa.array(range(n)),
            pa.array(["ab", "cd"] * (n // 2)),
            pa.array([{"x": None if i % 2 else i} for i in range(n)], pa.struct([("x", pa.int64())])),
            pa.nulls(n),
        ],
        schema=schema,
    )
    literal = TypeEngine.to_literal(None, table, pa.Table)
    uri = literal.scalar.structured_dataset.uri
    fs, path = fsspec.core.url_to_fs(uri)
    (part,) = fs.find(path)
    with fs.open(part, "rb") as file:
        written = pq.ParquetFile(file).schema_arrow, pq.read_table(file)
    nullable = {field.name: field.nullable for field in written[0]}
    assert nullable == {"full": False, "holes": True, "strict": False, "text": False, "nested": False, "nothing": True}
    assert written[0].field("nested").type.field("x").nullable  # inside a column, as it was
    assert sorted(json.loads(written[0].metadata[NULLABLE_KEY])) == ["full", "nested", "text"]
    assert written[1].cast(schema.remove_metadata()).equals(table)  # another reader: the same values
    expected = table.replace_schema_metadata({b"owner": b"test"})
    back = TypeEngine.to_python_value(None, literal, pa.Table)
    assert back.schema == expected.schema and back.schema.metadata == expected.schema.metadata and back.equals(expected)
    sd = TypeEngine.to_python_value(None, literal, StructuredDataset)
    batches = list(sd.open(pa.Table).iter())
    assert all(batch.schema == expected.schema for batch in batches)
    assert pa.concat_tables(batches).equals(expected)
    chosen = TypeEngine.to_python_value(None, literal, Annotated[StructuredDataset, kwtypes(full=int, strict=int)])
    assert chosen.open(pa.Table).all().schema == pa.schema([schema.field("full"), schema.field("strict")])
    frame = TypeEngine.to_python_value(None, literal, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, expected.to_pandas())


def test_parquet_is_written_in_row_groups_of_about_two_mebibytes(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    rows = 200_000  # 4.6 MiB: less than a part, so one file
    table = pa.table(
        {"a": pa.array(range(rows), pa.int64()), "b": pa.array(range(rows), pa.float64()), "c": [1.5] * rows}
    )
    for value, python_type in ((table, pa.Table), (pl.from_arrow(table), pl.DataFrame)):
        uri = TypeEngine.to_literal(None, value, python_type).scalar.structured_dataset.uri
        (part,) = [os.path.join(uri, name) for name in os.listdir(uri)]
        metadata = pq.ParquetFile(part).metadata
        assert metadata.num_row_groups == 3, python_type  # 87,381 rows of 24 bytes a group
        assert pq.read_table(part).cast(table.schema).equals(table)


def _codecs(uri: str) -> set[str]:
    """The compression of every column chunk of every Parquet part under ``uri`` (any storage)."""
    import fsspec
    import pyarrow.parquet as pq

    fs, path = fsspec.core.url_to_fs(uri)
    codecs = set()
    for name in fs.find(path):
        with fs.open(name, "rb") as file:
            metadata = pq.ParquetFile(file).metadata
        for group in range(metadata.num_row_groups):
            codecs |= {metadata.row_group(group).column(i).compression for i in range(metadata.num_columns)}
    return codecs


_LIBRARIES = [(pa.Table, lambda t: t), (pd.DataFrame, lambda t: t.to_pandas()), (pl.DataFrame, pl.from_arrow)]


@pytest.mark.parametrize(("python_type", "make"), _LIBRARIES[:2], ids=["pyarrow", "pandas"])
@pytest.mark.parametrize("prefix", ["memory", "file"])
def test_parquet_on_this_machine_s_storage_is_uncompressed(python_type, make, prefix, tmp_path, monkeypatch):
    raw = f"memory://codec-{os.getpid()}-{id(tmp_path)}" if prefix == "memory" else str(tmp_path / "raw")
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", raw)
    monkeypatch.delenv("TASKLOOM_PARQUET_COMPRESSION", raising=False)
    table = pa.table({"a": pa.array(range(50_000), pa.int64()), "s": ["ab", "cd"] * 25_000})
    literal, back = _round_trip(make(table), python_type)
    uri = literal.scalar.structured_dataset.uri
    assert _codecs(uri if prefix == "memory" else "file://" + uri) == {"UNCOMPRESSED"}
    assert _rows(back) == table.to_pylist()


@pytest.mark.parametrize("prefix", ["memory", "file"])
def test_a_polars_table_is_written_as_arrow_writes_and_read_by_polars_only_when_compressed(
    prefix, tmp_path, monkeypatch
):
    """polars tables are written by Arrow's writer, by the same rules as pyarrow's (uncompressed on this
    machine's storage); polars' reader, which holds a whole file, reads only compressed files."""
    from taskloom_arrow import handlers

    raw = f"memory://polars-{os.getpid()}-{id(tmp_path)}" if prefix == "memory" else str(tmp_path / "raw")
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", raw)
    monkeypatch.delenv("TASKLOOM_PARQUET_COMPRESSION", raising=False)
    table = pa.table({"a": pa.array(range(50_000), pa.int64()), "s": ["ab", "cd"] * 25_000})
    calls = []
    read_polars = handlers._read_polars
    monkeypatch.setattr(handlers, "_read_polars", lambda *args: calls.append(args) or read_polars(*args))
    local, back = _round_trip(pl.from_arrow(table), pl.DataFrame)
    assert _codecs(local.scalar.structured_dataset.uri if prefix == "memory" else "file://" + raw) == {"UNCOMPRESSED"}
    assert not calls and back.equals(pl.from_arrow(table))  # through Arrow's row-group reader

    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "snappy")  # as on object storage
    remote, back = _round_trip(pl.from_arrow(table), pl.DataFrame)
    assert _codecs(remote.scalar.structured_dataset.uri if prefix == "memory" else "file://" + raw) >= {"SNAPPY"}
    assert len(calls) == 1 and back.equals(pl.from_arrow(table))


def _polars_frame():
    from decimal import Decimal

    rows = 6
    return pl.DataFrame(
        {
            "i": pl.Series([1, None, 3, 4, 5, 6], dtype=pl.Int32),
            "u": pl.Series(range(rows), dtype=pl.UInt8),
            "f": [0.5, 1.5, None, 3.5, 4.5, 5.5],
            "s": ["a", "bb", None, "dd", "é", ""],
            "b": [True, False, None, True, True, False],
            "cat": pl.Series(["x", "y", "x", None, "y", "x"], dtype=pl.Categorical),
            "enum": pl.Series(["lo", "hi", "lo", "hi", "lo", "hi"], dtype=pl.Enum(["lo", "hi"])),
            "d": pl.date_range(datetime.date(2024, 1, 1), datetime.date(2024, 1, 6), eager=True),
            "t": pl.datetime_range(
                datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 1, 0, 5), "1m", eager=True, time_zone="UTC"
            ),
            "dur": pl.Series([datetime.timedelta(seconds=k) for k in range(rows)]),
            "l": [[1, 2], [], None, [3], [4, 5, 6], [7]],
            "st": [{"x": k, "y": str(k)} for k in range(rows)],
            "bin": [b"\x00", b"ab", None, b"", b"z", b"yy"],
            "dec": pl.Series([Decimal("1.25"), Decimal("2.50"), None, Decimal("0"), Decimal("9.99"), Decimal("1")]),
        }
    )


@pytest.mark.parametrize("codec", ["", "snappy"], ids=["this machine", "object storage"])
def test_polars_tables_of_every_kind_come_back_as_they_left(codec, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", codec)
    frame = _polars_frame()
    _, back = _round_trip(frame, pl.DataFrame)
    assert back.schema == frame.schema
    assert back.equals(frame)


def test_object_storage_gets_snappy_and_the_codec_can_be_chosen(monkeypatch):
    from taskloom_arrow.handlers import parquet_compression

    monkeypatch.delenv("TASKLOOM_PARQUET_COMPRESSION", raising=False)
    assert [parquet_compression(uri) for uri in ("/tmp/t", "file:///tmp/t", "memory://t")] == ["none"] * 3
    assert [parquet_compression(uri) for uri in ("s3://b/t", "gs://b/t", "abfs://c/t")] == ["snappy"] * 3
    assert parquet_compression("/tmp/t", local="snappy") == "snappy"
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "ZSTD")
    assert parquet_compression("/tmp/t") == parquet_compression("s3://b/t") == "zstd"
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "uncompressed")
    assert parquet_compression("s3://b/t") == "none"
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "fast")
    with pytest.raises(ValueError, match=r"^TASKLOOM_PARQUET_COMPRESSION='fast' is not a Parquet codec pyarrow has"):
        parquet_compression("/tmp/t")


def _codecs_by_column(uri: str) -> dict[str, set[str]]:
    import fsspec
    import pyarrow.parquet as pq

    fs, path = fsspec.core.url_to_fs(uri)
    found: dict[str, set[str]] = {}
    for name in fs.find(path):
        with fs.open(name, "rb") as file:
            metadata = pq.ParquetFile(file).metadata
        for group in range(metadata.num_row_groups):
            for i in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(i)
                found.setdefault(chunk.path_in_schema, set()).add(chunk.compression)
    return found


@pytest.mark.parametrize("codec", ["snappy", "zstd"])
@pytest.mark.parametrize(("python_type", "make"), _LIBRARIES[:2], ids=["pyarrow", "pandas"])
def test_a_column_of_numbers_the_codec_does_not_shrink_is_written_uncompressed(
    python_type, make, codec, tmp_path, monkeypatch
):
    """Measured values (here random floats and integers) do not compress: the codec's work on them is left
    out, and the columns it shrinks get it; a nested table keeps one codec for every column."""
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", codec)
    random = np.random.default_rng(7)
    rows = 100_000
    table = pa.table(
        {
            "measured": random.random(rows),
            "hashed": random.integers(-(2**62), 2**62, rows),
            "counted": np.arange(rows),
            "stamped": pa.array(np.arange(rows).astype("datetime64[s]")),
            "named": ["ab", "cd"] * (rows // 2),
        }
    )
    literal, back = _round_trip(make(table), python_type)
    found = _codecs_by_column("file://" + literal.scalar.structured_dataset.uri)
    name = codec.upper()
    assert {column: found[column] for column in table.column_names} == {
        "measured": {"UNCOMPRESSED"},
        "hashed": {"UNCOMPRESSED"},
        "counted": {name},
        "stamped": {name},
        "named": {name},
    }
    assert _rows(back) == _rows(make(table))

    nested = table.append_column("pair", pa.array([{"x": k} for k in range(rows)]))
    literal, _ = _round_trip(nested, pa.Table)
    assert set().union(*_codecs_by_column("file://" + literal.scalar.structured_dataset.uri).values()) == {name}

    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "none")
    literal, _ = _round_trip(make(table), python_type)
    assert _codecs("file://" + literal.scalar.structured_dataset.uri) == {"UNCOMPRESSED"}


@pytest.mark.parametrize(("python_type", "make"), _LIBRARIES, ids=["pyarrow", "pandas", "polars"])
def test_the_chosen_codec_is_the_one_written(python_type, make, tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "zstd")
    table = pa.table({"a": pa.array(range(50_000), pa.int64())})
    literal, back = _round_trip(make(table), python_type)
    assert _codecs("file://" + literal.scalar.structured_dataset.uri) == {"ZSTD"}
    assert len(back) == 50_000


def test_a_table_is_given_as_text_by_its_uri(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    uri = TypeEngine.to_literal(None, _table(), pa.Table).scalar.structured_dataset.uri
    frame = TypeEngine.from_text(uri, Annotated[pd.DataFrame, kwtypes(a=int)])
    assert list(frame.columns) == ["a"] and frame["a"].tolist() == [1, 2, 3]
    sd = TypeEngine.from_text(uri, StructuredDataset)
    assert (sd.uri, sd.file_format) == (uri, "parquet")
    assert sd.open(pl.DataFrame).all().to_dicts() == _table().to_pylist()


def test_a_stored_dataset_hashes_as_its_uri_and_format_without_reading_it():
    stored = StructuredDataset(uri="s3://bucket/t", file_format="csv")
    assert TypeEngine.hash_of(stored, StructuredDataset) == "uri:s3://bucket/t:csv"
    assert TypeEngine.hash_of(StructuredDataset(uri="s3://bucket/u", file_format="csv"), StructuredDataset) != (
        TypeEngine.hash_of(stored, StructuredDataset)
    )


def test_a_handler_registered_as_default_for_its_type_chooses_the_format_of_a_bare_table(tmp_path, monkeypatch):
    from taskloom.types.structured import StructuredDatasetTransformerEngine

    from taskloom_arrow.handlers import ArrowEncoder

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    assert DataFrameHandlers.default_format(pa.Table) == "parquet"
    csv = ArrowEncoder(pa.Table, "csv")
    StructuredDatasetTransformerEngine.register(csv, default_for_type=True, override=True)
    try:
        literal = TypeEngine.to_literal(None, _table(), pa.Table)
        assert literal.scalar.structured_dataset.metadata.structured_dataset_type.format == "csv"
    finally:
        DataFrameHandlers.unregister(csv)
    assert DataFrameHandlers.default_format(pa.Table) == "parquet"


def test_a_structured_dataset_naming_a_uri_is_passed_on_without_writing(tmp_path):
    literal = TypeEngine.to_literal(None, StructuredDataset(uri="s3://bucket/t", file_format="csv"), StructuredDataset)
    stored = literal.scalar.structured_dataset
    assert (stored.uri, stored.metadata.structured_dataset_type.format) == ("s3://bucket/t", "csv")


# --- the handler hook: another plugin adds a library ------------------------------------------------


class Rows:
    """A toy table library: a list of dicts."""

    def __init__(self, rows: list[dict[str, typing.Any]]) -> None:
        self.rows = rows


class RowsEncoder(StructuredDatasetEncoder[Rows]):
    def __init__(self) -> None:
        super().__init__(Rows, None, PARQUET)

    def encode(self, ctx, structured_dataset, structured_dataset_type):
        table = pa.Table.from_pylist(structured_dataset.dataframe.rows)
        encoder = DataFrameHandlers.get_encoder(pa.Table, "file", PARQUET)
        return encoder.encode(ctx, StructuredDataset(dataframe=table), structured_dataset_type)


class RowsDecoder(StructuredDatasetDecoder[Rows]):
    def __init__(self) -> None:
        super().__init__(Rows, None, PARQUET)

    def decode(self, ctx, flyte_value, current_task_metadata):
        decoder = DataFrameHandlers.get_decoder(pa.Table, "file", PARQUET)
        return Rows(decoder.decode(ctx, flyte_value, current_task_metadata).to_pylist())


class RowsPlugin:
    @hookimpl
    def taskloom_structured_dataset_handlers(self):
        return [RowsEncoder(), RowsDecoder()]


def test_another_plugin_adds_a_table_library_through_the_handler_hook(tmp_path, monkeypatch):
    from taskloom.plugins import get_plugin_manager

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    manager = get_plugin_manager()
    with pytest.raises(UnsupportedTypeError, match=r"no encoder of Rows"):
        DataFrameHandlers.get_encoder(Rows, "file", PARQUET)
    manager.register(RowsPlugin(), name="rows")
    try:
        literal = TypeEngine.to_literal(
            None, StructuredDataset(dataframe=Rows([{"a": 1}, {"a": 2}])), StructuredDataset
        )
        sd = TypeEngine.to_python_value(None, literal, StructuredDataset)
        assert sd.open(Rows).all().rows == [{"a": 1}, {"a": 2}]
        # A decoder without iter_decode: iter() gives its whole table as the one batch.
        assert [batch.rows for batch in sd.open(Rows).iter()] == [[{"a": 1}, {"a": 2}]]
        assert sd.open(pa.Table).all().to_pylist() == [{"a": 1}, {"a": 2}]  # written as Parquet: any library reads it
    finally:
        manager.unregister(name="rows")


def test_register_keeps_flytekits_duplicate_rule():
    from taskloom.types.structured import DuplicateHandlerError, StructuredDatasetTransformerEngine

    encoder = RowsEncoder()
    StructuredDatasetTransformerEngine.register(encoder)
    try:
        with pytest.raises(DuplicateHandlerError):
            StructuredDatasetTransformerEngine.register(RowsEncoder())
        assert DataFrameHandlers.get_encoder(Rows, "s3", "") is encoder
    finally:
        DataFrameHandlers.unregister(encoder)


# --- the cache seam ---------------------------------------------------------------------------------


def test_the_cache_hash_of_a_table_is_its_content_computed_without_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "raw"))
    declared = Annotated[pd.DataFrame, kwtypes(a=int)]
    first = TypeEngine.hash_of(_table().to_pandas(), declared)
    assert first == TypeEngine.hash_of(_table().to_pandas(), declared)
    assert first != TypeEngine.hash_of(pa.table({"a": [1, 2, 4], "b": ["x", "y", "z"]}).to_pandas(), declared)
    assert TypeEngine.hash_of(StructuredDataset(dataframe=_table()), StructuredDataset) == TypeEngine.hash_of(
        _table(), pa.Table
    )
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("python_type", [pa.Table, pd.DataFrame])
def test_a_large_table_is_written_as_one_parquet_part_a_core_and_read_back_in_order(python_type, tmp_path, monkeypatch):
    import numpy as np
    import pyarrow.parquet as pq

    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    rows = 1_000_000  # 30.5 MiB of Arrow: three parts of at least 8 MiB
    column = np.arange(rows)
    table = pa.table({"a": column, "b": column * 0.5, "c": column % 7, "d": np.sqrt(column)})
    value = table if python_type is pa.Table else table.to_pandas()
    uri = TypeEngine.to_literal(None, value, python_type).scalar.structured_dataset.uri
    names = sorted(os.listdir(uri))
    assert names == ["00000", "00001", "00002"]
    groups = [pq.ParquetFile(os.path.join(uri, name)).metadata for name in names]
    # Every part but the last holds whole row groups of the size one file would have had.
    first_group = groups[0].row_group(0).num_rows
    assert all(
        metadata.row_group(i).num_rows == first_group
        for metadata in groups[:-1]
        for i in range(metadata.num_row_groups)
    )
    assert sum(metadata.num_rows for metadata in groups) == rows
    back = TypeEngine.to_python_value(None, TypeEngine.to_literal(None, value, python_type), python_type)
    if python_type is pa.Table:
        assert back.equals(table)
    else:
        pd.testing.assert_frame_equal(back, value)


def test_a_table_below_two_parts_is_one_file(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    table = pa.table({"a": pa.array(range(900_000), pa.int64())})  # 7.2 MB
    uri = TypeEngine.to_literal(None, table, pa.Table).scalar.structured_dataset.uri
    assert os.listdir(uri) == ["00000"]
    assert TypeEngine.to_python_value(None, TypeEngine.to_literal(None, table, pa.Table), pa.Table).equals(table)


def test_columns_of_one_name_are_each_stored_required_by_their_own_nulls(tmp_path, monkeypatch):
    """pyarrow tables may repeat a column name: one with nulls stays OPTIONAL beside one without."""
    import pyarrow.parquet as pq

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    table = pa.Table.from_arrays([pa.array([1, 2, 3]), pa.array([1, None, 3])], names=["x", "x"])
    literal, back = _round_trip(table, pa.Table)
    uri = literal.scalar.structured_dataset.uri
    (part,) = [os.path.join(uri, name) for name in os.listdir(uri)]
    assert [field.nullable for field in pq.ParquetFile(part).schema_arrow] == [False, True]
    assert back.schema == table.schema and back.equals(table)


def _threads_calling_python_files(monkeypatch) -> list[threading.Thread]:
    """The threads of every call into the Python files storage hands out (fsspec's memory and local files)."""
    from fsspec.implementations.local import LocalFileOpener
    from fsspec.implementations.memory import MemoryFile

    threads: list[threading.Thread] = []

    def recording(original):
        def recorded(self, *args, **kwargs):
            threads.append(threading.current_thread())
            return original(self, *args, **kwargs)

        return recorded

    for cls in (MemoryFile, LocalFileOpener):
        for name in ("read", "readinto", "seek", "tell"):
            if hasattr(cls, name):
                monkeypatch.setattr(cls, name, recording(getattr(cls, name)))
    return threads


@pytest.mark.parametrize("rows", [1_000, 1_000_000], ids=["one part", "two parts"])
@pytest.mark.parametrize("storage_format", ["parquet", "csv"])
@pytest.mark.parametrize("python_type", [pa.Table, pd.DataFrame])
@pytest.mark.parametrize("prefix", ["memory", "file"])
def test_arrow_s_own_threads_never_call_a_python_file(python_type, storage_format, rows, prefix, tmp_path, monkeypatch):
    """Arrow calls a Python file with the GIL, and its threads keep it a moment after a read returns: a process
    ending then aborted ("terminate called without an active exception") after its work was done, once in a CI
    run. Stored tables are read, whole and in batches, with every call into a Python file on a Python thread
    (Arrow's threads show in Python as dummy threads)."""
    import numpy as np

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    raw = f"memory://threads-{os.getpid()}-{id(tmp_path)}" if prefix == "memory" else str(tmp_path / "raw")
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", raw)
    column = np.arange(rows if storage_format == "parquet" else rows // 10)
    table = pa.table({"a": column, "b": column * 0.5, "c": column % 7, "d": np.sqrt(column)})
    value = table if python_type is pa.Table else table.to_pandas()
    literal = TypeEngine.to_literal(None, value, Annotated[python_type, storage_format])
    threads = _threads_calling_python_files(monkeypatch)
    back = TypeEngine.to_python_value(None, literal, python_type)
    stored = TypeEngine.to_python_value(None, literal, StructuredDataset)
    batches = list(stored.open(pa.Table).iter())
    assert (back if python_type is pa.Table else pa.Table.from_pandas(back, preserve_index=False)).equals(table)
    assert pa.concat_tables(batches).equals(table)
    on_arrow_threads = {thread.name for thread in threads if isinstance(thread, threading._DummyThread)}
    assert not on_arrow_threads, f"a Python file was called on Arrow's threads: {on_arrow_threads}"
    assert threads or prefix == "file"  # the recording works (memory storage hands out Python files only)


def test_a_table_of_parts_is_read_from_its_file_uri(tmp_path, monkeypatch):
    """A directory of parts named by a file:// URI (its parts were taken for paths relative to the working
    directory, and the read failed)."""
    import numpy as np

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    column = np.arange(1_000_000)
    table = pa.table({"a": column, "b": column * 0.5, "c": column % 7, "d": np.sqrt(column)})
    uri = TypeEngine.to_literal(None, table, pa.Table).scalar.structured_dataset.uri
    assert len(os.listdir(uri)) == 2
    stored = StructuredDataset(uri="file://" + uri)
    assert stored.open(pa.Table).all().equals(table)
    assert pa.concat_tables(stored.open(pa.Table).iter()).equals(table)


def test_polars_reading_a_compressed_table_itself_calls_the_python_file_on_python_threads(tmp_path, monkeypatch):
    """polars reads compressed Parquet itself, from the Python file storage hands out: on the caller's thread."""
    import numpy as np

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", f"memory://polars-threads-{os.getpid()}-{id(tmp_path)}")
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", "snappy")
    column = np.arange(1_000_000)
    frame = pl.DataFrame({"a": column, "b": column % 7})
    literal = TypeEngine.to_literal(None, frame, pl.DataFrame)
    from taskloom_arrow import handlers

    read_by_polars = []
    monkeypatch.setattr(
        handlers, "_read_polars", lambda *args, _read=handlers._read_polars: read_by_polars.append(1) or _read(*args)
    )
    threads = _threads_calling_python_files(monkeypatch)
    assert TypeEngine.to_python_value(None, literal, pl.DataFrame).equals(frame)
    assert read_by_polars == [1]
    assert threads and not [thread for thread in threads if isinstance(thread, threading._DummyThread)]
