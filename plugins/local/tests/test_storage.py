"""The file and memory protocols this plugin serves through the kernel's storage hook."""

from __future__ import annotations

import fsspec
import pytest

from taskloom.storage import get_filesystem
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile


@pytest.fixture
def memory():
    filesystem = fsspec.filesystem("memory")
    filesystem.pipe("/local-tests/report.txt", b"in memory")
    filesystem.pipe("/local-tests/dir/a.txt", b"a")
    yield filesystem
    filesystem.rm("/local-tests", recursive=True)


def test_memory_uris_are_served_and_downloaded_lazily(memory):
    remote = FlyteFile("memory://local-tests/report.txt")
    assert not remote.downloaded
    with remote.open("rb") as handle:
        assert handle.read() == b"in memory"
    assert FlyteDirectory("memory://local-tests/dir").listdir() == ["a.txt"]


def test_file_protocol_is_the_local_filesystem(tmp_path):
    (tmp_path / "x.txt").write_text("local")
    filesystem = get_filesystem("file")
    assert filesystem.exists(str(tmp_path / "x.txt"))


def test_other_protocols_are_left_to_other_plugins():
    from taskloom.exceptions.system import StorageError

    with pytest.raises(StorageError, match="'s3://'.*taskloom-s3"):
        get_filesystem("s3")
