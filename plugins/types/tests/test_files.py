"""FlyteFile and FlyteDirectory: blobs by reference, remote data fetched only when used."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import typing
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import properties, round_trip
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.hookspecs import hookimpl
from taskloom.models.literals import Blob, BlobMetadata, Literal, Scalar
from taskloom.models.types import BlobDimensionality, BlobType, LiteralType
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile

CSV = FlyteFile[typing.TypeVar("csv")]
Parquet = FlyteDirectory[typing.TypeVar("parquet")]

absolute_paths = st.lists(st.text("abcxyz_-.0123456789", min_size=1, max_size=6), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(part if part not in (".", "..") else "p" for part in parts)
)


@dataclasses.dataclass
class Report:
    title: str
    data: CSV
    images: FlyteDirectory | None = None


class RecordingFileSystem:
    """A real fsspec MemoryFileSystem that records what is downloaded from it."""

    def __init__(self) -> None:
        from fsspec.implementations.memory import MemoryFileSystem

        self.filesystem = MemoryFileSystem()
        self.downloads: list[str] = []

    def get(self, rpath: str, lpath: str, recursive: bool = False, **kwargs: typing.Any) -> typing.Any:
        self.downloads.append(rpath)
        return self.filesystem.get(rpath, lpath, recursive=recursive, **kwargs)

    def __getattr__(self, name: str) -> typing.Any:
        return getattr(self.filesystem, name)


class MemoryStore:
    """A plugin serving ``memory://`` URIs."""

    def __init__(self) -> None:
        self.filesystem = RecordingFileSystem()

    @hookimpl
    def taskloom_filesystem(self, protocol: str) -> RecordingFileSystem | None:
        return self.filesystem if protocol == "memory" else None


@pytest.fixture
def memory(taskloom_plugins):
    store = MemoryStore()
    taskloom_plugins.register(store, name="memstore")
    root = f"memory://bucket/{uuid.uuid4().hex}"
    yield root, store.filesystem
    store.filesystem.filesystem.rm(root, recursive=True)


@properties
@given(absolute_paths)
def test_file_round_trips(path):
    assert round_trip(FlyteFile(path), FlyteFile) == FlyteFile(path)


@properties
@given(absolute_paths)
def test_formatted_file_round_trips_as_its_class(path):
    back = round_trip(CSV(path), CSV)
    assert back == CSV(path) and type(back) is CSV


@properties
@given(absolute_paths)
def test_directory_round_trips(path):
    assert round_trip(FlyteDirectory(path), FlyteDirectory) == FlyteDirectory(path)


@properties
@given(absolute_paths)
def test_formatted_directory_round_trips(path):
    back = round_trip(Parquet(path), Parquet)
    assert back == Parquet(path) and type(back) is Parquet


@properties
@given(st.builds(Report, st.text(max_size=5), absolute_paths.map(CSV), st.none() | absolute_paths.map(FlyteDirectory)))
def test_files_inside_a_dataclass_round_trip(value):
    assert round_trip(value, Report) == value


@properties
@given(st.lists(absolute_paths.map(FlyteFile), max_size=3))
def test_list_of_files_round_trips(value):
    assert round_trip(value, list[FlyteFile]) == value


def test_file_literal_is_a_single_blob_with_its_format():
    assert TypeEngine.to_literal_type(CSV) == LiteralType(blob=BlobType(format="csv"))
    assert TypeEngine.to_literal(None, CSV("/data/a.csv"), CSV) == Literal(
        scalar=Scalar(blob=Blob(metadata=BlobMetadata(type=BlobType(format="csv")), uri="/data/a.csv"))
    )


def test_directory_literal_is_a_multipart_blob():
    assert TypeEngine.to_literal_type(FlyteDirectory) == LiteralType(
        blob=BlobType(format="", dimensionality=BlobDimensionality.MULTIPART)
    )


@pytest.mark.parametrize("make", [str, pathlib.Path, FlyteFile], ids=["str", "path", "FlyteFile"])
def test_file_accepts_str_pathlike_and_file_and_makes_local_paths_absolute(make, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    literal = TypeEngine.to_literal(None, make("data.txt"), FlyteFile)
    assert literal.scalar.blob.uri == str(tmp_path / "data.txt")


def test_file_refuses_a_directory():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected FlyteFile, got FlyteDirectory"):
        TypeEngine.to_literal(None, FlyteDirectory("/data"), FlyteFile)


def test_file_refuses_a_number():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected FlyteFile\[csv\], got int 3$"):
        TypeEngine.to_literal(None, 3, CSV)


def test_reading_a_multipart_blob_as_a_file_is_an_error():
    literal = TypeEngine.to_literal(None, FlyteDirectory("/data"), FlyteDirectory)
    with pytest.raises(TypeTransformerFailedError, match="expected a literal of FlyteFile"):
        TypeEngine.to_python_value(None, literal, FlyteFile)


def test_remote_file_is_not_downloaded_until_opened(memory):
    root, filesystem = memory
    uri = f"{root}/data.txt"
    filesystem.pipe(uri, b"remote content")
    literal = TypeEngine.to_literal(None, uri, FlyteFile)
    assert literal.scalar.blob.uri == uri

    value = TypeEngine.to_python_value(None, literal, FlyteFile)
    assert value.remote_source == uri
    assert not value.downloaded and not os.path.exists(value.path)
    assert filesystem.downloads == []
    # passing it on keeps the remote URI and still downloads nothing
    assert TypeEngine.to_literal(None, value, FlyteFile) == literal
    assert filesystem.downloads == []

    with value.open() as handle:
        assert handle.read() == b"remote content"
    assert filesystem.downloads == [uri]


def test_remote_directory_is_not_downloaded_until_listed(memory):
    root, filesystem = memory
    filesystem.pipe(f"{root}/images/a.png", b"a")
    filesystem.pipe(f"{root}/images/b.png", b"b")
    literal = TypeEngine.to_literal(None, f"{root}/images", FlyteDirectory)

    value = TypeEngine.to_python_value(None, literal, FlyteDirectory)
    assert filesystem.downloads == []
    assert value.listdir() == ["a.png", "b.png"]
    assert filesystem.downloads == [f"{root}/images"]


def test_remote_file_inside_a_dataclass_stays_lazy(memory):
    root, filesystem = memory
    filesystem.pipe(f"{root}/rows.csv", b"a,b\n")
    literal = TypeEngine.to_literal(None, Report("r", CSV(f"{root}/rows.csv")), Report)

    value = TypeEngine.to_python_value(None, literal, Report)
    assert type(value.data) is CSV and value.data.remote_source == f"{root}/rows.csv"
    assert filesystem.downloads == []
    assert pathlib.Path(value.data).read_bytes() == b"a,b\n"  # os.fspath downloads
    assert filesystem.downloads == [f"{root}/rows.csv"]


def test_guessed_types_of_blobs():
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(CSV)) is CSV
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(FlyteFile)) is FlyteFile
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(FlyteDirectory)) is FlyteDirectory
