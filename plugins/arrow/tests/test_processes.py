"""polars tables cross multiprocessing (the local executor's process pool) as their Arrow table."""

from __future__ import annotations

import io
import pickle
import typing
from multiprocessing.reduction import ForkingPickler

import numpy as np
import polars as pl
from taskloom import task


def _pickled_for_a_process(value: typing.Any) -> tuple[bytes, list[pickle.PickleBuffer]]:
    # As the process pool pickles: multiprocessing's pickler, protocol 5, buffers out of band.
    buffers: list[pickle.PickleBuffer] = []
    stream = io.BytesIO()
    ForkingPickler(stream, 5, True, buffers.append).dump(value)
    return stream.getvalue(), buffers


@task
def rows_of_a_polars_table(frame: pl.DataFrame) -> int:  # declaring it is what registers the reducer
    return frame.height


def test_a_polars_table_crosses_processes_with_its_buffers_out_of_band_and_its_schema_kept():
    values = np.arange(200_000, dtype=np.int64)
    frame = pl.DataFrame(
        {
            "a": values,
            "b": values * 0.5,
            "grade": pl.Series(["x", "y"] * 100_000, dtype=pl.Enum(["x", "y", "z"])),
            "kind": pl.Series(["p", "q"] * 100_000, dtype=pl.Categorical),
        }
    )
    pickled, buffers = _pickled_for_a_process(frame)
    assert len(pickled) < 10_000  # polars' own pickling puts the ~3.4 MB of data in band
    assert sum(memoryview(buffer).nbytes for buffer in buffers) >= values.nbytes * 2
    back = pickle.loads(pickled, buffers=buffers)
    assert type(back) is pl.DataFrame
    assert back.schema == frame.schema and back.equals(frame)
