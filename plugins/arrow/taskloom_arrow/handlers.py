"""The built-in encoders and decoders: pyarrow, pandas and polars tables as Parquet and CSV.

A table of any of the three is written with pyarrow (a pandas or polars table converted to Arrow,
without copying number columns), and read back a row group at a time (``taskloom_arrow.reading``: into
pandas without an Arrow copy of the whole table), or as polars by polars itself when compressed. Every
reader reads what is written. Files are opened through the kernel's
storage (:func:`taskloom.extend.get_filesystem`, which asks the ``taskloom_filesystem`` hook), so
every protocol a plugin serves (``file``, ``memory``, ``s3``...) works, and nothing here picks a
filesystem by hand.

The layout is flytekit's, so that either side reads what the other wrote: a table's URI is a
directory; Parquet goes in its file ``00000``, CSV in its file ``.csv``. A URI that is a single file
(a user's ``StructuredDataset(uri="data.parquet")``) is read as that file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from taskloom.extend import (
    CSV,
    PARQUET,
    StructuredDatasetDecoder,
    StructuredDatasetEncoder,
    get_filesystem,
    split_protocol,
)

from taskloom_arrow.columns import STRING, arrow_kind
from taskloom_arrow.reading import (
    NULLABLE_KEY,
    arrow_may_read,
    as_written,
    choose_memory_pool,
    each_part,
    read_arrow,
    read_footer,
    read_pandas,
)
from taskloom_arrow.tables import from_arrow, library, to_arrow

PARQUET_PART = "00000"  # flytekit's name for the one part it writes
CSV_PART = ".csv"  # flytekit's name, kept so that flytekit reads it

#: The environment variable that names the Parquet codec for every table written (``snappy``, ``zstd``,
#: ``gzip``, ``none``...), instead of the default of :func:`parquet_compression`.
COMPRESSION_VARIABLE = "TASKLOOM_PARQUET_COMPRESSION"
#: Protocols whose files stay on this machine (its disk, or this process's memory).
LOCAL_PROTOCOLS = frozenset({"file", "local", "memory"})


def parquet_compression(uri: str, *, local: str = "none") -> str:
    """The Parquet codec for a table written under ``uri``: :data:`COMPRESSION_VARIABLE` when set; else
    ``local`` on this machine's own storage (:data:`LOCAL_PROTOCOLS`) and ``snappy`` on any other.

    On a local disk the codec costs more than the bytes it saves: a 1e6 x 4 table of numbers (30.5 MiB)
    read back into pandas in 21-26 ms uncompressed against 41-45 ms as snappy (15.6 MiB), and the files of
    a local run (its cache, its recorded outputs, a local ``loom-execute``) are read on this machine. Over
    a network (S3, GCS, a Flyte cluster's blob store) the bytes cost more than the CPU: snappy, as flytekit
    and pandas write. Every Parquet reader reads either (flytekit, Spark, pyarrow, polars, DuckDB).
    """
    chosen = os.environ.get(COMPRESSION_VARIABLE, "").strip().lower()
    if chosen in ("none", "uncompressed"):
        return "none"
    if chosen:
        try:
            available = pa.Codec.is_available(chosen)
        except ValueError:  # a name pyarrow does not know at all
            available = False
        if not available:
            raise ValueError(
                f"{COMPRESSION_VARIABLE}={chosen!r} is not a Parquet codec pyarrow has here "
                "(expected one of none, snappy, gzip, brotli, lz4, zstd)"
            )
        return chosen
    return local if split_protocol(uri)[0] in LOCAL_PROTOCOLS else "snappy"


def _filesystem(uri: str) -> tuple[Any, str]:
    """The storage filesystem serving ``uri`` and the path to give it (plain for local files)."""
    protocol, rest = split_protocol(uri)
    return get_filesystem(protocol), (rest if protocol == "file" else uri)


def new_uri(ctx: Any) -> str:
    """A fresh directory under the context's raw output prefix."""
    prefix = ctx.file_access.raw_output_prefix
    return prefix.rstrip("/") + "/" + uuid.uuid4().hex


def _parts(uri: str, storage_format: str) -> tuple[Any, list[str]]:
    """The files that hold the table at ``uri``, in order (one file, or a directory's files)."""
    fs, path = _filesystem(uri)
    if not fs.isdir(path):
        return fs, [path]
    found = sorted(str(name) for name in fs.find(path)) if hasattr(fs, "find") else []
    wanted = [
        name
        for name in found
        if not os.path.basename(name).startswith("_")
        and (storage_format == CSV or not os.path.basename(name).startswith("."))
    ]
    if not wanted:
        part = CSV_PART if storage_format == CSV else PARQUET_PART
        wanted = [path.rstrip("/") + "/" + part]
    if _local(uri):  # local paths as the filesystem gives them (a "file://" one would be read as relative)
        return fs, wanted
    return fs, [name if "://" in name or "://" not in uri else _with_protocol(uri, name) for name in wanted]


def _local(uri: str) -> bool:
    return split_protocol(uri)[0] == "file"


def _native_opener(uri: str) -> Callable[[str], Any] | None:
    """How to open the parts of the table at ``uri`` as Arrow's own files (``pa.OSFile``), which Arrow's
    threads may read (:func:`reading.arrow_may_read`): for local storage only; ``None`` elsewhere."""
    return pa.OSFile if _local(uri) else None


@contextlib.contextmanager
def _csv_source(uri: str, fs: Any, part: str) -> Iterator[Any]:
    """The CSV file ``part`` of the table at ``uri``, opened for Arrow's CSV reader.

    That reader reads its input on Arrow's I/O threads whatever it is given, and a Python file must
    not be read there (:func:`reading.arrow_may_read`): a local file is opened as Arrow's own, any other
    is first copied into a local temporary file (on disk, 1 MiB at a time: a table larger than memory
    still streams), opened so.
    """
    if _local(uri):
        with pa.OSFile(part) as file:
            yield file
        return
    with tempfile.TemporaryDirectory(prefix="taskloom-csv-") as directory:
        copy = os.path.join(directory, CSV_PART)
        with fs.open(part, "rb") as remote, open(copy, "wb") as local:
            shutil.copyfileobj(remote, local, 1 << 20)
        with pa.OSFile(copy) as file:
            yield file


def _with_protocol(uri: str, name: str) -> str:
    # fsspec's find() drops the protocol of remote paths (memory, s3); storage wants it back.
    protocol = uri.split("://", 1)[0]
    return f"{protocol}://{name.lstrip('/')}" if protocol != "memory" else f"memory://{name}"


def _columns(metadata: Any) -> list[str] | None:
    sdt = getattr(metadata, "structured_dataset_type", None)
    return [column.name for column in sdt.columns] if sdt is not None and sdt.columns else None


def _literal(uri: str, structured_dataset_type: Any, storage_format: str) -> Any:
    # The contracts (attrs, ~30 ms) only here, where a literal is made: never on the in-process path.
    import attrs
    from taskloom.extend import models

    literals = models.literals
    sdt = attrs.evolve(structured_dataset_type, format=storage_format)
    return literals.StructuredDataset(uri=uri, metadata=literals.StructuredDatasetMetadata(structured_dataset_type=sdt))


class ArrowEncoder(StructuredDatasetEncoder[Any]):
    """Writes a table of ``python_type`` (pyarrow, pandas or polars) as ``supported_format``, through Arrow."""

    def __init__(self, python_type: Any, supported_format: str) -> None:
        super().__init__(python_type, None, supported_format)

    def encode(self, ctx: Any, structured_dataset: Any, structured_dataset_type: Any) -> Any:
        """Write ``structured_dataset.dataframe`` under its ``uri`` or a new directory of the raw output prefix."""
        frame = structured_dataset.dataframe
        uri = structured_dataset.uri or new_uri(ctx)
        fs, path = _filesystem(uri)
        directory = path.rstrip("/") + "/"
        if self.supported_format == CSV:
            with fs.open(directory + CSV_PART, "wb") as file:
                pa_csv.write_csv(to_arrow(frame), file)
        else:
            # polars tables too: polars' own writer (OPTIONAL columns, one file, one codec) took 26-28 ms
            # for a 1e6 x 4 table of numbers, Arrow's here 16-21 ms.
            write_parquet_parts(fs, directory, to_arrow(frame), parquet_compression(uri))
        return _literal(uri, structured_dataset_type, self.supported_format)


#: The Arrow size from which a table is written as several Parquet parts, encoded at once.
PARALLEL_BYTES = 8 << 20


def write_parquet_parts(fs: Any, directory: str, table: Any, compression: str) -> None:
    """Write ``table`` under ``directory`` as Parquet compressed with ``compression`` (a pyarrow codec name,
    :func:`parquet_compression`): one file (``00000``), or for a table of at least
    :data:`PARALLEL_BYTES` one file per core (``00000``, ``00001``...: consecutive rows, in name order),
    encoded at once on the kept threads (``reading.part_threads``).

    pyarrow's Parquet writer encodes a file on one core (~50 ms for a 30 MiB table of numbers with
    snappy, most of a hand-over through storage); parts are the way Parquet datasets spread that
    work, and every reader, flytekit's included, reads a directory's parts in name order.
    """
    table = required_where_null_free(table)
    rows = row_group_rows(table.nbytes, table.num_rows)
    dictionary = dictionary_columns(table)
    codecs = column_compression(table, compression)
    parts = max(1, min(os.cpu_count() or 1, table.nbytes // PARALLEL_BYTES))
    # Each part a whole number of row groups, so every group keeps its size.
    per_part = -(-table.num_rows // parts // rows) * rows if parts > 1 else table.num_rows
    slices = [table.slice(start, per_part) for start in range(0, max(table.num_rows, 1), per_part or 1)]

    def write(index: int) -> None:
        with fs.open(directory + f"{index:05d}", "wb") as file:
            pq.write_table(slices[index], file, use_dictionary=dictionary, row_group_size=rows, compression=codecs)

    each_part(write, range(len(slices)))


def _read_polars(open_part: Any, parts: list[str], columns: list[str] | None) -> Any:
    """The Parquet files ``parts`` read by polars itself: on every core, holding the table and little more
    (a 1e6 x 4 table of numbers peaked at ~1.0x its size, against ~1.7x through Arrow)."""
    import polars as pl  # a polars table is asked for: polars is installed

    frames = []
    for part in parts:
        with open_part(part) as file:
            frames.append(pl.read_parquet(file, columns=columns))
    return frames[0] if len(frames) == 1 else pl.concat(frames, rechunk=False)


#: The share of its data a Parquet file's bytes may be for polars to read it itself (:func:`_compressed`).
POLARS_READS_BELOW = 0.75


def _compressed(metadata: Any) -> bool:
    """Whether the Parquet files whose first footer is ``metadata`` are compressed (their first row group's
    bytes under :data:`POLARS_READS_BELOW` of its data), so that polars reads them itself.

    polars reads a whole file into memory before it decodes it: for a compressed file that is a fraction
    of the table, for an uncompressed one (this plugin writes those on the local disk,
    :func:`parquet_compression`, and leaves numbers a codec cannot shrink uncompressed) the table's size
    again, and a 1e6 x 4 table of numbers peaked at 2.1-2.2x its size. Arrow's reader holds one row group:
    ~1.6x, then ``from_arrow`` without a copy. polars decodes about twice as fast (13-15 ms for that
    table as snappy, against 27-33 ms), so it reads what is compressed.
    """
    if not metadata.num_row_groups or not metadata.num_columns:
        return True  # nothing to hold: either reader will do
    group = metadata.row_group(0)
    chunks = [group.column(i) for i in range(group.num_columns)]
    data = sum(chunk.total_uncompressed_size for chunk in chunks)
    return sum(chunk.total_compressed_size for chunk in chunks) < data * POLARS_READS_BELOW


#: The bytes of a column's values a codec is tried on (:func:`column_compression`).
SAMPLE_BYTES = 256 << 10
#: The share of a sample a codec must save for its column to be compressed.
WORTH_COMPRESSING = 0.1


def column_compression(table: Any, compression: str) -> str | dict[str, str]:
    """The codec of each column of ``table``: ``compression``, except that a column of fixed-width numbers
    (integers, floats, dates and times) whose first :data:`SAMPLE_BYTES` the codec does not shrink by
    :data:`WORTH_COMPRESSING` is written uncompressed. ``compression`` itself when every column gets it.

    Measured values (floats from sensors or computations, hashes, identifiers) barely compress, and the
    codec's work on them is wasted on both sides: ``numpy.sqrt`` of 1e6 integers is 7.636 MiB plain and
    7.632 MiB as snappy, written in 10.4 against 7.8 ms and read in 3.2 against 2.1 ms (one thread), while
    integers in sequence halve. Parquet names a codec per column chunk, and every reader reads mixed
    codecs. Tables with nested columns keep one codec (pyarrow names a nested column's codec by each leaf).
    """
    nested = any(pa.types.is_nested(field.type) for field in table.schema)
    if compression == "none" or nested or len(set(table.column_names)) != table.num_columns:
        return compression  # one codec: per-column codecs are named by column (by leaf, when nested)
    codecs = {
        field.name: compression if _shrinks(column, compression) else "none"
        for field, column in zip(table.schema, table.columns, strict=True)
    }
    return compression if all(codec == compression for codec in codecs.values()) else codecs


def _shrinks(column: Any, compression: str) -> bool:
    """Whether ``compression`` saves :data:`WORTH_COMPRESSING` of the first values of ``column`` (``True`` for
    a column that is not of fixed-width numbers, or has no values)."""
    kind = column.type
    fixed = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)
    chunk = next((chunk for chunk in column.chunks if len(chunk)), None)
    if not fixed or chunk is None or kind.bit_width % 8:
        return True
    width = kind.bit_width // 8
    size = min(len(chunk) * width, SAMPLE_BYTES)
    sample = chunk.buffers()[1].slice(chunk.offset * width, size)
    try:
        compressed = pa.compress(sample, codec=compression, asbytes=False).size
    except (ValueError, NotImplementedError, pa.ArrowException):  # a codec Arrow cannot run on a buffer
        return True
    return compressed <= size * (1 - WORTH_COMPRESSING)


def required_where_null_free(table: Any) -> Any:
    """``table`` with every nullable column that holds no null declared not null (no data copied), so that
    Parquet stores it REQUIRED, and those columns named under :data:`~taskloom_arrow.reading.NULLABLE_KEY`
    in its schema's metadata, so that this plugin's reader makes them nullable again
    (:func:`~taskloom_arrow.reading.restored`).

    Parquet gives every value of an OPTIONAL column a definition level, which the writer computes and
    encodes and every reader decodes, nulls or not; a REQUIRED column has none. A 1e6 x 4 table of numbers
    without nulls wrote with snappy in 31-37 ms instead of 44-46 (one thread), and handed over through
    object storage (``benchmarks/tables.py``) in 62 ms instead of 71 (pyarrow), 77 instead of 94 (pandas).
    The values are the same for every reader; one that maps Parquet's repetition to nullability (pyarrow,
    Spark) sees such a column as not null.
    """
    full = [
        field.nullable and not pa.types.is_null(field.type) and column.null_count == 0
        for field, column in zip(table.schema, table.columns, strict=True)
    ]
    metadata = {key: value for key, value in (table.schema.metadata or {}).items() if key != NULLABLE_KEY}
    if not any(full):
        return table if table.schema.metadata == (metadata or None) else table.replace_schema_metadata(metadata or None)
    metadata[NULLABLE_KEY] = json.dumps(
        [field.name for field, made in zip(table.schema, full, strict=True) if made]
    ).encode()
    fields = [field.with_nullable(False) if made else field for field, made in zip(table.schema, full, strict=True)]
    return table.cast(pa.schema(fields, metadata=metadata))


#: The Arrow size of a row group written (its rows: this over the table's bytes per row).
ROW_GROUP_BYTES = 2 << 20


def row_group_rows(size: int, rows: int) -> int:
    """The rows of each row group a table of ``rows`` rows and ``size`` bytes is written in:
    ~:data:`ROW_GROUP_BYTES` of its data each.

    A reader holds one row group at a time (``taskloom_arrow.reading``), compressed and decoded, so
    the size of a group bounds what reading adds to the table read. pyarrow's default is 1 Mi rows:
    a 32 MiB table of 1e6 rows and four number columns then is one group, and reading it into pandas
    peaked at ~2x the table; in groups of 64 Ki rows (2 MiB), at ~1.4x.
    """
    per_row = max(1, size // max(1, rows))
    return max(1024, ROW_GROUP_BYTES // per_row)


def dictionary_columns(table: Any) -> list[str]:
    """The columns worth dictionary-encoding in Parquet: text, bytes, and columns that are dictionaries already
    (categoricals, whose type a reader restores from the encoding).

    pyarrow's default tries a dictionary for every column and falls back to plain pages once it
    grows too big, which numbers mostly do: for a 1e6-row table of two int64 and two float64 columns
    the default wrote 16.0 MiB in 92 ms, numbers without dictionaries 15.6 MiB in 51 ms. Text, where
    values repeat, keeps its dictionaries. Any Parquet reader reads either.
    """
    return [
        field.name for field in table.schema if pa.types.is_dictionary(field.type) or arrow_kind(field.type) == STRING
    ]


class ArrowDecoder(StructuredDatasetDecoder[Any]):
    """Reads ``supported_format`` into a table of ``python_type``, through Arrow; streams with :meth:`iter_decode`."""

    def __init__(self, python_type: Any, supported_format: str) -> None:
        super().__init__(python_type, None, supported_format)

    def decode(self, ctx: Any, flyte_value: Any, current_task_metadata: Any) -> Any:
        """The whole table at ``flyte_value.uri``, only the reading task's declared columns when it declares some."""
        columns = _columns(current_task_metadata)
        fs, parts = _parts(flyte_value.uri, self.supported_format)
        if self.supported_format == PARQUET:
            # Python files (fsspec's) but for read_arrow's lone or uncompressed local parts, which it reads
            # natively on Arrow's threads (15 against 26 ms for the benchmark's table). Compressed parts,
            # each on a part thread, read from a Python file held less at the peak than from an OSFile
            # (1.5 against 2.0x: Arrow's allocator kept the compressed bytes), and read_pandas' copy into
            # its arrays is as fast on one thread with a Python file, at 1.3 against 1.9x (alternating
            # runs of the benchmark's reading side).
            open_part = functools.partial(fs.open, mode="rb")
            if library(self.python_type) == "pandas":
                return read_pandas(open_part, parts, columns)
            footer = read_footer(open_part, parts[0]) if library(self.python_type) == "polars" else None
            if footer is not None and _compressed(footer):
                return _read_polars(open_part, parts, columns)
            native = _native_opener(flyte_value.uri)
            return from_arrow(
                read_arrow(open_part, parts, columns, footer=footer, open_native=native), self.python_type
            )
        tables = []
        for part in parts:
            with _csv_source(flyte_value.uri, fs, part) as file:
                include = pa_csv.ConvertOptions(include_columns=columns) if columns else None
                tables.append(pa_csv.read_csv(file, convert_options=include))
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        return from_arrow(table, self.python_type)

    def iter_decode(self, ctx: Any, flyte_value: Any, current_task_metadata: Any) -> Iterator[Any]:
        """The table at ``flyte_value.uri`` as record batches read one at a time (each a ``python_type``):
        memory holds one batch, not the table."""
        columns = _columns(current_task_metadata)
        fs, parts = _parts(flyte_value.uri, self.supported_format)
        open_part = _native_opener(flyte_value.uri) or functools.partial(fs.open, mode="rb")
        for part in parts:
            if self.supported_format == CSV:
                with _csv_source(flyte_value.uri, fs, part) as file:
                    include = pa_csv.ConvertOptions(include_columns=columns) if columns else None
                    for batch in pa_csv.open_csv(file, convert_options=include):
                        yield from_arrow(pa.Table.from_batches([batch]), self.python_type)
                continue
            with open_part(part) as file:
                # One row group at a time: one reader over every row group holds far more than a
                # row group (a 305 MiB table of 500,000-row groups: ~190 MiB, against ~55 MiB so).
                threads = arrow_may_read(file)
                parquet = pq.ParquetFile(file, pre_buffer=False)  # as read_arrow reads (reading.py)
                for group in range(parquet.num_row_groups):
                    for batch in parquet.iter_batches(row_groups=[group], columns=columns, use_threads=threads):
                        yield from_arrow(as_written(pa.Table.from_batches([batch])), self.python_type)


def built_in() -> list[StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]]:
    """The handlers of every library that is installed: pyarrow always, pandas and polars when importable.

    Found with ``importlib.util.find_spec`` first, so a missing library costs no failed import; an
    installed one is imported here, when a table is first written or read. Arrow's memory pool is chosen
    here too (:func:`~taskloom_arrow.reading.choose_memory_pool`).
    """
    import importlib
    import importlib.util

    choose_memory_pool()
    types: list[Any] = [pa.Table]
    for module, name in (("pandas", "DataFrame"), ("polars", "DataFrame")):
        if importlib.util.find_spec(module) is not None:
            try:
                types.append(getattr(importlib.import_module(module), name))
            except ImportError:  # installed but broken: its tables are refused by name when met
                continue
    handlers: list[StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]] = []
    for python_type in types:
        for storage_format in (PARQUET, CSV):
            handlers += [ArrowEncoder(python_type, storage_format), ArrowDecoder(python_type, storage_format)]
    return handlers
