"""loom-execute with its inputs.pb, outputs and raw data in an S3 bucket, on real S3 servers
(SeaweedFS and moto) started on 127.0.0.1 by the tests: a packaged task's container command line,
run as Flyte's propeller runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from flyteidl.admin import task_pb2
from flyteidl.core import errors_pb2, execution_pb2, literals_pb2

from taskloom_s3.testing import SERVERS, environment_with

BIN = Path(sys.executable).parent

JOBS = """
import os
from taskloom import File, current_context, task


@task
def shout(text: str, times: int = 2) -> File:
    path = os.path.join(current_context().working_directory, "shout.txt")
    with open(path, "w") as handle:
        handle.write((text.upper() + "!") * times)
    return File(path)


@task
def measure(f: File) -> int:
    with open(f) as handle:
        return len(handle.read())
"""


@pytest.fixture(params=SERVERS)
def server(request, s3_pool):
    return s3_pool.get(request.param)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A directory standing for the container image: the program and its serialized task templates."""
    root = tmp_path_factory.mktemp("image")
    (root / "jobs.py").write_text(textwrap.dedent(JOBS))
    out = tmp_path_factory.mktemp("serialized")
    done = subprocess.run(
        [str(BIN / "loom"), "serialize", "jobs", "--version", "1", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr
    templates = {}
    for path in out.glob("*_1.pb"):
        spec = task_pb2.TaskSpec()
        spec.ParseFromString(path.read_bytes())
        templates[spec.template.id.name] = spec.template
    return root, templates


def literal_map(values: dict, types: dict) -> bytes:
    from taskloom.core.type_engine import TypeEngine
    from taskloom_flyte.codec import literal_map_to_bytes

    return literal_map_to_bytes(TypeEngine.dict_to_literal_map(None, values, types))


def run(template, root, server, *, inputs: str, prefix: str, raw: str, environment=None):
    filled = {
        "{{.input}}": inputs,
        "{{.outputPrefix}}": prefix,
        "{{.rawOutputDataPrefix}}": raw,
        "{{.checkpointOutputPrefix}}": f"{raw}/checkpoint",
        "{{.prevCheckpointPrefix}}": "",
    }
    args = [filled.get(arg, arg) for arg in template.container.args]
    args[0] = str(BIN / args[0])
    env = environment if environment is not None else environment_with(server)
    env.pop("PYTHONPATH", None)
    return subprocess.run(args, capture_output=True, text=True, cwd=root, env=env, timeout=180)


def test_a_task_reads_its_inputs_from_the_bucket_and_leaves_outputs_and_data_there(server, image):
    root, templates = image
    bucket = f"exec-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    client = server.client()
    client.put_object(
        Bucket=bucket, Key="a/inputs.pb", Body=literal_map({"text": "hey", "times": 3}, {"text": str, "times": int})
    )
    done = run(
        templates["jobs.shout"],
        root,
        server,
        inputs=f"s3://{bucket}/a/inputs.pb",
        prefix=f"s3://{bucket}/a/out",
        raw=f"s3://{bucket}/a/raw",
    )
    assert done.returncode == 0, done.stderr
    assert "a/out/error.pb" not in server.keys(bucket)
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString(client.get_object(Bucket=bucket, Key="a/out/outputs.pb")["Body"].read())
    uri = outputs.literals["o0"].scalar.blob.uri
    assert uri.startswith(f"s3://{bucket}/a/raw/")
    key = uri.removeprefix(f"s3://{bucket}/")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"HEY!HEY!HEY!"

    # The next task takes that blob as its input, reading it from the bucket.
    client.put_object(
        Bucket=bucket,
        Key="b/inputs.pb",
        Body=literals_pb2.LiteralMap(literals={"f": outputs.literals["o0"]}).SerializeToString(),
    )
    done = run(
        templates["jobs.measure"],
        root,
        server,
        inputs=f"s3://{bucket}/b/inputs.pb",
        prefix=f"s3://{bucket}/b/out",
        raw=f"s3://{bucket}/b/raw",
    )
    assert done.returncode == 0, done.stderr
    outputs.ParseFromString(client.get_object(Bucket=bucket, Key="b/out/outputs.pb")["Body"].read())
    assert outputs.literals["o0"].scalar.primitive.integer == 12


def test_a_missing_inputs_object_is_an_error_document_naming_it(server, image):
    root, templates = image
    bucket = f"exec-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    done = run(
        templates["jobs.shout"],
        root,
        server,
        inputs=f"s3://{bucket}/nothing/inputs.pb",
        prefix=f"s3://{bucket}/c/out",
        raw=f"s3://{bucket}/c/raw",
    )
    assert done.returncode == 0, done.stderr
    assert server.keys(bucket, "c/out/") == ["c/out/error.pb"]
    document = errors_pb2.ErrorDocument()
    document.ParseFromString(server.client().get_object(Bucket=bucket, Key="c/out/error.pb")["Body"].read())
    assert f"s3://{bucket}/nothing/inputs.pb" in document.error.message
    assert document.error.origin == execution_pb2.ExecutionError.SYSTEM


def test_wrong_credentials_fail_the_process_naming_the_uris_and_write_nothing(server, image):
    root, templates = image
    bucket = f"exec-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    server.client().put_object(Bucket=bucket, Key="d/inputs.pb", Body=literal_map({"text": "x"}, {"text": str}))
    environment = environment_with(server)
    environment["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    environment["AWS_MAX_ATTEMPTS"] = "1"
    done = run(
        templates["jobs.shout"],
        root,
        server,
        inputs=f"s3://{bucket}/d/inputs.pb",
        prefix=f"s3://{bucket}/d/out",
        raw=f"s3://{bucket}/d/raw",
        environment=environment,
    )
    # Neither the inputs nor even error.pb can be reached: the process says so and fails.
    assert done.returncode != 0
    assert f"s3://{bucket}/d/out" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.keys(bucket, "d/out/") == []
