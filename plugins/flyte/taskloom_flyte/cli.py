"""``loom serialize`` and ``loom package`` (``loom register`` lives in :mod:`taskloom_flyte.register`)."""

from __future__ import annotations

from typing import Any

import click


def _settings(images: tuple[str, ...], project: str, domain: str, env: tuple[str, ...]) -> Any:
    from taskloom.extend import DEFAULT_IMAGE, SerializationSettings

    default_image = DEFAULT_IMAGE
    named: dict[str, str] = {}
    for image in images:
        name, separator, value = image.partition("=")
        if not separator or "/" in name or ":" in name:  # IMAGE alone (it may hold ':' and '/', never '=')
            default_image = image
        elif name == "default":
            default_image = value
        else:
            named[name] = value
    variables = {}
    for item in env:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
        variables[key] = value
    return SerializationSettings(
        project=project, domain=domain, default_image=default_image, env=variables or None, images=named or None
    )


def _common(function: Any) -> Any:
    options = [
        click.argument("target", metavar="MODULE_OR_DIR"),
        click.option(
            "--image",
            "-i",
            "images",
            multiple=True,
            help="default=IMAGE (or IMAGE): the image of tasks that name none; NAME=IMAGE: what {{.image.NAME}} means",
        ),
        click.option("--project", "-p", default="", help="project of every identifier (empty: chosen at registration)"),
        click.option("--domain", "-d", default="", help="domain of every identifier (empty: chosen at registration)"),
        click.option(
            "--version", "version", default=None, help="version of every entity (default: git commit or code digest)"
        ),
        click.option("--env", "-e", multiple=True, help="NAME=VALUE added to every task's container environment"),
        click.option(
            "--fast", is_flag=True, help="fast registration: ship the source tree as a tarball beside the package"
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _build(
    target: str,
    images: tuple[str, ...],
    project: str,
    domain: str,
    version: str | None,
    env: tuple[str, ...],
    fast: bool,
) -> Any:
    from taskloom_flyte.package import load_program, serialize_program

    settings = _settings(images, project, domain, env)
    program = load_program(target)
    return serialize_program(program, settings, version=version, fast=fast)


@click.command("serialize")
@_common
@click.option("--output", "-o", "output", default=".", show_default=True, help="directory for the .pb files")
def serialize_command(
    target: str,
    images: tuple[str, ...],
    project: str,
    domain: str,
    version: str | None,
    env: tuple[str, ...],
    fast: bool,
    output: str,
) -> None:
    """Write the tasks, workflows and launch plans of MODULE_OR_DIR as Flyte's protobuf files."""
    from taskloom_flyte.package import write_directory

    package = _build(target, images, project, domain, version, env, fast)
    written = write_directory(package, output)
    click.echo(f"wrote {len(written)} files to {output} (version {package.version})")


@click.command("package")
@_common
@click.option("--output", "-o", "output", default="flyte-package.tgz", show_default=True, help="the archive to write")
@click.option("--force", is_flag=True, help="overwrite the archive if it exists")
def package_command(
    target: str,
    images: tuple[str, ...],
    project: str,
    domain: str,
    version: str | None,
    env: tuple[str, ...],
    fast: bool,
    output: str,
    force: bool,
) -> None:
    """Write the tasks, workflows and launch plans of MODULE_OR_DIR into one archive for registration."""
    from taskloom_flyte.package import check_archive_path, write_archive

    check_archive_path(output, force=force)  # before the program is imported and serialized
    package = _build(target, images, project, domain, version, env, fast)
    write_archive(package, output)
    click.echo(f"wrote {output}: {len(package.files)} files (version {package.version})")
