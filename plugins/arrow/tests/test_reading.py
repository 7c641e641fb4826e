"""taskloom-arrow: Parquet read a row group at a time (taskloom_arrow.reading).

A pandas table read so must be what ``pyarrow.parquet.read_table(...).to_pandas()`` gives (labels, dtypes,
index, attrs, values) and writable where that one is, while holding one table, not two.
"""

import datetime
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taskloom_arrow import reading
from taskloom_arrow.reading import read_arrow, read_pandas

N = 3000

FRAMES = {
    "numbers": lambda: pd.DataFrame(
        {
            "a": np.arange(N),
            "b": np.arange(N) * 0.5,
            "c": (np.arange(N) % 7).astype("int8"),
            "d": np.sqrt(np.arange(N)).astype("float32"),
            "e": np.arange(N) % 2 == 0,
            "u": np.arange(N).astype("uint16"),
        }
    ),
    "nulls": lambda: pd.DataFrame(
        {
            "a": pd.array([1, None, 3] * (N // 3), dtype="Int64"),
            "b": [1.0, None, 2.0] * (N // 3),
            "c": [True, None, False] * (N // 3),
        }
    ),
    "text": lambda: pd.DataFrame({"s": ["x", "yy", None] * (N // 3), "n": np.arange(N)}),
    "time": lambda: pd.DataFrame(
        {
            "t": pd.date_range("2020", periods=N, freq="s"),
            "tz": pd.date_range("2020", periods=N, freq="s", tz="UTC"),
            "d": pd.to_timedelta(np.arange(N), unit="ms"),
            "us": pd.date_range("2020", periods=N, freq="s").astype("datetime64[us]"),
        }
    ),
    "categorical": lambda: pd.DataFrame({"c": pd.Categorical(["a", "b"] * (N // 2)), "x": np.arange(N)}),
    "text index": lambda: pd.DataFrame({"x": np.arange(10)}, index=pd.Index([f"r{k}" for k in range(10)], name="key")),
    "multi index": lambda: pd.DataFrame(
        {"x": np.arange(4)}, index=pd.MultiIndex.from_tuples([(1, "a"), (1, "b"), (2, "a"), (2, "b")], names=["p", "q"])
    ),
    "range index": lambda: pd.DataFrame({"x": np.arange(5)}, index=pd.RangeIndex(10, 20, 2, name="r")),
    "number labels": lambda: pd.DataFrame({0: np.arange(3), 1: [1.5, 2.5, 3.5]}),
    "multi labels": lambda: pd.DataFrame(
        np.arange(6).reshape(3, 2), columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
    ),
    "no rows": lambda: pd.DataFrame({"a": np.array([], dtype="int64"), "b": np.array([], dtype="float64")}),
    "no columns": lambda: pd.DataFrame(index=range(3)),
    "dates": lambda: pd.DataFrame({"d": [datetime.date(2020, 1, 1)] * 5, "x": range(5)}),
    "lists": lambda: pd.DataFrame({"l": [[1, 2], [3]], "x": [1, 2]}),
}


def _parquet(table: pa.Table, **options) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def _opener(files: dict[str, bytes]):
    opened = []

    def open_part(part):
        opened.append(part)
        return io.BytesIO(files[part])

    return open_part, opened


def _check_like_to_pandas(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)
    assert type(got.index) is type(expected.index) and got.index.equals(expected.index)
    assert got.attrs == expected.attrs
    # Writable where to_pandas' table is (pyarrow itself hands some categoricals over read-only).
    for position in range(got.shape[1] if len(got) > 1 else 0):
        try:
            expected.iloc[0, position] = expected.iloc[1, position]
        except ValueError:
            continue
        got.iloc[0, position] = got.iloc[1, position]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)  # both written to alike


@pytest.mark.parametrize("whole", [True, False], ids=["groups read whole", "groups read by batches"])
@pytest.mark.parametrize("row_group_size", [None, 7], ids=["one row group", "groups of 7 rows"])
@pytest.mark.parametrize("name", list(FRAMES))
def test_a_pandas_table_reads_as_to_pandas_makes_it(name, row_group_size, whole, monkeypatch):
    # A group larger than WHOLE_GROUP_BYTES (another writer's million rows) is read by batches of BATCH_ROWS.
    if not whole:
        monkeypatch.setattr(reading, "WHOLE_GROUP_BYTES", 0)
        monkeypatch.setattr(reading, "BATCH_ROWS", 1000)  # several batches for a group of N rows
    frame = FRAMES[name]()
    if name == "numbers":
        frame.attrs = {"source": "test"}
    data = _parquet(pa.Table.from_pandas(frame), row_group_size=row_group_size)
    open_part, _ = _opener({"t": data})
    _check_like_to_pandas(read_pandas(open_part, ["t"]), pq.read_table(io.BytesIO(data)).to_pandas())


def test_a_table_without_pandas_metadata_reads_with_a_range_index():
    table = pa.table({"a": np.arange(N), "b": np.arange(N) * 0.5, "s": ["x"] * N})
    data = _parquet(table, row_group_size=1000)
    open_part, _ = _opener({"t": data})
    _check_like_to_pandas(read_pandas(open_part, ["t"]), table.to_pandas())


@pytest.mark.parametrize(("name", "columns"), [("numbers", ["d", "a"]), ("text index", ["x"]), ("text", ["s"])])
def test_chosen_columns_read_as_read_table_chooses_them(name, columns):
    data = _parquet(pa.Table.from_pandas(FRAMES[name]()))
    open_part, _ = _opener({"t": data})
    expected = pq.read_table(io.BytesIO(data), columns=columns).to_pandas()
    _check_like_to_pandas(read_pandas(open_part, ["t"], columns), expected)


@pytest.mark.parametrize("name", list(FRAMES))
def test_a_directory_s_parts_read_in_order_as_one_table_each_opened_for_its_footer_then_its_rows(name, monkeypatch):
    """Parts are read into one table (columns copied straight into the final arrays, and columns pyarrow
    converts, in order), at most one part a part thread open at a time."""
    from concurrent.futures import ThreadPoolExecutor

    threads = ThreadPoolExecutor(2)
    monkeypatch.setattr(reading, "part_threads", lambda: threads)
    table = pa.Table.from_pandas(FRAMES[name](), preserve_index=False)
    size = max(1, -(-table.num_rows // 4))  # four parts (fewer for the smallest frames), each of several row groups
    parts = {
        f"part-{k}": _parquet(table.slice(start, size), row_group_size=400)
        for k, start in enumerate(range(0, max(table.num_rows, 1), size))
    }
    now_open, most_open, lock = [0], [0], threading.Lock()

    class Tracked(io.BytesIO):
        def __enter__(self):
            with lock:
                now_open[0] += 1
                most_open[0] = max(most_open[0], now_open[0])
            return self

        def __exit__(self, *exc):
            with lock:
                now_open[0] -= 1
            return super().__exit__(*exc)

    opened = []

    def open_part(part):
        opened.append(part)
        return Tracked(parts[part])

    got = read_pandas(open_part, list(parts))
    expected = pd.concat([pq.read_table(io.BytesIO(data)).to_pandas() for data in parts.values()], ignore_index=True)
    _check_like_to_pandas(got, expected)
    # Each once for its footer, in order; then once for its rows.
    assert opened[: len(parts)] == list(parts) and sorted(opened[len(parts) :]) == sorted(parts)
    assert most_open[0] <= 2  # one a thread, never all at once: a directory may hold thousands


@pytest.mark.parametrize("compression", ["snappy", "none"])
@pytest.mark.parametrize("reader", [read_arrow, read_pandas], ids=["arrow", "pandas"])
def test_compressed_parts_are_decoded_at_once_each_on_a_part_thread_and_uncompressed_ones_in_turn(reader, compression):
    """Decoding compressed parts is worth a thread each; copying uncompressed ones is not, and held more."""
    table = pa.table({"a": np.arange(40_000), "b": np.arange(40_000) * 0.5})
    parts = {
        f"part-{k}": _parquet(table.slice(k * 10_000, 10_000), row_group_size=2500, compression=compression)
        for k in range(4)
    }
    readers, reading_threads = [], set()

    class Recorded(io.BytesIO):
        def read(self, size=-1):
            reading_threads.add(threading.current_thread())
            return super().read(size)

        def readinto(self, buffer):
            reading_threads.add(threading.current_thread())
            return super().readinto(buffer)

    def open_part(part):
        readers.append(threading.current_thread().name)
        return Recorded(parts[part])

    got = reader(open_part, list(parts))
    assert (got if reader is read_arrow else pa.Table.from_pandas(got)).select(
        ["a", "b"]
    ).to_pydict() == table.to_pydict()
    on_part_threads = [name for name in readers if name.startswith("taskloom-parquet")]
    # Every part's rows read on a part thread (footers first, on the caller's); or all on the caller's.
    assert len(on_part_threads) == (len(parts) if compression == "snappy" else 0)
    # Each part thread reads its own part as it decodes, not through Arrow's I/O threads (pre_buffer); the
    # caller's thread reads the others: a Python file is never called on Arrow's threads (arrow_may_read).
    assert {thread.name for thread in reading_threads} <= {threading.current_thread().name} | set(on_part_threads)


@pytest.mark.parametrize("reader", [read_arrow, read_pandas], ids=["arrow", "pandas"])
def test_a_lone_python_file_is_read_on_the_caller_s_thread_and_a_native_one_by_arrow_s_threads(reader, tmp_path):
    """Arrow's threads keep a Python file a moment after a read: a process ending then aborted
    (arrow_may_read). A lone part given as a Python file is read on the caller's thread alone; one given as
    Arrow's own file comes back the same, read as Arrow reads it."""
    table = pa.table({"a": np.arange(100_000), "b": np.arange(100_000) * 0.5})
    data = _parquet(table, row_group_size=10_000)
    calls = set()

    class Recorded(io.BytesIO):
        def read(self, size=-1):
            calls.add(threading.current_thread())
            return super().read(size)

    python_read = reader(lambda part: Recorded(data), ["t"])
    assert calls == {threading.current_thread()}
    (tmp_path / "t").write_bytes(data)
    native_read = reader(lambda part: pa.OSFile(str(tmp_path / part)), ["t"])
    if reader is read_arrow:  # on local storage a lone part is read natively, the Python file left unopened
        opened = []
        native_read = read_arrow(opened.append, ["t"], open_native=lambda part: pa.OSFile(str(tmp_path / part)))
        footer = pq.ParquetFile(io.BytesIO(data)).metadata  # compressed: a lone part all the same
        read_arrow(opened.append, ["t"], footer=footer, open_native=lambda part: pa.OSFile(str(tmp_path / part)))
        assert opened == []
    if reader is read_arrow:
        assert python_read.equals(table) and native_read.equals(table)
    else:
        pd.testing.assert_frame_equal(python_read, table.to_pandas())
        pd.testing.assert_frame_equal(native_read, table.to_pandas())
    assert reading.arrow_may_read(pa.OSFile(str(tmp_path / "t"))) and reading.arrow_may_read(pa.BufferReader(b""))
    assert not reading.arrow_may_read(io.BytesIO(data)) and not reading.arrow_may_read(pa.PythonFile(io.BytesIO(data)))


def test_a_part_s_footer_is_read_once():
    """The footers read first (for the rows and the columns' types) are given to the second opening, which
    reads only row groups: on S3 a footer is one more request a part."""
    table = pa.table({"a": np.arange(200_000), "b": np.arange(200_000) * 0.5})
    parts = {f"part-{k}": _parquet(table.slice(k * 100_000, 100_000), row_group_size=25_000) for k in range(2)}
    tails = dict.fromkeys(parts, 0)  # reads that took a part's last bytes (the footer's length and magic)

    class Tail(io.BytesIO):
        def __init__(self, part):
            super().__init__(parts[part])
            self.part = part

        def read(self, size=-1):
            start = self.tell()
            data = super().read(size)
            if start + len(data) >= len(parts[self.part]) and data:
                tails[self.part] += 1
            return data

        def readinto(self, buffer):
            start = self.tell()
            count = super().readinto(buffer)
            if start + count >= len(parts[self.part]) and count:
                tails[self.part] += 1
            return count

    got = read_pandas(Tail, list(parts))
    assert got["a"].tolist() == list(range(200_000))
    assert tails == dict.fromkeys(parts, 1)


def test_parts_of_different_columns_are_refused_as_read_table_refuses_them():
    parts = {"a": _parquet(pa.table({"x": [1]})), "b": _parquet(pa.table({"y": [1.5]}))}
    open_part, _ = _opener(parts)
    with pytest.raises(pa.ArrowInvalid):
        read_pandas(open_part, list(parts))


def test_read_arrow_gathers_every_row_group_without_copying_them_into_one_chunk():
    table = pa.table({"a": np.arange(N), "s": [str(k) for k in range(N)]})
    open_part, _ = _opener({"t": _parquet(table, row_group_size=1000)})
    got = read_arrow(open_part, ["t"])
    assert got.equals(table)
    assert got.column("a").num_chunks == 3
    open_part, _ = _opener({"t": _parquet(table.slice(0, 0))})
    assert read_arrow(open_part, ["t"], ["s"]).schema.names == ["s"]


READER = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    from taskloom_arrow.reading import read_pandas

    def peak():
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) * 1024

    path, how = sys.argv[1], sys.argv[2]
    pq.write_table(pa.table({"a": [1, 2]}), path + ".small")
    read_pandas(lambda part: open(part, "rb"), [path + ".small"])  # warm-up: imports, thread pools
    pq.read_table(path + ".small").to_pandas()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # VmHWM starts again from the resident size now
    baseline = peak()
    if how == "taskloom":
        frame = read_pandas(lambda part: open(part, "rb"), [path])
    else:
        frame = pq.read_table(path).to_pandas()
    print(json.dumps({"above": peak() - baseline, "table": int(frame.memory_usage(deep=True).sum())}))
    """
)


def _peaks(tmp_path, script: str, variants: tuple[str, ...]) -> list[float]:
    """Each variant's peak above its baseline (VmHWM) over the table's size: ``script`` run in a fresh
    interpreter on a 1e6 x 4 table of numbers written as taskloom writes it, with the variant's name."""
    assert sys.platform == "linux", "the peak resident size is read from /proc"
    from taskloom_arrow.handlers import row_group_rows

    column = np.arange(1_000_000)
    table = pa.table({"a": column, "b": column * 0.5, "c": column % 7, "d": np.sqrt(column)})
    path = tmp_path / "table.parquet"
    pq.write_table(table, path, row_group_size=row_group_rows(table.nbytes, table.num_rows))
    (tmp_path / "reader.py").write_text(script)
    peaks = []
    for variant in variants:
        done = subprocess.run(
            [sys.executable, str(tmp_path / "reader.py"), str(path), variant], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        figures = json.loads(done.stdout.splitlines()[-1])
        peaks.append(figures["above"] / figures["table"])
    return peaks


def test_a_pandas_table_is_read_holding_about_one_table_not_two(tmp_path):
    """The peak of a fresh interpreter's read (VmHWM), against pyarrow's read_table().to_pandas()."""
    ours, theirs = _peaks(tmp_path, READER, ("taskloom", "to_pandas"))
    # Measured here: 1.36x against 2.70-2.83x (a fresh interpreter's allocators grow as it reads; a Python file is
    # decoded on the caller's thread alone, reading.arrow_may_read: 1.56-1.69x on Arrow's threads).
    assert ours < 2.0, f"read_pandas peaked at {ours:.2f}x the table (read_table().to_pandas(): {theirs:.2f}x)"
    assert ours < theirs - 0.5, (ours, theirs)


REREADER = textwrap.dedent(
    """
    import json, sys
    import pyarrow as pa, pyarrow.parquet as pq
    import taskloom_arrow.reading as reading

    def peak():
        with open("/proc/self/status") as status:
            return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) * 1024

    path, how = sys.argv[1], sys.argv[2]
    if how == "kept":  # what the allocator freed is kept, as before release_freed
        reading.release_freed = lambda: None
    pq.write_table(pa.table({"a": [1, 2]}), path + ".small")
    reading.read_arrow(lambda part: open(part, "rb"), [path + ".small"])  # warm-up: imports, thread pools
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    baseline = peak()
    for _ in range(8):  # a worker reading table after table
        table = reading.read_arrow(lambda part: open(part, "rb"), [path])
        size = table.nbytes
        del table
    print(json.dumps({"above": peak() - baseline, "table": size}))
    """
)


def test_tables_read_one_after_another_do_not_pile_up_what_the_allocator_freed(tmp_path):
    """Eight reads in one fresh interpreter peak below 2x the table; with the allocator keeping what it
    freed (release_freed disabled) the same reads peak higher."""
    released, kept, kept_again = _peaks(tmp_path, REREADER, ("released", "kept", "kept"))
    # Measured here: 1.55x released, 1.98x kept (1.6-1.8x and 2.0-2.6x on Arrow's threads); once, under another
    # test's load, a kept run peaked at 1.74x: the larger of two kept runs is the figure.
    kept = max(kept, kept_again)
    assert released < 2.0, f"eight reads peaked at {released:.2f}x the table (kept: {kept:.2f}x)"
    assert released < kept - 0.1, (released, kept)


def _number_frames():
    frames = {name: FRAMES[name] for name in ("numbers", "range index", "no rows")}
    frames["attrs and labels"] = lambda: _with(
        pd.DataFrame({"x": np.arange(4.0), "y": np.arange(4)}), attrs={"source": "test"}, columns_name="fields"
    )
    frames["from a 2D array"] = lambda: pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["a", "b", "c"])
    frames["half floats"] = lambda: pd.DataFrame({"h": np.arange(5, dtype="float16"), "i": np.arange(5, dtype="int8")})
    return frames


def _with(frame, attrs, columns_name):
    frame.attrs = attrs
    frame.columns.name = columns_name
    return frame


NOT_FAST = {
    "NaN": lambda: pd.DataFrame({"x": [1.0, np.nan, 3.0]}),
    "text index": FRAMES["text index"],
    "number labels": FRAMES["number labels"],
    "multi labels": FRAMES["multi labels"],
    "text": FRAMES["text"],
    "time": FRAMES["time"],
    "nulls": FRAMES["nulls"],
    "no columns": FRAMES["no columns"],
}


@pytest.mark.parametrize(("name", "fast"), [(name, True) for name in _number_frames()] + [(n, False) for n in NOT_FAST])
def test_a_pandas_table_converts_to_arrow_as_from_pandas_converts_it(name, fast):
    """Frames of NumPy numbers without NaN skip pyarrow's NaN scan (``tables._numbers_from_pandas``); the
    table is from_pandas' own to the metadata's bytes, and every other frame goes through from_pandas."""
    from taskloom_arrow.tables import _numbers_from_pandas, to_arrow

    frame = (_number_frames() | NOT_FAST)[name]()
    expected = pa.Table.from_pandas(frame, preserve_index=None)
    assert (_numbers_from_pandas(frame) is not None) is fast
    got = to_arrow(frame)
    assert got.schema.equals(expected.schema, check_metadata=True) and got.equals(expected)
    _check_like_to_pandas(got.to_pandas(), expected.to_pandas())


def test_a_pandas_table_with_duplicate_labels_is_refused_as_from_pandas_refuses_it():
    from taskloom_arrow.tables import to_arrow

    with pytest.raises(ValueError, match="Duplicate column names"):
        to_arrow(pd.DataFrame(np.zeros((2, 2)), columns=["a", "a"]))


def test_a_byte_swapped_column_is_refused_as_from_pandas_refuses_it_naming_the_column():
    from taskloom_arrow.tables import to_arrow

    with pytest.raises(pa.ArrowNotImplementedError, match="Conversion failed for column x"):
        to_arrow(pd.DataFrame({"x": np.arange(3, dtype=">f8")}))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX's")
def test_a_process_forked_after_parts_were_read_reads_parts_on_threads_of_its_own():
    """A child has none of its parent's threads: reading with the parent's pool would wait forever."""
    table = pa.table({"a": np.arange(20_000), "b": np.arange(20_000) * 0.5})
    parts = {f"part-{k}": _parquet(table.slice(k * 10_000, 10_000), compression="snappy") for k in range(2)}

    def open_part(part):
        return io.BytesIO(parts[part])

    assert read_arrow(open_part, list(parts)).equals(table)  # the parent's part threads exist now
    child = os.fork()
    if child == 0:  # the child: read on its own threads, or be killed by the parent's wait
        try:
            os._exit(0 if read_arrow(open_part, list(parts)).equals(table) else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    pytest.fail("the forked child never finished reading")


@pytest.mark.parametrize("codec", ["", "snappy"], ids=["this machine", "object storage"])
@pytest.mark.parametrize("name", list(FRAMES))
def test_every_kind_of_pandas_table_comes_back_through_storage_as_a_plain_parquet_round_trip_gives_it(
    name, codec, tmp_path, monkeypatch
):
    """The writer's choices (REQUIRED columns without nulls, a codec per column, parts, the fast conversion)
    change nothing of what comes back: as pandas and as Arrow, what pyarrow's own write_table and
    read_table give (which lose, for instance, the rows of a table without columns)."""
    from taskloom.extend import TypeEngine

    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path))
    monkeypatch.setenv("TASKLOOM_PARQUET_COMPRESSION", codec)
    frame = FRAMES[name]()
    if name == "numbers":
        frame.attrs = {"source": "test"}
    literal = TypeEngine.to_literal(None, frame, pd.DataFrame)
    plain = pq.read_table(io.BytesIO(_parquet(pa.Table.from_pandas(frame))))
    _check_like_to_pandas(TypeEngine.to_python_value(None, literal, pd.DataFrame), plain.to_pandas())
    back = TypeEngine.to_python_value(None, literal, pa.Table)
    assert back.schema.equals(plain.schema, check_metadata=True) and back.equals(plain)


@pytest.mark.parametrize("value", [b"not json", b'{"a": 1}', b'[1, "a"]', b"\xff"])
def test_a_nullable_key_that_is_not_a_list_of_names_is_dropped_and_the_rest_read_as_it_is(value):
    from taskloom_arrow.reading import NULLABLE_KEY, as_written

    table = pa.table({"a": pa.array([1, 2], pa.int64())}).cast(
        pa.schema([pa.field("a", pa.int64(), nullable=False)], metadata={NULLABLE_KEY: value, b"k": b"v"})
    )
    got = read_arrow(_opener({"t": _parquet(table)})[0], ["t"])
    assert got.schema.metadata == {b"k": b"v"}
    assert got.schema.field("a").nullable is (value == b'[1, "a"]')  # the one name it does list
    assert as_written(got) is got  # nothing left to restore: the same table


@pytest.mark.parametrize("compression", ["snappy", "none"])
def test_read_arrow_given_the_first_footer_opens_each_part_once(compression):
    """The polars decoder reads the first footer to choose its reader; read_arrow then does not read it again."""
    from taskloom_arrow.reading import read_footer

    table = pa.table({"a": np.arange(4000), "b": np.arange(4000) * 0.5})
    parts = {f"part-{k}": _parquet(table.slice(k * 2000, 2000), compression=compression) for k in range(2)}
    open_part, opened = _opener(parts)
    footer = read_footer(open_part, "part-0")
    opened.clear()
    assert read_arrow(open_part, list(parts), footer=footer).equals(table)
    assert sorted(opened) == sorted(parts)  # each once, for its rows
    opened.clear()
    read_arrow(open_part, list(parts))
    assert sorted(opened) == sorted(["part-0", *parts])  # without it, the first footer is read first


POOL_PROGRAM = textwrap.dedent(
    """
    import os, sys
    import pyarrow as pa
    from taskloom.extend import TypeEngine

    if sys.argv[1] == "system":  # the program chose a pool itself
        pa.set_memory_pool(pa.system_memory_pool())
    before = pa.table({"a": list(range(1000))})  # made in the pool the process started with
    os.environ["TASKLOOM_RAW_OUTPUT_PREFIX"] = sys.argv[2]
    literal = TypeEngine.to_literal(None, before, pa.Table)
    after = TypeEngine.to_python_value(None, literal, pa.Table)
    assert after.equals(before) and before.column("a")[999].as_py() == 999
    print(pa.default_memory_pool().backend_name)
    """
)


def _jemalloc_in_this_build() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (None, "jemalloc" if _jemalloc_in_this_build() else "mimalloc"),
        ("mimalloc", "mimalloc"),
        ("system", "system"),
        ("jemalloc", "jemalloc" if _jemalloc_in_this_build() else "mimalloc"),
    ],
)
def test_arrow_s_pool_is_jemalloc_once_a_table_is_written_unless_the_process_chose_one(chosen, expected, tmp_path):
    """In a fresh interpreter: writing a table makes jemalloc Arrow's default pool; a pool named by
    ``ARROW_DEFAULT_MEMORY_POOL`` or set by the program stays, and a table made before is still whole."""
    env = {key: value for key, value in os.environ.items() if key != "ARROW_DEFAULT_MEMORY_POOL"}
    how = "env"
    if chosen == "system":
        how = "system"  # set with pa.set_memory_pool, not named by the variable
    elif chosen is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    done = subprocess.run(
        [sys.executable, "-c", POOL_PROGRAM, how, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected]
