"""``loom build`` (taskloom-container) makes the image of an ImageSpec, and a Python task packaged with that spec
(taskloom-flyte) runs in it through ``loom-execute``, as a Flyte pod would run it.

No registry is reachable here, so no base image with Python can be pulled: the spec is built from the tests'
busybox image (``env`` and ``commands`` go into it), and the container gets this machine's Python, the
virtual environment and the repository mounted read-only at their own paths. What the test shows is the
image's part: the file its commands wrote, the environment it sets, and ``ImageSpec.is_container()``
answering from the ``_F_IMG_ID`` that ``loom build`` put into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from flyteidl.admin import task_pb2

from plugins.container.tests import podman_setup
from plugins.flyte.tests.test_entrypoint import propeller_command

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]

PROGRAM = f"""
from taskloom import ImageSpec, task

spec = ImageSpec(
    name="taskloom-python-task",
    base_image="{podman_setup.BUSYBOX_IMAGE}",
    env={{"STAGE": "built"}},
    commands=["echo from-the-image > /built.txt"],
)


@task(container_image=spec)
def where() -> str:
    import os

    with open("/built.txt") as built:
        return f"{{spec.is_container()}} {{os.environ['STAGE']}} {{built.read().strip()}}"


@task(container_image="{podman_setup.BUSYBOX_IMAGE}")
def elsewhere() -> bool:
    return spec.is_container()
"""


@pytest.fixture(scope="module")
def podman() -> Iterator[dict[str, str]]:
    with podman_setup.private_podman() as environment:
        yield environment


def _run(arguments: list[str], environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        cwd=cwd,
        timeout=300,
        check=False,
    )


def _execute(template, output_type: type, app: Path, work: Path, environment: dict[str, str]) -> object:
    """Run the template's command line in its image as a Flyte pod would; return the task's one output."""
    from taskloom.core.type_engine import TypeEngine
    from taskloom_flyte.codec import literal_map_from_bytes, literal_map_to_bytes

    task_work = work / template.id.name
    task_work.mkdir(parents=True)
    (task_work / "inputs.pb").write_bytes(literal_map_to_bytes(TypeEngine.dict_to_literal_map(None, {}, {})))
    arguments, variables, _ = propeller_command(template, task_work, task_work / "inputs.pb")
    variables["XDG_CACHE_HOME"] = "/tmp/cache"
    # This machine's Python, the virtual environment and the repository (editable installs), read-only.
    # (/lib and /lib64 are symbolic links into /usr on Debian: the link's target is mounted at the link's path.)
    mounts = {
        str(path): str(Path(path).resolve()) for path in ("/usr", "/lib", "/lib64", sys.base_prefix, sys.prefix, ROOT)
    }
    command = ["podman", "run", "--rm", "--network=none", "-w", str(app)]
    for inside, source in sorted(mounts.items()):
        if Path(source).exists():
            command += ["-v", f"{source}:{inside}:ro"]
    command += ["-v", f"{app}:{app}:ro", "-v", f"{task_work}:{task_work}:rw"]
    for key, value in variables.items():
        command += ["-e", f"{key}={value}"]
    done = _run([*command, template.container.image, *arguments], environment, app)
    assert done.returncode == 0, done.stdout + done.stderr
    literals = literal_map_from_bytes((task_work / "outputs" / "outputs.pb").read_bytes())
    value = next(iter(literals.literals.values()))
    return TypeEngine.to_python_value(None, value, output_type)


def test_a_python_task_runs_through_loom_execute_in_the_image_loom_build_made(podman, tmp_path):
    app = tmp_path / "app"
    (app / "flows").mkdir(parents=True)
    (app / "flows" / "__init__.py").write_text("")
    (app / "flows" / "jobs.py").write_text(textwrap.dedent(PROGRAM))
    built = _run([str(BIN / "loom"), "build", "flows/jobs.py"], podman, app)
    assert built.returncode == 0, built.stdout + built.stderr
    serialized = tmp_path / "serialized"
    done = _run(
        [
            str(BIN / "loom"),
            "serialize",
            "flows",
            "--image",
            "default=example/app:1",
            "--version",
            "v1",
            "-o",
            str(serialized),
        ],
        podman,
        app,
    )
    assert done.returncode == 0, done.stderr
    templates = {}
    for path in serialized.glob("*_1.pb"):
        spec = task_pb2.TaskSpec()
        spec.ParseFromString(path.read_bytes())
        templates[spec.template.id.name] = spec.template
    where, elsewhere = templates["flows.jobs.where"], templates["flows.jobs.elsewhere"]
    assert where.container.image.startswith("taskloom-python-task:")
    assert built.stdout.strip().endswith(where.container.image)
    assert _execute(where, str, app, tmp_path / "work", podman) == "True built from-the-image"
    # In an image not built from the spec, the spec says so.
    assert _execute(elsewhere, bool, app, tmp_path / "work", podman) is False
