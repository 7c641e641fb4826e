"""A copy that fails or is killed midway never leaves something that looks complete, on the local
disk (taskloom-local's ``file`` protocol) or on S3 (taskloom-s3, against SeaweedFS).

Failures are real: the copying process runs with a file-size limit (``RLIMIT_FSIZE``), so the kernel
refuses its writes past 1 MiB with EFBIG exactly as a full disk would refuse them, or it is SIGKILLed
while a multipart upload is in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from taskloom_s3.testing import environment_with

LIMITED = textwrap.dedent(
    """
    import json, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, resource.RLIM_INFINITY))
    from taskloom import storage
    from taskloom.exceptions.system import StorageError
    action, source, destination, recursive = json.loads(sys.argv[1])
    try:
        getattr(storage, action)(source, destination, recursive=recursive)
    except StorageError as error:
        print(error)
        sys.exit(3)
    """
)


def limited(action: str, source: str, destination: str, *, recursive: bool = False, env=None):
    """Run ``storage.<action>(source, destination)`` in a process that cannot write files past 1 MiB."""
    arguments = json.dumps([action, source, destination, recursive])
    return subprocess.run(
        [sys.executable, "-c", LIMITED, arguments], capture_output=True, text=True, env=env, timeout=120
    )


def write(path, size: int) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(os.urandom(size))
    return str(path)


def test_a_local_file_copy_that_fails_midway_leaves_nothing_at_its_name(tmp_path):
    source = write(tmp_path / "in" / "big.bin", 4 * 2**20)
    destination = tmp_path / "out" / "big.bin"
    done = limited("upload", source, str(destination))
    assert done.returncode == 3, done.stderr
    assert f"could not upload {source} to {destination}" in done.stdout and "File too large" in done.stdout
    assert os.listdir(tmp_path / "out") == []  # neither the name nor a partial copy


def test_a_local_file_copy_that_fails_midway_leaves_the_previous_version_whole(tmp_path):
    source = write(tmp_path / "in" / "big.bin", 4 * 2**20)
    destination = tmp_path / "out" / "big.bin"
    destination.parent.mkdir()
    destination.write_bytes(b"previous")
    assert limited("upload", source, str(destination)).returncode == 3
    assert destination.read_bytes() == b"previous" and os.listdir(tmp_path / "out") == ["big.bin"]


def test_a_local_directory_copy_that_fails_midway_leaves_no_directory(tmp_path):
    source = tmp_path / "in" / "tree"
    write(source / "a-small.bin", 1000)
    write(source / "b-big.bin", 4 * 2**20)
    destination = tmp_path / "out" / "tree"
    done = limited("upload", str(source), str(destination), recursive=True)
    assert done.returncode == 3, done.stderr
    assert os.listdir(tmp_path / "out") == []


@pytest.fixture
def seaweedfs(s3_pool):
    return s3_pool.get("seaweedfs")


def test_a_download_from_s3_that_fails_midway_leaves_nothing_at_its_name(seaweedfs, tmp_path):
    bucket = seaweedfs.create_bucket("atomic-download").removeprefix("s3://")
    seaweedfs.client().put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(4 * 2**20))
    destination = tmp_path / "out" / "big.bin"
    done = limited("download", f"s3://{bucket}/big.bin", str(destination), env=environment_with(seaweedfs))
    assert done.returncode == 3, done.stderr
    assert f"could not download s3://{bucket}/big.bin to {destination}" in done.stdout
    assert os.listdir(tmp_path / "out") == []


def test_an_s3_upload_killed_midway_leaves_no_object(seaweedfs, tmp_path):
    bucket = seaweedfs.create_bucket("atomic-upload").removeprefix("s3://")
    source = tmp_path / "big.bin"
    with open(source, "wb") as handle:
        handle.truncate(256 * 2**20)
    code = f"from taskloom.storage import upload; upload({str(source)!r}, 's3://{bucket}/runs/big.bin')"
    uploader = subprocess.Popen([sys.executable, "-c", code], env=environment_with(seaweedfs))
    client = seaweedfs.client()
    try:
        deadline = time.monotonic() + 60
        while not client.list_multipart_uploads(Bucket=bucket).get("Uploads"):
            assert uploader.poll() is None, "the upload ended before it could be interrupted"
            assert time.monotonic() < deadline, "no multipart upload started"
            time.sleep(0.02)
        time.sleep(0.3)  # some parts are in
    finally:
        os.kill(uploader.pid, signal.SIGKILL)
        uploader.wait()
    assert uploader.returncode == -signal.SIGKILL
    assert seaweedfs.keys(bucket) == []  # the parts are not an object until the upload is completed
