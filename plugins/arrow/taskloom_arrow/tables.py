"""Tables in memory: which classes are tables, converting between libraries, choosing columns, hashing.

Everything here works on the objects themselves and writes nothing. pyarrow is the common ground: a
pandas or polars table is converted through Arrow only when a task asks for another library than the
one that made the table (a conversion is then unavoidable, as in flytekit, which writes and reads a
file for it). Choosing columns never copies data: Arrow and polars select by reference, pandas 3
copies on write.
"""

from __future__ import annotations

import hashlib
from typing import Any

#: Tables known by module and class name, so that claiming an annotation imports no library.
KNOWN_TABLES = {("pyarrow", "Table"), ("pandas", "DataFrame"), ("polars", "DataFrame")}


def library(python_type: Any) -> str:
    """The top-level module of a class (``"pandas"`` for ``pandas.core.frame.DataFrame``)."""
    return str(getattr(python_type, "__module__", "") or "").split(".", 1)[0]


def is_table_type(python_type: Any) -> bool:
    """Whether ``python_type`` is a table class: pyarrow's, pandas' or polars' by name, or any class with
    named columns speaking the Arrow C stream interface (``__arrow_c_stream__``), read without importing
    its library. (A stream without columns, such as ``pyarrow.ChunkedArray``, is one column, not a table.)"""
    if not isinstance(python_type, type):
        return False
    if (library(python_type), python_type.__name__) in KNOWN_TABLES:
        return True
    return hasattr(python_type, "__arrow_c_stream__") and (
        hasattr(python_type, "column_names") or hasattr(python_type, "columns")
    )


def to_arrow(table: Any) -> Any:
    """``table`` as a ``pyarrow.Table`` (itself when it is one; without copying data where the library allows)."""
    import pyarrow as pa  # a table exists: the cost is its library's, paid already

    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    name = library(type(table))
    if name == "pandas":
        converted = _numbers_from_pandas(table)
        return pa.Table.from_pandas(table, preserve_index=None, nthreads=1) if converted is None else converted
    if name == "polars":
        return table.to_arrow()
    if hasattr(table, "__arrow_c_stream__"):
        return pa.table(table)
    raise TypeError(f"{type(table).__qualname__} is not a table taskloom-arrow can convert")


def _numbers_from_pandas(frame: Any) -> Any:
    """``pa.Table.from_pandas(frame, preserve_index=None)`` for a frame of NumPy number columns without NaN
    (text labels, a range index), without the NaN scan that makes pyarrow's conversion cost ~1 ms a million
    floats; ``None`` for any other frame.

    ``from_pandas`` turns a float NaN into a null, so it checks every float as it converts (~4.4 ms for
    a 1e6 x 4 table of numbers); a column's minimum, NaN when any value is, decides that at memory speed,
    and a column of numbers then becomes an Arrow array without a copy. The schema, pandas metadata included, is
    ``from_pandas``' own for the frame's first zero rows, with the range index's bounds set: 1.1 ms.
    """
    import json

    import numpy as np
    import pandas as pd  # a pandas table exists: pandas is loaded
    import pyarrow as pa

    labels = frame.columns
    if not isinstance(frame.index, pd.RangeIndex) or labels.nlevels != 1 or labels.has_duplicates:
        return None
    if not len(labels):
        return None  # rows without columns: an Arrow table made of arrays would have none
    if not all(isinstance(label, str) for label in labels):
        return None
    dtypes = list(frame.dtypes)  # once: each frame.dtypes builds a Series
    if not all(isinstance(dtype, np.dtype) and dtype.kind in "iufb" and dtype.isnative for dtype in dtypes):
        return None
    arrays = []
    for position, dtype in enumerate(dtypes):
        values = frame.iloc[:, position].to_numpy()
        # NaN becomes null: pyarrow's to convert. A minimum is NaN when any value is, without the
        # array of flags numpy.isnan makes.
        if dtype.kind == "f" and len(values) and np.isnan(values.min()):
            return None
        arrays.append(pa.array(values, from_pandas=False))
    empty = pa.Table.from_pandas(frame.iloc[:0], preserve_index=None, nthreads=1)
    metadata = dict(empty.schema.metadata or {})
    pandas_metadata = json.loads(metadata[b"pandas"])
    indexes = pandas_metadata["index_columns"]
    if len(indexes) != 1 or not isinstance(indexes[0], dict) or indexes[0].get("kind") != "range":
        return None
    index = frame.index
    indexes[0].update(start=index.start, stop=index.stop, step=index.step)
    metadata[b"pandas"] = json.dumps(pandas_metadata).encode()
    return pa.Table.from_arrays(arrays, schema=empty.schema.with_metadata(metadata))


def from_arrow(table: Any, python_type: Any) -> Any:
    """A ``pyarrow.Table`` as a table of class ``python_type`` (pyarrow, pandas or polars)."""
    name = library(python_type)
    if name == "pyarrow":
        return table
    if name == "pandas":
        return table.to_pandas()
    if name == "polars":
        import polars as pl  # asked for a polars table: polars is loaded

        return pl.from_arrow(table, rechunk=False)  # a column read in chunks stays so, rather than be copied
    raise TypeError(f"cannot make a {getattr(python_type, '__qualname__', python_type)} from an Arrow table")


def convert(table: Any, python_type: Any) -> Any:
    """``table`` as an instance of ``python_type``: the same object when it is one already."""
    if python_type is None or isinstance(table, python_type):
        return table
    return from_arrow(to_arrow(table), python_type)


def select(table: Any, names: list[str]) -> Any:
    """``table`` with only the columns ``names``, in that order; the same object when it has exactly them."""
    current = list(table.column_names) if hasattr(table, "column_names") else [str(c) for c in table.columns]
    if current == names:
        return table
    name = library(type(table))
    if name in ("pyarrow", "polars"):
        return table.select(names)
    if name == "pandas":
        return table[names]
    return to_arrow(table).select(names)


def batches(table: Any, python_type: Any) -> Any:
    """The record batches of an in-memory table, each as a ``python_type`` (``StructuredDataset.iter``)."""
    for batch in to_arrow(table).to_batches():
        yield convert(batch, python_type) if library(python_type) != "pyarrow" else _as_table(batch, python_type)


def _as_table(batch: Any, python_type: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([batch]) if python_type is pa.Table else batch


def cross_processes_as_arrow(table_type: Any) -> None:
    """Have multiprocessing (the local executor's process pool) pickle polars tables of ``table_type`` as
    their Arrow table, whose buffers pickle out of band.

    polars pickles a table through its own serialization, in band: ~140-170 ms a hop for a 30 MiB table,
    against ~17 ms as Arrow (``to_arrow`` and ``from_arrow`` share the buffers; the schema, Enum and
    Categorical included, comes back the same). Only multiprocessing's pickler is told
    (``ForkingPickler.register``), not ``pickle`` at large. Called where a task declares the type, which
    happens in the scheduler and in each worker (it imports the task's module).
    """
    if library(table_type) != "polars":
        return
    from multiprocessing.reduction import ForkingPickler  # ~4 ms, beside polars' ~270 ms

    ForkingPickler.register(table_type, _reduce_polars)


def _reduce_polars(frame: Any) -> Any:
    import polars as pl  # a polars table is being pickled: polars is loaded

    if pl.Object in frame.dtypes:  # Python objects: left to polars' pickling, as without this reducer
        return frame.__reduce_ex__(5)
    return (_polars_from_arrow, (frame.to_arrow(),))


def _polars_from_arrow(table: Any) -> Any:
    import polars as pl  # unpickling a polars table

    return pl.from_arrow(table, rechunk=False)  # rechunk would copy the columns received in chunks


class _Digest:
    """A write-only sink that hashes what is written to it (Arrow's IPC writer writes to it)."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.hash.update(view)
        return view.nbytes

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def content_hash(table: Any) -> str:
    """A hash of a table's schema and data, computed in memory: no file is written.

    The table is streamed as Arrow IPC into a hash, so a slice hashes as its own rows. Equal tables
    give equal hashes; the same rows cut into other record batches may hash differently (a cache
    miss, never a wrong hit). pandas and polars tables are hashed as their Arrow conversion (the
    index of a pandas table included).
    """
    import pyarrow as pa

    arrow = to_arrow(table)
    digest = _Digest()
    sink = pa.PythonFile(digest, mode="w")
    with pa.ipc.new_stream(sink, arrow.schema) as writer:
        writer.write_table(arrow)
    return "arrow-sha256:" + digest.hash.hexdigest()
