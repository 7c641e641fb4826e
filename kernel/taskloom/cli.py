"""The ``loom`` command line shell.

The kernel provides the shell, ``--version``, ``--verbose`` and ``loom plugins``; every other
subcommand is contributed by a plugin through :func:`~taskloom.hookspecs.taskloom_cli_commands`.
``loom --help`` lists plugin commands from entry-point metadata (``taskloom.commands``) without
importing any plugin; a plugin is imported when one of its commands runs.

Errors raised by taskloom (:class:`~taskloom.exceptions.TaskloomException`) are printed as one line
and exit with status 1; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from taskloom import __version__
from taskloom.exceptions import TaskloomException
from taskloom.exceptions.system import PluginError, PluginWarning
from taskloom.plugins import distribution_of, get_plugin_manager


def _plugin_manager() -> Any:
    return get_plugin_manager()


# Built-in commands whose modules are heavy to import: name -> (module, attribute, short help).
_LAZY_BUILTINS: dict[str, tuple[str, str, str]] = {
    "run": ("taskloom.run", "run_command", "Run a task or workflow of a Python file."),
    "plugin": ("taskloom.plugin_template", "plugin_command", "Create a new plugin from taskloom's plugin template."),
}


class LoomGroup(click.Group):
    """A click group whose plugin subcommands are found lazily through the plugin manager."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_LAZY_BUILTINS) | set(_plugin_manager().command_owners()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in _LAZY_BUILTINS:
            import importlib

            module, attribute, _ = _LAZY_BUILTINS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command

        manager = _plugin_manager()
        owner = manager.command_owners().get(cmd_name)
        if owner is not None:
            try:
                manager.load(owner)
            except PluginError as error:
                raise click.UsageError(f"command {cmd_name!r} is unavailable: {error}", ctx) from error
        for commands in manager.hook.taskloom_cli_commands():
            for command in commands:
                if command.name == cmd_name:
                    return command
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's default asks every command for its short help, which would import every plugin.
        rows = [(name, command.get_short_help_str(limit=60)) for name, command in self.commands.items()]
        rows += [(name, short_help) for name, (_, _, short_help) in _LAZY_BUILTINS.items()]
        rows += [
            (name, f"(from plugin {owner!r})")
            for name, owner in _plugin_manager().command_owners().items()
            if name not in self.commands and name not in _LAZY_BUILTINS
        ]
        rows.sort()
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LoomGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="loom", message="%(prog)s (taskloom) %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """taskloom: run typed tasks and workflows locally, at scale, or on a Flyte cluster."""
    ctx.obj = {"verbose": verbose}


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins, the hooks each implements, and those that failed to load."""
    import warnings

    manager = _plugin_manager()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # failures are listed below, not warned about
        manager.load_all()
    rows = []
    for record in manager.records():
        distribution, version = distribution_of(record.module)
        rows.append(
            {
                "name": record.name,
                "distribution": distribution,
                "version": version,
                "module": record.module,
                "standard": record.standard,
                "state": record.state,
                "hooks": list(record.hooks),
                "error": f"{type(record.error).__name__}: {record.error}" if record.error else None,
            }
        )
    if as_json:
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No taskloom plugins are installed.")
        return
    headers = ("NAME", "DISTRIBUTION", "VERSION", "STATE", "HOOKS")
    table = [
        (row["name"], row["distribution"] or "-", row["version"] or "-", row["state"], ", ".join(row["hooks"]) or "-")
        for row in rows
    ]
    widths = [max(len(str(line[index])) for line in (headers, *table)) for index in range(len(headers) - 1)]
    for line in (headers, *table):
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
    failed = [row for row in rows if row["state"] == "failed"]
    if failed:
        click.echo("\nPlugins that failed to load:")
        for row in failed:
            source = f" ({row['distribution']} {row['version']})" if row["distribution"] else ""
            click.echo(f"  {row['name']}{source}: {row['error']}")


def _show_plugin_warnings_plainly() -> None:
    # A skipped plugin is news for a user, not a stack location inside taskloom.
    import warnings

    original = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, PluginWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            original(message, category, *args, **kwargs)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``loom`` console script."""
    _show_plugin_warnings_plainly()
    verbose = any(argument in ("-v", "--verbose") for argument in (argv if argv is not None else sys.argv[1:]))
    try:
        status = cli.main(args=argv, prog_name="loom", standalone_mode=False)
        if isinstance(status, int) and status:  # click returns ctx.exit()'s status in this mode
            sys.exit(status)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort as error:
        click.echo("Aborted!", err=True)
        sys.exit(130 if isinstance(error.__cause__, KeyboardInterrupt) else 1)  # Ctrl-C: as a shell reports it
    except TaskloomException as error:
        if verbose:
            raise
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
