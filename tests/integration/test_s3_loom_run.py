"""`loom run --raw-output-prefix s3://bucket/prefix`: every file and directory a task returns is kept
under the prefix, on real S3 servers (SeaweedFS and moto) started on 127.0.0.1 by the test."""

from __future__ import annotations

import textwrap
import uuid

import pytest

from taskloom_s3.testing import SERVERS, use_server
from tests.kernel.distributions import run_loom

FLOWS = """
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
def write_tree(count: int) -> FlyteDirectory:
    root = os.path.join(current_context().working_directory, "tree")
    os.makedirs(os.path.join(root, "inner"))
    for index in range(count):
        with open(os.path.join(root, "inner", f"{index}.txt"), "w") as handle:
            handle.write(str(index))
    return FlyteDirectory(root)


@task
def summarize(report: FlyteFile, tree: FlyteDirectory) -> FlyteFile:
    with open(report) as handle:
        text = handle.read()
    names = sorted(os.listdir(os.path.join(tree, "inner")))
    path = os.path.join(current_context().working_directory, "summary.txt")
    with open(path, "w") as handle:
        handle.write(f"{text}: {','.join(names)}")
    return FlyteFile(path)


@workflow
def wf(text: str = "hello", count: int = 3) -> tuple[FlyteFile, FlyteDirectory]:
    report = write_report(text=text)
    tree = write_tree(count=count)
    return summarize(report=report, tree=tree), tree
"""


@pytest.fixture(params=SERVERS)
def server(request, s3_pool):
    return s3_pool.get(request.param)


def loom(arguments, server, monkeypatch):
    """``loom ARGUMENTS`` in a fresh interpreter whose only S3 configuration is ``server``'s."""
    use_server(monkeypatch, server)  # run_loom starts from this process's environment
    return run_loom(arguments)


def test_loom_run_keeps_every_offloaded_value_under_the_s3_prefix(server, tmp_path, monkeypatch):
    bucket = f"loom-run-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    flows = tmp_path / "flows.py"
    flows.write_text(textwrap.dedent(FLOWS))
    prefix = f"s3://{bucket}/team/runs"
    done = loom(["run", "--raw-output-prefix", prefix, str(flows), "wf", "--count", "2"], server, monkeypatch)
    assert done.returncode == 0, done.stderr
    keys = server.keys(bucket)
    # report.txt, tree/inner/0.txt, tree/inner/1.txt, summary.txt: everything under the prefix, nothing else.
    assert len(keys) == 4, keys
    assert all(key.startswith("team/runs/") for key in keys), keys
    assert sorted(key.rsplit("/", 1)[-1] for key in keys) == ["0.txt", "1.txt", "report.txt", "summary.txt"]
    summary = next(key for key in keys if key.endswith("summary.txt"))
    assert server.client().get_object(Bucket=bucket, Key=summary)["Body"].read() == b"hello: 0.txt,1.txt"
    # The printed outputs are the stored values' URIs.
    assert f"{prefix}/" in done.stdout and "summary.txt" in done.stdout


def test_loom_run_with_a_missing_bucket_fails_naming_it(server, tmp_path, monkeypatch):
    flows = tmp_path / "flows.py"
    flows.write_text(textwrap.dedent(FLOWS))
    done = loom(["run", "--raw-output-prefix", "s3://loom-no-such-bucket/runs", str(flows), "wf"], server, monkeypatch)
    assert done.returncode != 0
    assert "s3://loom-no-such-bucket/runs/" in done.stderr
    assert "bucket 'loom-no-such-bucket' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
