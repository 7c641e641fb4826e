"""``loom cache list`` and ``loom cache clear``: the local task cache from the command line."""

from __future__ import annotations

import datetime as dt

import click

from taskloom_local.cache import LocalCache


@click.group("cache")
def cache_command() -> None:
    """Show or empty the local task cache."""


@cache_command.command("list")
def list_command() -> None:
    """List cached task outputs, newest first."""
    cache = LocalCache()
    rows = list(cache.entries())
    if not rows:
        click.echo(f"The cache is empty ({cache.path}).")
        return
    click.echo(f"{'TASK':<40} {'VERSION':<24} {'INPUTS':<14} CREATED")
    for task, version, inputs, created in rows:
        when = dt.datetime.fromtimestamp(created).isoformat(sep=" ", timespec="seconds")
        click.echo(f"{task:<40} {version:<24} {inputs[:12]:<14} {when}")


@cache_command.command("clear")
@click.option("--task", "task_name", help="Only the entries of this task (its full name).")
def clear_command(task_name: str | None) -> None:
    """Delete cached task outputs (all, or one task's)."""
    removed = LocalCache().clear(task_name)
    click.echo(f"Removed {removed} cached {'entry' if removed == 1 else 'entries'}.")
