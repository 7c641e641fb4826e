"""FlyteFile / FlyteDirectory: formats, lazy download through the storage hook, clear storage errors."""

from __future__ import annotations

import os
import typing

import pytest

from taskloom.exceptions.system import StorageError
from taskloom.hookspecs import hookimpl
from taskloom.storage import split_protocol
from taskloom.types.directory import Directory, FlyteDirectory
from taskloom.types.file import File, FlyteFile


class MemoryStorage:
    """Serves ``memory://`` with fsspec's in-memory filesystem (a real fsspec filesystem, not a mock)."""

    def __init__(self):
        from fsspec.implementations.memory import MemoryFileSystem

        self.filesystem = MemoryFileSystem()
        self.gets = 0

    @hookimpl
    def taskloom_filesystem(self, protocol):
        if protocol != "memory":
            return None
        storage = self

        class Counting(type(self.filesystem)):
            def get(self, *args, **kwargs):
                storage.gets += 1
                return super().get(*args, **kwargs)

        return Counting()


@pytest.fixture
def memory(bare_plugins):
    storage = MemoryStorage()
    bare_plugins.register(storage, name="memory-storage")
    storage.filesystem.pipe("/bucket/data.csv", b"a,b\n1,2\n")
    storage.filesystem.pipe("/bucket/dir/one.txt", b"1")
    storage.filesystem.pipe("/bucket/dir/two.txt", b"2")
    yield storage
    storage.filesystem.rm("/bucket", recursive=True)


def test_flyte_names_and_short_names_are_the_same_classes():
    assert File is FlyteFile and Directory is FlyteDirectory


def test_a_format_gives_the_same_subclass_each_time():
    csv = FlyteFile[typing.TypeVar("csv")]
    assert csv is FlyteFile["csv"]
    assert issubclass(csv, FlyteFile) and csv.extension() == "csv"
    assert FlyteFile.extension() == ""
    assert FlyteDirectory["parquet"] is not FlyteFile["parquet"]


def test_a_local_file_needs_no_download(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hi")
    f = FlyteFile(str(path))
    assert f.downloaded and f.remote_source is None and f.uri == str(path)
    with f.open("r") as handle:
        assert handle.read() == "hi"


def test_a_remote_file_is_downloaded_on_first_use_only(memory):
    f = FlyteFile("memory://bucket/data.csv")
    assert not f.downloaded and memory.gets == 0
    assert f.uri == "memory://bucket/data.csv"
    with f.open("rb") as handle:
        assert handle.read() == b"a,b\n1,2\n"
    assert os.fspath(f) == f.path and f.downloaded
    assert memory.gets == 1


def test_a_remote_directory_is_downloaded_recursively(memory):
    d = FlyteDirectory("memory://bucket/dir")
    assert d.listdir() == ["one.txt", "two.txt"]
    assert open(os.path.join(d.path, "two.txt")).read() == "2"


def test_a_protocol_nobody_serves_is_a_clear_error(bare_plugins):
    with pytest.raises(StorageError, match=r"no installed taskloom plugin serves 's3://' URIs; install taskloom-s3"):
        FlyteFile("s3://bucket/key").download()


def test_a_missing_remote_object_names_the_uri(memory):
    with pytest.raises(StorageError, match="could not download memory://bucket/missing.csv"):
        FlyteFile("memory://bucket/missing.csv").download()


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://b/k", ("s3", "b/k")),
        ("/tmp/x", ("file", "/tmp/x")),
        ("relative/x", ("file", "relative/x")),
        ("file:///tmp/x", ("file", "/tmp/x")),
        ("GS://b/k", ("gs", "b/k")),
    ],
)
def test_split_protocol(uri, expected):
    assert split_protocol(uri) == expected


def test_files_compare_by_uri_and_format():
    assert FlyteFile("/a/b") == FlyteFile("/a/b")
    assert FlyteFile["csv"]("/a/b") != FlyteFile("/a/b")
    assert FlyteFile("/a/b") != FlyteDirectory("/a/b")
