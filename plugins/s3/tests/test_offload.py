"""Files and directories that tasks return go to an ``s3://`` raw output prefix; the tasks downstream
receive them by reference and download them only when they read them."""

from __future__ import annotations

import os

from taskloom import current_context, task, workflow
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile


@task
def write_report(text: str) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "report.txt")
    with open(path, "w") as handle:
        handle.write(text)
    return FlyteFile(path)


@task
def write_tree(names: list[str]) -> FlyteDirectory:
    root = os.path.join(current_context().working_directory, "tree")
    os.makedirs(os.path.join(root, "nested"))
    for name in names:
        with open(os.path.join(root, "nested", name), "w") as handle:
            handle.write(name.upper())
    return FlyteDirectory(root)


@task
def inspect(report: FlyteFile, tree: FlyteDirectory) -> list[str]:
    before = [str(report.downloaded), str(tree.downloaded), report.remote_source or "", tree.remote_source or ""]
    with open(report) as handle:
        text = handle.read()
    files = sorted(os.listdir(os.path.join(tree, "nested")))
    return [*before, text, ",".join(files), str(report.downloaded)]


@workflow
def pipeline(text: str, names: list[str]) -> tuple[list[str], FlyteFile, FlyteDirectory]:
    report = write_report(text=text)
    tree = write_tree(names=names)
    return inspect(report=report, tree=tree), report, tree


def test_returned_files_and_directories_land_under_the_prefix_and_are_read_lazily(s3, bucket, monkeypatch):
    monkeypatch.setenv("TASKLOOM_RAW_OUTPUT_PREFIX", f"s3://{bucket}/runs")
    seen, report, tree = pipeline(text="hello", names=["a", "b"])
    report_downloaded, tree_downloaded, report_uri, tree_uri, text, files, downloaded_after = seen
    # Downstream got references, fetched only when opened.
    assert (report_downloaded, tree_downloaded, downloaded_after) == ("False", "False", "True")
    assert report_uri.startswith(f"s3://{bucket}/runs/") and report_uri.endswith("/report.txt")
    assert tree_uri.startswith(f"s3://{bucket}/runs/") and tree_uri.endswith("/tree")
    assert (text, files) == ("hello", "a,b")
    # The workflow's outputs are the same references, and the bucket holds exactly the offloaded data.
    assert (report.remote_source, tree.remote_source) == (report_uri, tree_uri)
    keys = s3.keys(bucket)
    assert len(keys) == 3 and all(key.startswith("runs/") for key in keys)
    prefix_of_report = report_uri.removeprefix(f"s3://{bucket}/")
    prefix_of_tree = tree_uri.removeprefix(f"s3://{bucket}/")
    assert sorted(keys) == sorted([prefix_of_report, f"{prefix_of_tree}/nested/a", f"{prefix_of_tree}/nested/b"])
    assert s3.client().get_object(Bucket=bucket, Key=f"{prefix_of_tree}/nested/b")["Body"].read() == b"B"
