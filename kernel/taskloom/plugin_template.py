"""``loom plugin new NAME [--path DIR]``: a new plugin distribution, rendered from taskloom's plugin template.

The template is ``plugin-template/`` in taskloom's repository, a `copier <https://copier.readthedocs.io>`_
template; this distribution ships it as package data (``taskloom/templates/plugin``), so an installed kernel
renders it without a checkout. copier is not a dependency of the kernel: it brings about twenty distributions
(jinja2, pydantic, questionary, plumbum...) that nothing else here needs, so it is imported only when a plugin is
rendered and comes with the extra ``taskloom-kernel[template]`` (``docs/architecture.md`` says why the command
lives here).
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from taskloom import __version__
from taskloom.exceptions.user import UserException
from taskloom.plugins import PLUGIN_API

#: The copier template's directory inside the installed kernel.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "plugin"

#: A plugin's name: its package is ``taskloom_NAME``, so an identifier in lower case.
PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]*")

#: What to install when copier is missing.
TEMPLATE_EXTRA = "taskloom-kernel[template]"


class PluginTemplateError(UserException):
    """The plugin template could not be rendered: copier is missing, a name is invalid or the directory is taken."""

    error_code = "USER:PluginTemplateError"


def render_plugin(
    name: str,
    destination: Path,
    *,
    description: str | None = None,
    author: str | None = None,
    kernel_min: str | None = None,
) -> Path:
    """Render the plugin template for the plugin ``name`` into ``destination`` and return that directory.

    The plugin supports this kernel's version and later ones (``kernel_min``, by default
    ``taskloom.__version__``) and declares this kernel's plugin API (``TASKLOOM_API``). Raises
    :class:`PluginTemplateError` when copier is not installed, ``name`` is not a valid plugin name, or
    ``destination`` exists and is not empty.
    """
    if not PLUGIN_NAME.fullmatch(name):
        raise PluginTemplateError(
            f"loom plugin new: NAME expects lower-case letters, digits and underscores starting with a letter "
            f"(the package is taskloom_NAME), got {name!r}"
        )
    if destination.exists() and any(destination.iterdir()):
        raise PluginTemplateError(f"loom plugin new {name}: the directory {str(destination)!r} exists and is not empty")
    try:
        import copier  # heavy: 20 distributions, ~0.45 s to import (measured); optional, see the module docstring
    except ImportError as error:
        raise PluginTemplateError(f"loom plugin new needs copier: pip install '{TEMPLATE_EXTRA}'") from error
    data = {"name": name, "kernel_min": kernel_min or __version__, "plugin_api": PLUGIN_API}
    if description is not None:
        data["description"] = description
    if author is not None:
        data["author"] = author
    try:
        copier.run_copy(str(TEMPLATE), str(destination), data=data, defaults=True, quiet=True, unsafe=False)
    except ValueError as error:  # copier's answer validation (an invalid kernel_min...)
        raise PluginTemplateError(f"loom plugin new {name}: {error}") from error
    return destination


@click.group("plugin")
def plugin_command() -> None:
    """Create taskloom plugins."""


@plugin_command.command("new")
@click.argument("name")
@click.option(
    "--path",
    "path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to create (default: ./taskloom-NAME).",
)
@click.option("--description", help="One line saying what the plugin adds.")
@click.option("--author", help="The author's name, for pyproject.toml.")
@click.option(
    "--kernel-min",
    help=f"The lowest taskloom-kernel version the plugin supports (default: this kernel, {__version__}).",
)
def new_command(
    name: str, path: Path | None, description: str | None, author: str | None, kernel_min: str | None
) -> None:
    """Render taskloom's plugin template as the distribution taskloom-NAME (package taskloom_NAME).

    The result passes ruff, mypy and its own tests as rendered; `copier update` in it brings in later versions
    of the template.
    """
    destination = path if path is not None else Path(f"taskloom-{name.replace('_', '-')}")
    render_plugin(name, destination, description=description, author=author, kernel_min=kernel_min)
    click.echo(f"created {destination}: cd {destination} && pip install -e '.[testing]' && pytest")
