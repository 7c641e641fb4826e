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


def test_other_protocols_are_left_to_other_plugins(taskloom_plugins):
    from taskloom.exceptions.system import StorageError

    taskloom_plugins.disable("s3")  # installed in the development environment; this plugin must not answer
    with pytest.raises(StorageError, match="'s3://'.*taskloom-s3"):
        get_filesystem("s3")


# --- offloading: files and directories returned by tasks go under the raw output prefix ----------

import os  # noqa: E402

from taskloom import task, workflow  # noqa: E402
from taskloom.exceptions.system import StorageError  # noqa: E402


@task
def write_report(text: str) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "report.txt")
    with open(path, "w") as handle:
        handle.write(text)
    return FlyteFile(path)


@task
def read_report(report: FlyteFile) -> str:
    with report.open("r") as handle:
        return handle.read()


@task
def write_tree(names: list[str]) -> FlyteDirectory:
    root = os.path.join(current_context().working_directory, "tree")
    os.makedirs(root)
    for name in names:
        with open(os.path.join(root, name), "w") as handle:
            handle.write(name.upper())
    return FlyteDirectory(root)


@task
def count_files(tree: FlyteDirectory) -> int:
    return len(os.listdir(tree))


@workflow
def report_flow(text: str) -> tuple[FlyteFile, str]:
    report = write_report(text=text)
    return report, read_report(report=report)


from taskloom import current_context  # noqa: E402


def test_without_a_prefix_files_pass_by_their_local_path(monkeypatch):
    monkeypatch.delenv("TASKLOOM_RAW_OUTPUT_PREFIX", raising=False)
    report, text = report_flow(text="hello")
    assert text == "hello" and report.remote_source is None and os.path.exists(report.path)


def test_a_returned_file_is_uploaded_under_the_memory_prefix_and_read_downstream(monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", "memory://offload-tests/runs")
    try:
        report, text = report_flow(text="stored")
        assert text == "stored"
        assert report.remote_source.startswith("memory://offload-tests/runs/")
        assert report.remote_source.endswith("/n0/o0/report.txt")
        assert fsspec.filesystem("memory").cat(report.remote_source) == b"stored"
    finally:
        fsspec.filesystem("memory").rm("/offload-tests", recursive=True)


def test_directories_and_lists_of_files_are_uploaded_under_a_file_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", str(tmp_path / "raw"))

    @task
    def many(n: int) -> list[FlyteFile]:
        paths = []
        for index in range(n):
            path = os.path.join(current_context().working_directory, f"{index}.txt")
            with open(path, "w") as handle:
                handle.write(str(index))
            paths.append(path)  # plain paths declared as files are files too
        return paths

    @workflow
    def flow(names: list[str]) -> tuple[int, list[FlyteFile]]:
        return count_files(tree=write_tree(names=names)), many(n=2)

    count, files = flow(names=["a", "b", "c"])
    assert count == 3
    stored = sorted(str(path.relative_to(tmp_path)) for path in (tmp_path / "raw").rglob("*") if path.is_file())
    assert len(stored) == 5 and all(name.startswith("raw/") for name in stored)
    assert [file.open("r").read() for file in files] == ["0", "1"]
    assert all(file.uri.startswith(str(tmp_path / "raw")) for file in files)


def test_a_files_own_remote_path_is_where_it_goes(monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", "memory://offload-tests/runs")

    @task
    def placed() -> FlyteFile:
        path = os.path.join(current_context().working_directory, "x.txt")
        with open(path, "w") as handle:
            handle.write("placed")
        return FlyteFile(path, remote_path="memory://offload-tests/chosen/x.txt")

    @workflow
    def flow() -> FlyteFile:
        return placed()

    try:
        assert flow().remote_source == "memory://offload-tests/chosen/x.txt"
        assert fsspec.filesystem("memory").cat("memory://offload-tests/chosen/x.txt") == b"placed"
    finally:
        fsspec.filesystem("memory").rm("/offload-tests", recursive=True)


def test_an_unknown_protocol_in_the_prefix_is_an_error_naming_it(monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", "nowhere://bucket/runs")
    with pytest.raises(StorageError, match="nowhere://"):
        report_flow(text="lost?")
