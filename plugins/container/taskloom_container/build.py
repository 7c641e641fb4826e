"""``loom build FILE``: a Containerfile for every ImageSpec a program's tasks use, built with podman or docker.

The images are built here, into the runtime's local store, under the names templates give them
(:meth:`~taskloom_container.image_spec.ImageSpec.image_name`), so that a local run of a task naming a spec
finds its image; pushing to ``registry`` is left to ``podman push`` / ``docker push``. A spec whose
``base_image`` is another spec is built after it.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click
from taskloom.extend import PythonTask, ValidationError, entities_of, load_module

from taskloom_container.image_spec import ImageSpec
from taskloom_container.runtime import ContainerError, ContainerRuntime, find_runtime

#: The base of a spec that names none: Debian's Python image of the spec's Python version (flytekit's default
#: builder starts from its own image, which is not published for taskloom).
DEFAULT_BASE = "docker.io/library/python:{python_version}-slim-bookworm"
#: The Python version of that base when the spec names none.
DEFAULT_PYTHON = "3.11"

# Fields loom build cannot honour: a spec using them is refused by name rather than built without them.
_UNSUPPORTED = ("conda_packages", "conda_channels", "cuda", "cudnn", "source_root", "copy", "pip_secret_mounts")


def referenced_specs(module: Any) -> list[ImageSpec]:
    """The ImageSpecs a module's top-level tasks use, and those assigned to its top-level names, bases first."""
    found: list[ImageSpec] = [value for value in vars(module).values() if isinstance(value, ImageSpec)]
    for entity in entities_of(module).values():
        if isinstance(entity, PythonTask):
            for image in (entity.container_image, getattr(entity, "_image", None)):
                if isinstance(image, ImageSpec):
                    found.append(image)
    ordered: list[ImageSpec] = []
    seen: set[str] = set()

    def add(spec: ImageSpec) -> None:
        if isinstance(spec.base_image, ImageSpec):
            add(spec.base_image)
        if spec.image_name() not in seen:
            seen.add(spec.image_name())
            ordered.append(spec)

    for spec in found:
        add(spec)
    return ordered


def render_containerfile(spec: ImageSpec) -> str:
    """The Containerfile that builds ``spec``: base, environment, apt and pip packages, commands, the spec's id.

    Raises :class:`~taskloom.extend.ValidationError` naming the spec and the field for what it cannot build
    (conda, CUDA, copied sources, pip secrets).
    """
    for field in _UNSUPPORTED:
        if getattr(spec, field):
            raise ValidationError(f"ImageSpec {spec.name!r}: loom build does not support {field}")
    if isinstance(spec.base_image, ImageSpec):
        base = spec.base_image.image_name()
    else:
        base = spec.base_image or DEFAULT_BASE.format(python_version=spec.python_version or DEFAULT_PYTHON)
    python = spec.python_exec or "python3"
    lines = [f"FROM {base}"]
    for key, value in (spec.env or {}).items():
        lines.append(f"ENV {key}={json.dumps(value)}")
    if spec.apt_packages:
        packages = " ".join(shlex.quote(name) for name in spec.apt_packages)
        lines.append(
            "RUN apt-get update && apt-get install -y --no-install-recommends "
            f"{packages} && rm -rf /var/lib/apt/lists/*"
        )
    pip = [python, "-m", "pip", "install", "--no-cache-dir"]
    if spec.pip_index:
        pip += ["--index-url", spec.pip_index]
    for url in spec.pip_extra_index_url or []:
        pip += ["--extra-index-url", url]
    extra = shlex.split(spec.pip_extra_args) if spec.pip_extra_args else []
    if spec.requirements:
        lines.append("COPY requirements.txt /tmp/requirements.txt")
        lines.append("RUN " + shlex.join([*pip, *extra, "-r", "/tmp/requirements.txt"]))
    if spec.packages:
        lines.append("RUN " + shlex.join([*pip, *extra, *spec.packages]))
    for command in spec.commands or []:
        lines.append(f"RUN {command}")
    # What is_container() compares inside a task's container (flytekit's builders set the same variable).
    lines.append(f"ENV _F_IMG_ID={spec.id}")
    if spec.entrypoint is not None:
        lines.append(f"ENTRYPOINT {json.dumps(spec.entrypoint)}")
    return "\n".join(lines) + "\n"


def build_spec(spec: ImageSpec, runtime: ContainerRuntime) -> str:
    """Build ``spec`` with ``runtime`` under its image name and return the name; a failed build raises
    :class:`~taskloom_container.runtime.ContainerError` with the build's last lines."""
    name = spec.image_name()
    with tempfile.TemporaryDirectory(prefix="taskloom-build-") as context:
        (Path(context) / "Containerfile").write_text(render_containerfile(spec))
        if spec.requirements:
            shutil.copyfile(spec.requirements, Path(context) / "requirements.txt")
        runtime.build(f"ImageSpec {spec.name!r}", name, Path(context))
    return name


@click.command("build")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--runtime", "runtime_name", default=None, help="podman or docker (default: the first that works)")
@click.option("--dry-run", is_flag=True, help="print each Containerfile instead of building")
def build_command(file: str, runtime_name: str | None, dry_run: bool) -> None:
    """Build the image of every ImageSpec FILE's tasks use (taskloom-container)."""
    specs = referenced_specs(load_module(file))
    if not specs:
        click.echo(f"{file}: no task uses an ImageSpec")
        return
    if dry_run:
        for spec in specs:
            click.echo(f"# {spec.image_name()}\n{render_containerfile(spec)}")
        return
    runtime = find_runtime(f"loom build {file}", runtime_name)
    for spec in specs:
        try:
            click.echo(f"built {build_spec(spec, runtime)}")
        except (ContainerError, ValidationError, subprocess.SubprocessError) as error:
            raise click.ClickException(str(error)) from error
