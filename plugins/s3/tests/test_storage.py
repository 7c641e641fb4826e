"""``s3://`` through taskloom's storage API, against SeaweedFS and moto: copies both ways, and errors
that name the URI and say what is wrong in plain words."""

from __future__ import annotations

import os

import pytest

from taskloom.exceptions.system import StorageError
from taskloom.storage import download, get_filesystem, upload
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile
from taskloom_s3.testing import free_port, use_server


def tree(root) -> dict[str, str]:
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path) as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def test_a_file_goes_up_and_comes_back(bucket, tmp_path):
    source = tmp_path / "report.csv"
    source.write_text("a,b\n1,2\n")
    uri = f"s3://{bucket}/runs/report.csv"
    assert upload(str(source), uri) == uri
    filesystem = get_filesystem("s3")
    assert filesystem.exists(uri) and not filesystem.isdir(uri)
    back = download(uri, str(tmp_path / "back" / "report.csv"))
    assert open(back).read() == "a,b\n1,2\n"


def test_glob_characters_in_a_name_are_plain_characters(s3, bucket, tmp_path):
    source = tmp_path / "part[1]*.csv"
    source.write_text("one")
    uri = f"s3://{bucket}/runs/part[1]*.csv"
    upload(str(source), uri)
    assert s3.keys(bucket) == ["runs/part[1]*.csv"]
    assert open(download(uri, str(tmp_path / "back.csv"))).read() == "one"


def test_a_directory_keeps_its_relative_paths_and_uploading_again_does_not_nest_it(s3, bucket, tmp_path):
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    (source / "one.txt").write_text("1")
    (source / "sub" / "two[2].txt").write_text("2")  # a glob character is just a character
    uri = f"s3://{bucket}/runs/tree"
    upload(str(source), uri, recursive=True)
    upload(str(source), uri, recursive=True)
    assert s3.keys(bucket) == ["runs/tree/one.txt", "runs/tree/sub/two[2].txt"]
    assert get_filesystem("s3").isdir(uri)
    download(uri, str(tmp_path / "back"), recursive=True)
    assert tree(tmp_path / "back") == {"one.txt": "1", os.path.join("sub", "two[2].txt"): "2"}


def test_remote_files_and_directories_are_downloaded_on_first_use(s3, bucket):
    client = s3.client()
    client.put_object(Bucket=bucket, Key="data/table.csv", Body=b"x,y\n")
    client.put_object(Bucket=bucket, Key="data/dir/a.txt", Body=b"A")
    remote = FlyteFile(f"s3://{bucket}/data/table.csv")
    assert not remote.downloaded
    with remote.open("r") as handle:
        assert handle.read() == "x,y\n"
    assert FlyteDirectory(f"s3a://{bucket}/data/dir").listdir() == ["a.txt"]


def test_a_missing_object_names_the_uri(bucket, tmp_path):
    uri = f"s3://{bucket}/no/such/object.csv"
    with pytest.raises(StorageError, match=f"could not download {uri} .*: nothing is stored at {uri}") as caught:
        download(uri, str(tmp_path / "object.csv"))
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert not os.listdir(tmp_path)  # no partial file either


def test_a_missing_directory_names_the_uri(bucket, tmp_path):
    uri = f"s3://{bucket}/no/such/directory"
    with pytest.raises(StorageError, match=f"could not download {uri} .*: nothing is stored at {uri}"):
        download(uri, str(tmp_path / "directory"), recursive=True)


def test_a_missing_bucket_is_named_and_not_created(s3, tmp_path):
    uri = "s3://taskloom-no-such-bucket/key.csv"
    missing = "bucket 'taskloom-no-such-bucket' does not exist"
    with pytest.raises(StorageError, match=f"could not download {uri} .*: {missing}"):
        download(uri, str(tmp_path / "key.csv"))
    source = tmp_path / "tree"
    (source / "inner").mkdir(parents=True)
    (source / "inner" / "x.txt").write_text("x")
    with pytest.raises(StorageError, match=f"could not upload {source} to {uri}: {missing}"):
        upload(str(source), uri, recursive=True)
    with pytest.raises(StorageError, match=f"could not upload {source}/inner/x.txt to {uri}: {missing}"):
        upload(str(source / "inner" / "x.txt"), uri)
    buckets = [entry["Name"] for entry in s3.client().list_buckets()["Buckets"]]
    assert "taskloom-no-such-bucket" not in buckets


def test_a_wrong_secret_key_is_access_denied_naming_the_variables(s3, bucket, monkeypatch, tmp_path):
    s3.client().put_object(Bucket=bucket, Key="k.txt", Body=b"k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    uri = f"s3://{bucket}/k.txt"
    with pytest.raises(StorageError) as caught:
        download(uri, str(tmp_path / "k.txt"))
    message = str(caught.value)
    assert message.startswith(f"could not download {uri} to ")
    assert "access denied: the secret key does not match the access key" in message
    assert "AWS_SECRET_ACCESS_KEY" in message and "Traceback" not in message
    assert isinstance(caught.value.__cause__, PermissionError)


def test_an_unknown_access_key_is_access_denied(s3, bucket, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOBODYKNOWS")
    source = tmp_path / "x.txt"
    source.write_text("x")
    uri = f"s3://{bucket}/x.txt"
    unknown = "access denied: the access key is unknown"
    with pytest.raises(StorageError, match=f"could not upload {source} to {uri}: {unknown}"):
        upload(str(source), uri)
    assert s3.keys(bucket) == []


def test_an_unknown_protocol_names_the_uri(tmp_path):
    with pytest.raises(
        StorageError, match=r"could not download foo://bucket/x.csv: no installed taskloom plugin serves 'foo://'"
    ):
        download("foo://bucket/x.csv", str(tmp_path / "x.csv"))
    with pytest.raises(
        StorageError, match=r"could not upload foo://bucket/x.csv: no installed taskloom plugin serves 'foo://'"
    ):
        upload(str(tmp_path), "foo://bucket/x.csv", recursive=True)


def test_a_directory_upload_that_fails_midway_removes_what_it_wrote(s3, bucket, tmp_path, monkeypatch):
    source = tmp_path / "tree"
    source.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (source / name).write_text(name)
    os.symlink(tmp_path / "gone", source / "z-dangling")  # listed, then unreadable: the upload fails on it
    monkeypatch.setattr(get_filesystem("s3"), "batch_size", 1)  # one file at a time: a, b, c are written first
    uri = f"s3://{bucket}/runs/tree"
    with pytest.raises(StorageError, match=f"could not upload {source} to {uri}: not found .*z-dangling"):
        upload(str(source), uri, recursive=True)
    assert s3.keys(bucket) == []


def test_missing_credentials_are_named(monkeypatch, tmp_path):
    use_server(monkeypatch, None)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata to ask, here
    message = "could not download s3://bucket/k.csv .*: no usable AWS credentials: set AWS_"
    with pytest.raises(StorageError, match=message):
        download("s3://bucket/k.csv", str(tmp_path / "k.csv"))


def test_an_unreachable_endpoint_is_named(monkeypatch, tmp_path):
    use_server(monkeypatch, None)
    port = free_port()  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    message = f"could not download s3://bucket/k.csv .*: cannot reach the S3 endpoint http://127.0.0.1:{port}"
    with pytest.raises(StorageError, match=message):
        download("s3://bucket/k.csv", str(tmp_path / "k.csv"))
