"""Tables through loom-execute (taskloom-flyte's container entrypoint) and taskloom-arrow: a task's table
inputs are read from, and its table outputs written to, object storage, as flytekit writes them, on local
files and on real S3 servers (SeaweedFS, moto) through taskloom-s3."""

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flyteidl.core import literals_pb2

from plugins.flyte.tests.test_entrypoint import inputs_file, run_container
from taskloom_s3.testing import SERVERS, environment_with
from tests.integration.subprocesses import serialized_templates

JOBS = """
from typing import Annotated

import pandas as pd
import pyarrow as pa

from taskloom import StructuredDataset, kwtypes, task


@task
def people(n: int) -> pd.DataFrame:
    return pd.DataFrame({"name": [f"p{i}" for i in range(n)], "age": list(range(n))})


@task
def total_age(df: Annotated[pd.DataFrame, kwtypes(age=int)]) -> int:
    assert list(df.columns) == ["age"], list(df.columns)
    return int(df["age"].sum())


@task
def as_csv(table: pa.Table) -> Annotated[StructuredDataset, "csv"]:
    return StructuredDataset(dataframe=table)


@task
def rows(sd: StructuredDataset) -> int:
    return sum(batch.num_rows for batch in sd.open(pa.Table).iter())
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A directory standing for the container image (the program) and its serialized task templates."""
    return serialized_templates(tmp_path_factory.mktemp("image"), JOBS)


def _run(template, root: Path, *, inputs: str, prefix: str, raw: str, environment: dict | None = None):
    # Both prefixes are given: run_container's work directory, which would hold them, is not used.
    return run_container(template, root, root, inputs, env=environment, output_prefix=prefix, raw=raw)[0]


def _outputs(data: bytes) -> literals_pb2.LiteralMap:
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString(data)
    return outputs


def test_a_table_output_is_written_under_the_raw_prefix_and_read_by_the_next_task_on_files(image, tmp_path):
    root, templates = image
    inputs_file(tmp_path, {"n": 4}, {"n": int})
    done = _run(
        templates["flows.jobs.people"],
        root,
        inputs=str(tmp_path / "inputs.pb"),
        prefix=str(tmp_path / "a"),
        raw=str(tmp_path / "raw"),
    )
    assert done.returncode == 0, done.stderr
    table = _outputs((tmp_path / "a" / "outputs.pb").read_bytes()).literals["o0"].scalar.structured_dataset
    assert table.uri.startswith(str(tmp_path / "raw"))
    assert table.metadata.structured_dataset_type.format == "parquet"
    assert pq.read_table(Path(table.uri) / "00000").column_names == ["name", "age"]  # flytekit's layout
    # On this machine's disk, uncompressed (taskloom_arrow.handlers.parquet_compression).
    assert pq.ParquetFile(Path(table.uri) / "00000").metadata.row_group(0).column(0).compression == "UNCOMPRESSED"

    # The next task takes the literal as Flyte passes it, and reads only the column it declares.
    (tmp_path / "next.pb").write_bytes(
        literals_pb2.LiteralMap(
            literals={"df": _outputs((tmp_path / "a" / "outputs.pb").read_bytes()).literals["o0"]}
        ).SerializeToString()
    )
    done = _run(
        templates["flows.jobs.total_age"],
        root,
        inputs=str(tmp_path / "next.pb"),
        prefix=str(tmp_path / "b"),
        raw=str(tmp_path / "raw"),
    )
    assert done.returncode == 0, done.stderr
    assert _outputs((tmp_path / "b" / "outputs.pb").read_bytes()).literals["o0"].scalar.primitive.integer == 6


@pytest.fixture
def server(s3_pool):
    # One server is enough here: taskloom-s3's own tests run both against the same storage calls.
    return s3_pool.get(SERVERS[0])


def test_table_inputs_and_outputs_live_in_an_s3_bucket_through_the_storage_hook(image, server, tmp_path):
    root, templates = image
    bucket = f"tables-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    client = server.client()
    environment = environment_with(server)
    client.put_object(Bucket=bucket, Key="a/inputs.pb", Body=inputs_file(tmp_path, {"n": 5}, {"n": int}).read_bytes())
    done = _run(
        templates["flows.jobs.people"],
        root,
        inputs=f"s3://{bucket}/a/inputs.pb",
        prefix=f"s3://{bucket}/a/out",
        raw=f"s3://{bucket}/a/raw",
        environment=environment,
    )
    assert done.returncode == 0, done.stderr
    people = _outputs(client.get_object(Bucket=bucket, Key="a/out/outputs.pb")["Body"].read()).literals["o0"]
    assert people.scalar.structured_dataset.uri.startswith(f"s3://{bucket}/a/raw/")
    (part,) = [key for key in server.keys(bucket, "a/raw/") if key.endswith("/00000")]
    # In object storage, snappy, as flytekit writes it there.
    body = client.get_object(Bucket=bucket, Key=part)["Body"].read()
    assert pq.ParquetFile(pa.BufferReader(body)).metadata.row_group(0).column(0).compression == "SNAPPY"

    # A pyarrow table written back as CSV, then streamed in batches by the next task, all in the bucket.
    client.put_object(
        Bucket=bucket, Key="b/inputs.pb", Body=literals_pb2.LiteralMap(literals={"table": people}).SerializeToString()
    )
    done = _run(
        templates["flows.jobs.as_csv"],
        root,
        inputs=f"s3://{bucket}/b/inputs.pb",
        prefix=f"s3://{bucket}/b/out",
        raw=f"s3://{bucket}/b/raw",
        environment=environment,
    )
    assert done.returncode == 0, done.stderr
    csv = _outputs(client.get_object(Bucket=bucket, Key="b/out/outputs.pb")["Body"].read()).literals["o0"]
    assert csv.scalar.structured_dataset.metadata.structured_dataset_type.format == "csv"
    assert any(key.endswith("/.csv") for key in server.keys(bucket, "b/raw/"))
    client.put_object(
        Bucket=bucket, Key="c/inputs.pb", Body=literals_pb2.LiteralMap(literals={"sd": csv}).SerializeToString()
    )
    done = _run(
        templates["flows.jobs.rows"],
        root,
        inputs=f"s3://{bucket}/c/inputs.pb",
        prefix=f"s3://{bucket}/c/out",
        raw=f"s3://{bucket}/c/raw",
        environment=environment,
    )
    assert done.returncode == 0, done.stderr
    counted = _outputs(client.get_object(Bucket=bucket, Key="c/out/outputs.pb")["Body"].read())
    assert counted.literals["o0"].scalar.primitive.integer == 5
