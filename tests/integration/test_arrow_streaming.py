"""A Parquet dataset far larger than the memory budget is read in batches with bounded memory (issue 23,
point 4), from a local directory and from S3 (SeaweedFS), through ``StructuredDataset(uri=...).iter()``.

The reader runs in a fresh interpreter, so that its peak resident size (VmHWM) measures the read and
nothing else; the bound is taken above a baseline measured in that same interpreter after a warm-up
read of a small table on the same storage (so imports, s3fs's client and its connection pool count in
the baseline, not against the bound).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taskloom_s3.testing import environment_with

ROWS = 10_000_000
ROW_GROUP = 500_000
COLUMNS = ("i", "x", "y", "z")  # two int64 and two float64 columns: 32 bytes a row
#: The table's size in memory: 1e7 rows of four 8-byte columns, ~305 MiB.
TABLE_BYTES = ROWS * 8 * len(COLUMNS)
#: Far below the table's size. A batch is 65,536 rows (2 MiB), a row group 16 MiB, s3fs reads ahead
#: in 8 MiB blocks. Measured on the development machine: ~55 MiB from files, ~110 MiB from S3; one
#: Parquet reader over every row group at once took ~180 MiB from files (the decoder now reads one row
#: group at a time); a whole read takes the table's size and more.
PEAK_ABOVE_BASELINE = 150 * 2**20
#: sum(i) over the table, and sum(y) with y = i % 7.
EXPECTED = {"i": ROWS * (ROWS - 1) // 2, "y": sum(range(7)) * (ROWS // 7) + sum(range(ROWS % 7))}


def write_dataset(path: Path, rows: int = ROWS) -> None:
    """Write the table one row group at a time, so the writer itself holds one row group, not the table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([("i", pa.int64()), ("x", pa.float64()), ("y", pa.int64()), ("z", pa.float64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, ROW_GROUP):
            i = np.arange(start, min(start + ROW_GROUP, rows), dtype=np.int64)
            writer.write_table(pa.table({"i": i, "x": i * 0.5, "y": i % 7, "z": np.sqrt(i)}, schema=schema))


READER = textwrap.dedent(
    """
    import json, sys

    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from taskloom import StructuredDataset

    def peak():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process that forked this one.
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    big, small, library = sys.argv[1:4]
    kind = pa.Table if library == "pyarrow" else pd.DataFrame
    # Warm-up on a small table on the same storage: imports, plugin loading, the filesystem's client.
    for batch in StructuredDataset(uri=small, file_format="parquet").open(kind).iter():
        pass
    del batch
    baseline = peak()
    sums, rows, batches = {"i": 0, "y": 0}, 0, 0
    for batch in StructuredDataset(uri=big, file_format="parquet").open(kind).iter():
        assert isinstance(batch, kind), type(batch)
        for name in sums:
            sums[name] += int(batch[name].sum() if library == "pandas" else pc.sum(batch[name]).as_py())
        rows += len(batch)
        batches += 1
    print(json.dumps({"baseline": baseline, "peak": peak(), "sums": sums, "rows": rows, "batches": batches}))
    """
)


def read_in_batches(big: str, small: str, library: str, environment: dict[str, str] | None = None) -> dict:
    """Stream ``big`` in a fresh interpreter as ``library``'s tables; its figures (see READER)."""
    assert sys.platform == "linux", "the peak resident size is read from /proc"
    done = subprocess.run(
        [sys.executable, "-c", READER, big, small, library],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_streamed(figures: dict, where: str) -> None:
    above = (figures["peak"] - figures["baseline"]) / 2**20
    print(
        f"{where}: {figures['batches']} batches, peak {above:.0f} MiB above a baseline of "
        f"{figures['baseline'] / 2**20:.0f} MiB, for a table of {TABLE_BYTES / 2**20:.0f} MiB"
    )
    assert figures["rows"] == ROWS and figures["sums"] == EXPECTED
    assert figures["batches"] > ROWS // ROW_GROUP, "the table came in fewer batches than it has row groups"
    assert figures["peak"] - figures["baseline"] < PEAK_ABOVE_BASELINE, (
        f"{where}: reading in batches took {above:.0f} MiB above the baseline, for a table of "
        f"{TABLE_BYTES / 2**20:.0f} MiB (bound {PEAK_ABOVE_BASELINE / 2**20:.0f} MiB)"
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 1e7-row dataset and a small one, each a directory in flytekit's layout (a part ``00000``)."""
    root = tmp_path_factory.mktemp("streaming")
    big, small = root / "big", root / "small"
    write_dataset(big / "00000")
    write_dataset(small / "00000", rows=1000)
    return big, small


@pytest.fixture(scope="module")
def s3_dataset(dataset: tuple[Path, Path], s3_pool: Any) -> tuple[Any, str]:
    """The same two datasets in a SeaweedFS bucket: the server and the bucket's name."""
    server = s3_pool.get("seaweedfs")
    bucket = server.create_bucket(f"streaming-{uuid.uuid4().hex[:8]}").removeprefix("s3://")
    for path in dataset:
        # Through taskloom's storage, which uploads in parts (the test process keeps no copy).
        upload = (
            f"from taskloom.storage import upload; upload({str(path / '00000')!r}, 's3://{bucket}/{path.name}/00000')"
        )
        done = subprocess.run(
            [sys.executable, "-c", upload], capture_output=True, text=True, env=environment_with(server), timeout=300
        )
        assert done.returncode == 0, done.stderr
    return server, bucket


@pytest.mark.slow  # writes a 1e7-row table and reads it in four fresh interpreters, two through S3
@pytest.mark.parametrize("library", ["pyarrow", "pandas"])
def test_a_1e7_row_dataset_streams_from_files_and_s3_with_bounded_memory(dataset, s3_dataset, library):
    # Otherwise the bound could not tell a stream from a whole read.
    assert TABLE_BYTES > 2 * PEAK_ABOVE_BASELINE
    big, small = dataset
    check_streamed(read_in_batches(str(big), str(small), library), f"{library} from a local directory")

    server, bucket = s3_dataset
    figures = read_in_batches(
        f"s3://{bucket}/big", f"s3://{bucket}/small", library, environment=environment_with(server)
    )
    check_streamed(figures, f"{library} from S3")


WHOLE = textwrap.dedent(
    """
    import json, os, sys

    import fsspec
    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    from taskloom.extend import TypeEngine

    os.environ["TASKLOOM_RAW_OUTPUT_PREFIX"] = sys.argv[1]
    os.cpu_count = lambda: 2  # two parts, two part threads, whatever this machine's cores
    i = np.arange(1_000_000, dtype=np.int64)
    table = pa.table({"a": i, "b": i * 0.5, "c": i % 7, "d": np.sqrt(i), "s": pa.array(["x", None] * 500_000)})
    literal = TypeEngine.to_literal(None, table, pa.Table)
    uri = literal.scalar.structured_dataset.uri
    fs, path = fsspec.core.url_to_fs(uri)
    parts = sorted(fs.find(path))
    codecs = {}
    for part in parts:
        with fs.open(part, "rb") as file:
            metadata = pq.ParquetFile(file).metadata
        group = metadata.row_group(0)
        codecs.update({group.column(k).path_in_schema: group.column(k).compression for k in range(group.num_columns)})
    back = {kind.__module__.split(".")[0]: TypeEngine.to_python_value(None, literal, kind) for kind in (pa.Table, pd.DataFrame, pl.DataFrame)}
    print(json.dumps({
        "parts": [os.path.basename(part) for part in parts],
        "codecs": codecs,
        "pyarrow": back["pyarrow"].schema == table.schema and back["pyarrow"].equals(table),
        "pandas": back["pandas"].equals(table.to_pandas()),
        "polars": back["polars"].equals(pl.from_arrow(table)),
    }))
    """
)


def test_a_table_written_in_parts_to_s3_comes_back_whole_in_row_order(s3_pool):
    """A table of one part a core goes to the bucket snappy (numbers it cannot shrink uncompressed) and comes
    back whole, its parts read at once through s3fs on the part threads, as pyarrow, pandas and polars."""
    server = s3_pool.get("seaweedfs")
    bucket = server.create_bucket(f"parts-{uuid.uuid4().hex[:8]}").removeprefix("s3://")
    environment = {**environment_with(server), "TASKLOOM_PARQUET_COMPRESSION": ""}
    done = subprocess.run(
        [sys.executable, "-c", WHOLE, f"s3://{bucket}/raw"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["parts"] == ["00000", "00001"]
    assert figures["codecs"] == {"a": "SNAPPY", "b": "SNAPPY", "c": "SNAPPY", "d": "UNCOMPRESSED", "s": "SNAPPY"}
    assert figures["pyarrow"] and figures["pandas"] and figures["polars"], figures
