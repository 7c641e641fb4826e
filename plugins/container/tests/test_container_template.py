"""A ContainerTask packages into the raw-container template flytekit 1.16 writes for the same program."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from plugins.flyte.tests.flytekit_reference import flytekit_python, summary_differences, write_programs
from taskloom import Resources, SerializationSettings, kwtypes
from taskloom.extend import models

from taskloom_container.container_task import ContainerTask

BIN = Path(sys.executable).parent

# Every option flytekit's ContainerTask serializes, over three tasks (flytekit's own example among them).
PROGRAM = """\
import datetime

from flytekit import ContainerTask, ImageSpec, Resources, Secret, TaskMetadata, kwtypes, task, workflow
from flytekit.types.file import FlyteFile

square = ContainerTask(
    name="square",
    input_data_dir="/var/inputs",
    output_data_dir="/var/outputs",
    inputs=kwtypes(val=int),
    outputs=kwtypes(out=int),
    image="ghcr.io/flyteorg/rawcontainers-shell:v2",
    command=["sh", "-c", "echo $(( {{.inputs.val}} * {{.inputs.val}} )) | tee /var/outputs/out"],
)

report = ContainerTask(
    name="report",
    input_data_dir="/in",
    output_data_dir="/out",
    inputs=kwtypes(data=FlyteFile, title=str, scale=float),
    outputs=kwtypes(pages=int, pdf=FlyteFile),
    image="localhost/report:1",
    command=["python", "/app/report.py"],
    arguments=["--title", "{{.inputs.title}}", "--scale", "{{.inputs.scale}}"],
    requests=Resources(cpu="1", mem="100Mi"),
    limits=Resources(mem="200Mi"),
    environment={"MODE": "fast", "A": "b"},
    metadata_format=ContainerTask.MetadataFormat.YAML,
    metadata=TaskMetadata(retries=2, timeout=datetime.timedelta(minutes=5), cache=True, cache_version="1"),
    secret_requests=[Secret(group="db", key="password")],
)

plain = ContainerTask(
    name="plain",
    image="busybox:1.36",
    command=["echo", "hello"],
    resources=Resources(cpu=("1", "2"), mem="1Gi"),
    metadata_format=ContainerTask.MetadataFormat.PROTO,
    pod_template_name="large",
)

spec = ImageSpec(name="Trainer", packages=["numpy"], apt_packages=["git"], registry="localhost:30000")

imaged = ContainerTask(name="imaged", image=spec, command=["python", "-c", "print(1)"])


@task(container_image=spec)
def train(x: int) -> int:
    return x + 1


@workflow
def pipeline(val: int = 3) -> int:
    return train(x=square(val=val))
"""


def _package_with_flytekit(program_dir: Path, out_dir: Path) -> list[Path]:
    """``pyflyte --pkgs programs package --fast``: fast, so that an ImageSpec's tag is the spec's own (without
    ``--fast`` pyflyte folds a digest of the program's loaded source files into it, which taskloom does not)."""
    archive = out_dir / "flyte-package.tgz"
    out_dir.mkdir(parents=True)
    pyflyte = flytekit_python().parent / "pyflyte"
    command = [str(pyflyte), "--pkgs", "programs", "package", "--fast", "--image", "ghcr.io/example/image:1"]
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [*command, "-o", str(archive), "--force"],
        cwd=program_dir,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with tarfile.open(archive) as tar:
        tar.extractall(out_dir, filter="data")
    return sorted(out_dir.glob("*.pb"))


def _task_specs(pb_files: list[Path]) -> dict[str, dict]:
    from flyteidl.admin import task_pb2
    from google.protobuf import json_format

    specs = {}
    for path in pb_files:
        if not path.name.endswith("_1.pb"):
            continue
        message = task_pb2.TaskSpec()
        message.ParseFromString(path.read_bytes())
        spec = json_format.MessageToDict(message, preserving_proto_field_name=True)
        template = spec["template"]
        # What two SDKs write their own way: the SDK and its version, variable descriptions,
        # registration coordinates (empty in a package), the task's documentation.
        template["metadata"].pop("runtime")
        if not template["metadata"].get("metadata", True):  # flytekit sets K8sObjectMetadata even when empty
            template["metadata"].pop("metadata")
        for coordinate in ("project", "domain", "version"):
            template["id"].pop(coordinate, None)
        for side in ("inputs", "outputs"):
            for variable in template.get("interface", {}).get(side, {}).get("variables", {}).values():
                variable.pop("description", None)
        spec.pop("description", None)
        specs[template["id"]["name"]] = spec
    return specs


@pytest.mark.slow  # flytekit packages the program in its own virtual environment
def test_the_templates_are_flytekits_field_for_field(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "containers.py").write_text(PROGRAM)
    flytekit_root = write_programs(tmp_path / "flytekit", sources=sources)
    expected = _task_specs(_package_with_flytekit(flytekit_root, tmp_path / "flytekit-package"))
    taskloom_root = write_programs(tmp_path / "taskloom", sdk="taskloom", sources=sources)
    output = tmp_path / "taskloom-package"
    done = subprocess.run(
        [
            str(BIN / "loom"),
            "serialize",
            "programs",
            "--fast",
            "--image",
            "default=ghcr.io/example/image:1",
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=taskloom_root,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    actual = _task_specs(sorted(output.glob("*.pb")))
    assert set(expected) == {"square", "report", "plain", "imaged", "programs.containers.train"}
    # A Python task's command line is each SDK's own entrypoint; its image is pyflyte's name for the spec.
    python_task = "programs.containers.train"
    assert (
        actual.pop(python_task)["template"]["container"]["image"]
        == (expected.pop(python_task)["template"]["container"]["image"])
    )
    differences = summary_differences(expected, actual)
    assert not differences, "\n".join(differences)


def test_the_template_carries_command_arguments_and_the_data_loading_config():
    task = ContainerTask(
        name="t",
        image="localhost/x:1",
        command=["sh", "-c", "cat /in/a > /out/b"],
        arguments=["{{.inputs.a}}"],
        inputs=kwtypes(a=str),
        outputs=kwtypes(b=str),
        input_data_dir="/in",
        output_data_dir="/out",
        limits=Resources(mem="1Gi"),
        io_strategy=ContainerTask.IOStrategy.DO_NOT_UPLOAD,
    )
    template = task.to_task_template(SerializationSettings.for_image("ghcr.io/example/image:1", "v1"))
    assert template.type == "raw-container"
    container = template.container
    assert container is not None
    assert container.image == "localhost/x:1"
    assert container.command == ("sh", "-c", "cat /in/a > /out/b")
    assert container.args == ("{{.inputs.a}}",)
    task_models = models.task
    assert container.data_config == task_models.DataLoadingConfig(
        enabled=True,
        input_path="/in",
        output_path="/out",
        format=task_models.LiteralMapFormat.JSON,
        io_strategy=task_models.IOStrategy(upload_mode=task_models.UploadMode.DO_NOT_UPLOAD),
    )
    assert template.custom is None
