"""Parquet read a row group at a time, into Arrow or into a pandas table without holding it twice.

One reader over every row group of a file reads ahead (for a one-group file: the whole file, compressed,
beside what it decodes); a reader per row group holds one group. :func:`read_arrow` gathers the groups'
record batches into one ``pyarrow.Table`` (no copy: a column is the chunks as read).

``pyarrow.parquet.read_table(...).to_pandas()`` holds the whole Arrow table and then the whole pandas
table: two copies of the data at once, plus what the allocators keep (a 32 MiB table of four number
columns peaked at ~3x its size read so). Here the file is read a row group at a time (a large group a
batch of rows at a time), and the columns pandas keeps as plain NumPy arrays (integers and booleans
without nulls, floats, naive timestamps and durations) are copied group by group into arrays of their
final size: memory holds the pandas table and one group or batch. The other columns (text, nullable integers, categoricals, time
zones, nested values, a stored index) are gathered as Arrow and converted by pyarrow itself, so the
result is what ``to_pandas()`` gives: the same column labels, dtypes, index and ``attrs``, and arrays
pandas may write to.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

#: The Parquet key-value metadata naming (a JSON list) the columns written REQUIRED only because they held
#: no null (``taskloom_arrow.handlers.required_where_null_free``): read back nullable, as they were.
NULLABLE_KEY = b"taskloom:nullable"

#: Rows read at a time: the batch is the only Arrow copy alive (~2 MiB for four 8-byte columns).
BATCH_ROWS = 65_536


def read_pandas(open_part: Callable[[str], Any], parts: list[str], columns: list[str] | None = None) -> Any:
    """The Parquet files ``parts`` (read in order, one table) as a pandas table.

    ``open_part(part)`` opens one as a binary file (a context manager): each is opened once for its
    footer and once to read it (its footer not read again), compressed parts at once on the part threads
    (:func:`each_part`: at most one a core open), never all at once. ``columns`` are the ones to read (all
    when ``None``), as ``read_table(columns=...)`` takes them.
    """
    import numpy as np  # a pandas table is asked for: pandas, and so NumPy, is installed
    import pandas as pd

    release_freed()
    footers = []
    for part in parts:
        with open_part(part) as file:
            parquet = pq.ParquetFile(file, pre_buffer=False)  # the footer only: nothing read ahead
            footers.append((parquet.schema_arrow, parquet.metadata))
    schema = _selected(footers[0][0], columns)
    rows = sum(metadata.num_rows for _, metadata in footers)
    template = schema.empty_table().to_pandas()  # labels, dtypes and attrs, as to_pandas makes them
    index_fields = _index_fields(schema)
    data_fields = [name for name in schema.names if name not in index_fields]
    first = footers[0][0].remove_metadata()
    if (
        len(data_fields) != template.shape[1]
        or len(set(schema.names)) != len(schema.names)
        or any(footer.remove_metadata() != first for footer, _ in footers)
    ):
        return read_arrow(open_part, parts, columns).to_pandas()
    direct = {
        position: np.empty(rows, dtype=template.dtypes.iloc[position])
        for position, name in enumerate(data_fields)
        if _direct(schema.field(name).type, template.dtypes.iloc[position], _null_free(footers, name))
    }
    others = [name for position, name in enumerate(data_fields) if position not in direct] + index_fields
    starts = [0]
    for _, metadata in footers:
        starts.append(starts[-1] + metadata.num_rows)
    # As read_arrow: compressed parts at once, one a thread.
    alone = len(parts) == 1 or not _any_compressed(footers[0][1])

    def read_part(index: int) -> dict[str, list[Any]]:
        if not alone:
            release_freed()  # what this thread freed reading the last table
        part_gathered: dict[str, list[Any]] = {name: [] for name in others}
        start = starts[index]
        with open_part(parts[index]) as file:
            # Its footer is read once (a request on S3). A part read on its own thread reads as it decodes
            # (pre_buffer=False): Arrow otherwise reads each row group ahead on its I/O threads, a hand-over
            # and the GIL for a Python file each time (pyarrow read 26 -> 23 ms, pandas 30-36 -> 28-35 ms).
            threads = alone and arrow_may_read(file)
            parquet = pq.ParquetFile(file, metadata=footers[index][1], pre_buffer=False)
            for group in range(parquet.num_row_groups):
                for batch in _batches(parquet, group, schema.names, threads=threads):
                    stop = start + batch.num_rows
                    for position, target in direct.items():
                        target[start:stop] = batch.column(data_fields[position]).to_numpy(zero_copy_only=False)
                    for name, chunks in part_gathered.items():
                        chunks.append(batch.column(name))
                    start = stop
        return part_gathered

    gathered: dict[str, list[Any]] = {name: [] for name in others}
    for part_gathered in each_part(read_part, range(len(parts)), at_once=not alone):
        for name, chunks in part_gathered.items():
            gathered[name] += chunks
    values: dict[int, Any] = {}
    index = None
    if others:
        # pyarrow converts these with the table's metadata (which builds the index from its columns).
        fields = [schema.field(name) for name in others]
        arrays = [
            pa.chunked_array(gathered.pop(name), type=field.type) for name, field in zip(others, fields, strict=True)
        ]
        rest = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata)).to_pandas()
        index = rest.index
        converted = iter(range(rest.shape[1]))  # rest's columns: the data fields of ``others``, in order
        values = {
            position: rest.iloc[:, next(converted)] for position in range(len(data_fields)) if position not in direct
        }
    frame = pd.DataFrame(
        {
            position: direct[position] if position in direct else values[position]
            for position in range(len(data_fields))
        },
        index=_range_index(schema, rows) if index is None else index,
        copy=False,
    )
    for position, column in values.items():
        # pandas 3 makes text of an object column given to the constructor (pyarrow < 19 gives object
        # columns for text); a column set in place keeps the dtype pyarrow gave it.
        if frame.dtypes.iloc[position] != column.dtype:
            frame.isetitem(position, column)
    frame.columns = template.columns
    frame.attrs = template.attrs
    return frame


#: The decoded size up to which a row group is read whole rather than a batch at a time (this plugin
#: writes groups of ~2 MiB: ``handlers.ROW_GROUP_BYTES``).
WHOLE_GROUP_BYTES = 8 << 20


def _batches(parquet: Any, group: int, columns: list[str], threads: bool = True) -> Any:
    """Row group ``group`` of ``parquet`` as record batches: read whole when it is small, else by batches of
    :data:`BATCH_ROWS` rows (a writer's group of a million rows would otherwise be decoded whole, beside the
    table it is copied into).

    A batch reader is made anew for each group it reads, and a group read whole costs less: a 1e6 x 4
    table of numbers in 16 groups of 2 MiB read into pandas in 28-31 ms whole, 37-43 ms by batches."""
    if parquet.metadata.row_group(group).total_byte_size <= WHOLE_GROUP_BYTES:
        return parquet.read_row_group(group, columns=columns, use_threads=threads).to_batches()
    return parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group], columns=columns, use_threads=threads)


def read_arrow(
    open_part: Callable[[str], Any],
    parts: list[str],
    columns: list[str] | None = None,
    *,
    footer: Any = None,
    open_native: Callable[[str], Any] | None = None,
) -> Any:
    """The Parquet files ``parts`` (read in order) as one ``pyarrow.Table``, read a row group at a time (no copy:
    a column is the chunks as read); ``open_part`` and ``columns`` as :func:`read_pandas` takes them,
    ``footer`` the first part's footer (``FileMetaData``) when the caller has read it already, and
    ``open_native`` opens a part as Arrow's own file when it can (local storage): a lone part or
    uncompressed parts are then read by Arrow's threads (:func:`arrow_may_read`)."""
    release_freed()
    first = footer  # the first part's footer, read first when there are several
    if first is None and len(parts) > 1:
        first = read_footer(open_part, parts[0])
    # Compressed parts are decoded at once, one a thread; uncompressed ones are mostly copied, which
    # gains little on more threads and held more (a read peaked at 2.0x the table, against 1.6x).
    alone = len(parts) == 1 or not _any_compressed(first)

    def read_part(index: int) -> tuple[Any, list[Any]]:
        if not alone:
            release_freed()  # what this thread freed reading the last table, as the caller's thread did
        with (open_native if alone and open_native is not None else open_part)(parts[index]) as file:
            # No footer read twice; a part reads as it decodes (as in read_pandas), Arrow's own file on
            # Arrow's threads too: reading ahead on its I/O threads (pre_buffer) read the benchmark's local
            # table in 18-19 ms against 14-16 (alternating runs of its reading side), peaks 1.64-1.74x
            # against 1.61-1.65x.
            threads = alone and arrow_may_read(file)
            parquet = pq.ParquetFile(file, metadata=first if index == 0 else None, pre_buffer=False)
            groups = range(parquet.num_row_groups)
            return parquet.schema_arrow, [
                parquet.read_row_group(g, columns=columns, use_threads=threads) for g in groups
            ]

    read = each_part(read_part, range(len(parts)), at_once=not alone)
    tables = [table for _, groups in read for table in groups]
    if not tables:  # files without a row group: their columns, no rows
        return _selected(restored(read[0][0]), columns).empty_table()
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    return as_written(table)


def arrow_may_read(file: Any) -> bool:
    """Whether Arrow's own threads may read ``file`` (decode its columns at once, read ahead): only when
    it is one of Arrow's native files (``pa.OSFile`` and the like), never a Python file.

    Arrow calls a Python file (fsspec's, ``open()``'s) with the GIL, and its threads keep the file, or a
    buffer of its bytes, for a moment after a read has returned: a process ending then (the interpreter
    finalizing) stops the thread asking for the GIL, and the C++ runtime aborts the process ("terminate
    called without an active exception", exit -6) after its work is done: pyarrow's issue 34314, caught
    here by a CI run. A Python file is read on Python threads only: the caller's or the part threads
    (:func:`each_part`), which already read each compressed part on one thread; a lone part or the
    uncompressed parts of a Python file are decoded on the caller's thread.
    """
    return isinstance(file, pa.NativeFile) and not isinstance(file, pa.PythonFile)


def read_footer(open_part: Callable[[str], Any], part: str) -> Any:
    """The footer (``FileMetaData``) of the Parquet file ``part``."""
    with open_part(part) as file:
        return pq.ParquetFile(file, pre_buffer=False).metadata


def _any_compressed(metadata: Any) -> bool:
    """Whether any column of the first row group in a Parquet footer is compressed."""
    if not metadata.num_row_groups:
        return False
    group = metadata.row_group(0)
    return any(group.column(i).compression != "UNCOMPRESSED" for i in range(group.num_columns))


def each_part(read: Callable[[Any], Any], parts: Any, *, at_once: bool = True) -> list[Any]:
    """``read`` applied to each of ``parts``, the results in their order: on the kept threads
    (:func:`part_threads`, so at most one part a core at a time) when there are several and ``at_once``,
    else one after another on this thread.

    This plugin writes a large table as one part a core (``handlers.write_parquet_parts``), encoded at
    once; read at once too, each on one thread, the compressed parts of a 1e6 x 4 table of numbers
    (snappy) came back in 28-33 ms instead of 35-41 (a row group at a time on Arrow's threads, with a wait
    on its slowest column each time), in alternating runs of ``benchmarks/tables.py``'s reading side.
    """
    parts = list(parts)
    if len(parts) < 2 or not at_once:
        return [read(part) for part in parts]
    return list(part_threads().map(read, parts))


_part_threads: tuple[int, Any] | None = None
_part_threads_lock = threading.Lock()


def part_threads() -> Any:
    """The threads that encode and decode Parquet parts, one a core: made once a process and kept, since
    fresh threads per table (with their allocator heaps) raised the peak. A process forked after they were
    made gets its own (a child has none of its parent's threads: the parent's pool would never run)."""
    global _part_threads
    with _part_threads_lock:
        if _part_threads is None or _part_threads[0] != os.getpid():
            from concurrent.futures import ThreadPoolExecutor  # only when a table of several parts is read or written

            pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="taskloom-parquet")
            _part_threads = (os.getpid(), pool)
        return _part_threads[1]


def restored(schema: Any) -> Any:
    """``schema`` as the table written had it: the columns :data:`NULLABLE_KEY` names nullable again, and
    the key gone. Any other schema is returned as it is."""
    metadata = schema.metadata
    if not metadata or NULLABLE_KEY not in metadata:
        return schema
    try:
        listed = json.loads(metadata[NULLABLE_KEY])
    except ValueError:  # not this plugin's writing: the key says nothing
        listed = []
    names = {name for name in listed if isinstance(name, str)} if isinstance(listed, list) else set()
    rest = {key: value for key, value in metadata.items() if key != NULLABLE_KEY}
    return pa.schema(
        [field.with_nullable(True) if field.name in names else field for field in schema], metadata=rest or None
    )


def as_written(table: Any) -> Any:
    """``table`` (or a record batch) read from Parquet, with its schema :func:`restored` (no data copied)."""
    written = table.schema  # a new object at each access
    schema = restored(written)
    return table if schema is written else table.cast(schema)


#: Arrow's own variable naming its default memory pool: when set, the process has chosen, and
#: :func:`choose_memory_pool` leaves the choice alone.
POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def choose_memory_pool() -> None:
    """Make jemalloc pyarrow's default memory pool, when this build of pyarrow has it, nobody chose one
    (``ARROW_DEFAULT_MEMORY_POOL`` unset) and the default is still Arrow's (mimalloc).

    Called when this plugin's handlers are first made, before a table is written or read. For Parquet
    read table after table in one process, jemalloc (as Arrow configures it) hands what a read freed
    back to the system and takes it again at less cost than mimalloc, whose pages a thread keeps or
    gives back only to fault them in anew: the same ~2,000 page faults of a read cost 0-8 ms of kernel
    time in most processes and 30-50 ms in some. Alternating runs of the benchmark's writing and reading
    processes (``benchmarks/tables.py``'s storage cases, a 1e6 x 4 table, 5 rounds of 5 runs a side),
    Arrow's mimalloc against this:

    * reads into pyarrow: 27.9 -> 17.4 ms from object storage (snappy), 16.5 -> 9.6 ms from the local
      disk, peaks 1.60-1.62x -> 1.19-1.26x the table; into polars from the local disk 19.3 -> 12.0 ms,
      1.61x -> 1.23x;
    * reads into pandas (copied into NumPy's arrays) and polars' own reads of compressed files: the same;
    * writes: the same (1.4-1.6x). ``pyarrow.set_memory_pool`` is the pool pyarrow hands to what it
      calls (the Parquet readers, Arrow's files, conversions); the Parquet writer's encoders take Arrow's
      C++ default, fixed when pyarrow is imported, from ``ARROW_DEFAULT_MEMORY_POOL``: a process started
      with ``ARROW_DEFAULT_MEMORY_POOL=jemalloc`` wrote at 1.07-1.12x.

    Arrow preferred jemalloc on Linux until 2024, and switched to mimalloc for the same allocator on
    every platform, not for speed. Buffers made before the switch keep their pool. Setting
    ``ARROW_DEFAULT_MEMORY_POOL`` (``mimalloc``, ``jemalloc`` or ``system``) keeps the process's choice. A
    program that set Arrow's mimalloc pool itself (``pa.set_memory_pool(pa.mimalloc_memory_pool())``)
    cannot be told from one that did not (the default is that very pool): it names it in the variable.
    """
    if os.environ.get(POOL_VARIABLE) or pa.default_memory_pool().backend_name != "mimalloc":
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc (Windows, some conda builds): Arrow's default
        return
    pa.set_memory_pool(pool)


def release_freed() -> None:
    """Give the memory Arrow's allocator holds freed back to the system, before a table is read.

    mimalloc (Arrow's default allocator) keeps what a thread frees for that thread to use again,
    and a row group is decoded on Arrow's threads: in a process that reads table after table (a
    worker, a task reading its cache), what the last table and its decoding freed stayed beside the
    next one, and ten reads of a 32 MiB table peaked at 2.0-2.3x the table (1.6-1.7x on the first).
    Released before each read, they peaked at 1.3-1.6x, for one call a table: releasing after every
    row group too held ~1.45x but cost 10-20 ms a read in page faults. jemalloc
    (:func:`choose_memory_pool`) purges what it holds freed on its own after a second; the call purges
    it at once.
    """
    pa.default_memory_pool().release_unused()


def _selected(schema: Any, columns: list[str] | None) -> Any:
    return schema if columns is None else pa.schema([schema.field(name) for name in columns], metadata=schema.metadata)


def _index_fields(schema: Any) -> list[str]:
    """The fields holding a stored pandas index (its levels' columns), from the pandas metadata."""
    metadata = schema.pandas_metadata or {}
    return [name for name in metadata.get("index_columns", []) if isinstance(name, str) and name in schema.names]


def _range_index(schema: Any, rows: int) -> Any:
    """The index ``to_pandas`` builds when no column holds it: the stored range when it fits, else 0..rows."""
    import pandas as pd

    for descriptor in (schema.pandas_metadata or {}).get("index_columns", []):
        if isinstance(descriptor, dict) and descriptor.get("kind") == "range":
            index = pd.RangeIndex(
                descriptor["start"], descriptor["stop"], step=descriptor["step"], name=descriptor["name"]
            )
            if len(index) == rows:
                return index
    return pd.RangeIndex(rows)


def _null_free(footers: list[Any], name: str) -> bool:
    """Whether column ``name`` has no nulls, as the files' statistics say (``False`` when one does not say)."""
    for _, metadata in footers:
        leaf = _leaf(metadata.schema, name)
        if leaf is None:
            return False
        for group in range(metadata.num_row_groups):
            statistics = metadata.row_group(group).column(leaf).statistics
            if statistics is None or not statistics.has_null_count or statistics.null_count:
                return False
    return True


def _leaf(schema: Any, name: str) -> int | None:
    """The Parquet column index (in the Parquet ``schema``) of the top-level field ``name``, if primitive."""
    for index in range(len(schema)):
        if schema.column(index).path == name:
            return index
    return None


def _direct(arrow_type: Any, dtype: Any, null_free: bool) -> bool:
    """Whether a column of ``arrow_type`` becomes the NumPy ``dtype`` in pandas element for element
    (``to_numpy`` gives those very values), so that it can be copied straight into its final array."""
    import numpy as np

    if not isinstance(dtype, np.dtype):
        return False  # an extension dtype (nullable integers, text, categorical...): pyarrow's to convert
    if pa.types.is_floating(arrow_type):
        return dtype == arrow_type.to_pandas_dtype()  # nulls are NaN either way
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return null_free and dtype == arrow_type.to_pandas_dtype()  # with nulls: float64 or object
    if (pa.types.is_timestamp(arrow_type) and arrow_type.tz is None) or pa.types.is_duration(arrow_type):
        return dtype == np.dtype(f"{'M' if pa.types.is_timestamp(arrow_type) else 'm'}8[{arrow_type.unit}]")
    return False
