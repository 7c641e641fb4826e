"""loom build: a Containerfile for every ImageSpec a program uses, built with podman from a local base image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from plugins.container.tests import podman_setup
from taskloom import kwtypes, task
from taskloom.extend import ValidationError

from taskloom_container.build import referenced_specs, render_containerfile
from taskloom_container.container_task import ContainerTask
from taskloom_container.image_spec import ImageSpec

LOOM = str(Path(sys.executable).with_name("loom"))


def test_the_containerfile_has_base_environment_packages_commands_and_the_spec_id():
    spec = ImageSpec(
        name="trainer",
        base_image="localhost/base:1",
        env={"MODE": "fast run"},
        apt_packages=["git", "curl"],
        packages=["pandas==2.2.3", "numpy"],
        pip_index="https://pypi.example/simple",
        pip_extra_args="--pre",
        commands=["mkdir /data", "echo done > /data/ok"],
        entrypoint=["/bin/sh"],
    )
    assert render_containerfile(spec) == (
        "FROM localhost/base:1\n"
        'ENV MODE="fast run"\n'
        "RUN apt-get update && apt-get install -y --no-install-recommends git curl && rm -rf /var/lib/apt/lists/*\n"
        "RUN python3 -m pip install --no-cache-dir --index-url https://pypi.example/simple --pre pandas==2.2.3 numpy\n"
        "RUN mkdir /data\n"
        "RUN echo done > /data/ok\n"
        f"ENV _F_IMG_ID={spec.id}\n"
        'ENTRYPOINT ["/bin/sh"]\n'
    )


def test_a_spec_without_a_base_starts_from_debian_s_python_of_its_version():
    assert render_containerfile(ImageSpec(name="x", python_version="3.12")).startswith(
        "FROM docker.io/library/python:3.12-slim-bookworm\n"
    )


def test_what_loom_build_cannot_build_is_refused_naming_the_spec_and_field():
    with pytest.raises(ValidationError, match="ImageSpec 'x': loom build does not support conda_packages"):
        render_containerfile(ImageSpec(name="x", conda_packages=["numpy"]))


def test_the_specs_of_a_module_s_tasks_come_bases_first_each_once():
    base = ImageSpec(name="base", packages=["a"])
    child = ImageSpec(name="child", base_image=base, packages=["b"])

    @task(container_image=child)
    def one() -> None:
        pass

    raw = ContainerTask(name="raw", image=child, command=["true"])
    module = SimpleNamespace(one=one, raw=raw, base=base)
    assert [spec.name for spec in referenced_specs(module)] == ["base", "child"]
    assert render_containerfile(child).startswith(f"FROM {base.image_name()}\n")


PROGRAM = f'''
from taskloom import ContainerTask, ImageSpec, kwtypes

spec = ImageSpec(
    name="taskloom-built",
    base_image="{podman_setup.BUSYBOX_IMAGE}",
    env={{"GREETING": "hej"}},
    commands=["echo built > /built.txt"],
)

show = ContainerTask(
    name="show",
    image=spec,
    command=["sh", "-c", "cat /built.txt > /var/outputs/built; echo $GREETING $_F_IMG_ID > /var/outputs/env"],
    outputs=kwtypes(built=str, env=str),
    output_data_dir="/var/outputs",
)
'''


def test_loom_build_builds_the_image_a_task_then_runs_in(podman, tmp_path):
    program = tmp_path / "images.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [LOOM, "build", str(program)], capture_output=True, text=True, env=os.environ, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    spec = ImageSpec(
        name="taskloom-built",
        base_image=podman_setup.BUSYBOX_IMAGE,
        env={"GREETING": "hej"},
        commands=["echo built > /built.txt"],
    )
    assert f"built {spec.image_name()}" in done.stdout
    show = ContainerTask(
        name="show",
        image=spec,
        command=["sh", "-c", "cat /built.txt > /var/outputs/built; echo $GREETING $_F_IMG_ID > /var/outputs/env"],
        outputs=kwtypes(built=str, env=str),
        output_data_dir="/var/outputs",
    )
    assert show() == ("built\n", f"hej {spec.id}\n")


def test_a_failing_build_names_the_spec_with_the_build_s_last_lines(podman, tmp_path):
    program = tmp_path / "broken.py"
    program.write_text(
        "from taskloom import ContainerTask, ImageSpec\n"
        f"spec = ImageSpec(name='broken', base_image='{podman_setup.BUSYBOX_IMAGE}',"
        " commands=[\"echo 'cannot fetch mirror' >&2; exit 7\"])\n"
        "t = ContainerTask(name='t', image=spec, command=['true'])\n"
    )
    done = subprocess.run(
        [LOOM, "build", str(program)], capture_output=True, text=True, env=os.environ, timeout=300, check=False
    )
    assert done.returncode != 0
    assert "ImageSpec 'broken'" in done.stderr and "cannot fetch mirror" in done.stderr
    assert "Traceback" not in done.stderr
