"""The commands taskloom-local adds to ``loom``: ``loom cache list|clear`` (the local task cache) and
``loom executions list|show|prune`` (the execution store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import click

from taskloom_local.cache import CacheError, LocalCache


@click.group("cache")
def cache_command() -> None:
    """Show or empty the local task cache."""


@cache_command.command("list")
def list_command() -> None:
    """List cached task outputs, newest first."""
    cache = LocalCache()
    try:
        entries = cache.entries()
    except CacheError as error:
        raise click.ClickException(str(error)) from error
    if not entries:
        click.echo(f"The cache is empty ({cache.path}).")
        return
    _table(
        ("TASK", "VERSION", "INPUTS", "CREATED", "PROJECT"),
        [(entry.task, entry.version, entry.inputs[:12], _when(entry.created), entry.project) for entry in entries],
    )


@cache_command.command("clear")
@click.option("--task", "task_name", help="Only the entries of this task (its full name, as `loom cache list` shows).")
def clear_command(task_name: str | None) -> None:
    """Delete cached task outputs (all, or one task's).

    A cache file that cannot be opened or emptied (corrupt, written by a newer taskloom, on a full
    disk) is removed, and made again when a cached task next runs.
    """
    cache = LocalCache()
    try:
        removed = cache.clear(task_name)
    except CacheError as error:
        if task_name is not None:  # removing the file would remove every other task's entries too
            raise click.ClickException(f"{error}; `loom cache clear` without --task removes the file") from error
        try:
            discarded = cache.discard()
        except CacheError as failure:
            raise click.ClickException(str(failure)) from failure
        if not discarded:
            raise click.ClickException(str(error)) from error
        click.echo(
            f"Removed the task cache {cache.path}, which could not be used ({error.reason}); a cached task makes it again."
        )
        return
    click.echo(f"Removed {removed} cached {'entry' if removed == 1 else 'entries'}.")


@click.group("executions")
def executions_command() -> None:
    """List, show or prune recorded local executions (resume one with loom run ... --resume ID)."""


@executions_command.command("list")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show at most this many, newest first."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def executions_list_command(limit: int, as_json: bool) -> None:
    """List recorded executions, newest first."""
    from taskloom_local.store import ExecutionStore

    store = ExecutionStore()
    records = store.executions(limit)
    if as_json:
        import json

        click.echo(json.dumps([record.to_dict() for record in records], indent=2))
        return
    if not records:
        click.echo(f"No executions are recorded ({store.directory}).")
        return
    rows = [
        (record.id, record.state, _when(record.started), _seconds(record.duration), f"{record.kind} {record.entity}")
        for record in records
    ]
    _table(("ID", "STATUS", "STARTED", "DURATION", "ENTITY"), rows)


@executions_command.command("show")
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="Print the execution and its nodes as JSON.")
def executions_show_command(execution_id: str, as_json: bool) -> None:
    """Show an execution and its nodes (status, attempts, durations, errors)."""
    from taskloom_local.store import ExecutionStore

    store = ExecutionStore()
    record = store.execution(execution_id)
    if record is None:
        raise click.ClickException(f"no execution {execution_id!r} is recorded in {store.directory}")
    nodes = store.nodes(execution_id)
    if as_json:
        import json

        click.echo(json.dumps({**record.to_dict(), "nodes": [node.to_dict() for node in nodes]}, indent=2))
        return
    _show_execution(store, record)
    if not nodes:
        click.echo("  no nodes recorded")
        return
    _show_nodes(record, nodes)


def _show_execution(store: Any, record: Any) -> None:
    """The lines of ``loom executions show`` about the execution itself."""
    click.echo(f"execution {record.id}: {record.kind} {record.entity}, {record.state}")
    source = " ".join(filter(None, [record.file, f"(module {record.module})" if record.module else None]))
    if source:
        click.echo(f"  from      {source}")
    ended = f", finished {_when(record.finished)} ({_seconds(record.duration)})" if record.finished else ""
    resumed = f"; resumed {record.resumes} time{'s' if record.resumes != 1 else ''}" if record.resumes else ""
    click.echo(f"  started   {_when(record.started)}{ended}{resumed}")
    if record.status == "running":
        click.echo(f"  process   {record.pid} on {record.host}{'' if record.process_alive else ' (gone)'}")
    click.echo(f"  data      {store.execution_directory(record.id)}")
    if record.note:
        click.echo(f"  note      {record.note}")
    if record.error:
        click.echo("  error     " + record.error.replace("\n", "\n            "))
    if record.state in ("failed", "interrupted"):
        click.echo(f"  resume    loom run FILE ENTITY --resume {record.id}")


def _show_nodes(record: Any, nodes: list[Any]) -> None:
    """The table of ``loom executions show`` with a row per recorded node, its notes, and the nodes' errors."""
    from taskloom_local.store import STORED, SUPERSEDED, UNRECORDED

    outputs = {STORED: "recorded", SUPERSEDED: "not needed", UNRECORDED: "NOT RECORDED", None: "-"}
    rows = []
    errors = []
    for node in nodes:
        status = "interrupted" if node.status == "running" and record.state != "running" else node.status
        rows.append(
            (
                node.path,
                status,
                str(node.attempts),
                _seconds(node.duration),
                outputs.get(node.outputs_state, "-"),
                _children(node),
                node.entity,
            )
        )
        if node.error:
            errors.append((node.path, node.error))
    click.echo()
    _table(("NODE", "STATUS", "ATTEMPTS", "DURATION", "OUTPUTS", "CHILDREN", "ENTITY"), rows)
    if any(node.children_succeeded or node.children_failed for node in nodes):
        click.echo(
            "\nCHILDREN counts what a node started (map elements, eager calls, the nodes of a subworkflow or "
            "dynamic graph) once it finished; those that succeeded have no row of their own."
        )
    superseded = sum(node.outputs_state == SUPERSEDED for node in nodes)
    if superseded:
        click.echo(
            f"\nThe outputs of {superseded} node{'s' if superseded != 1 else ''} were not needed: every node that "
            "reads them had finished when they were recorded, so a resume skips them without reading them."
        )
    if any(node.outputs_state == UNRECORDED for node in nodes):
        click.echo("Nodes whose outputs are NOT RECORDED could not be made literals: a resume runs them again.")
    for path, error in errors:
        click.echo(f"\n{path}: " + error.replace("\n", "\n  "))


@executions_command.command("prune")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    help="Delete executions that ended more than AGE ago: 7d, 12h, 30m, 45s (or 2w).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
def executions_prune_command(older_than: str, dry_run: bool) -> None:
    """Delete old executions with their nodes and files (running executions are kept)."""
    from taskloom_local.store import ExecutionStore, parse_age

    try:
        age = parse_age(older_than)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="'--older-than'") from error
    removed = ExecutionStore().prune(age, dry_run=dry_run)
    for record in removed:
        click.echo(
            f"{'would delete' if dry_run else 'deleted'} {record.id} ({record.state}, {record.entity}, started {_when(record.started)})"
        )
    count = len(removed)
    noun = "execution" if count == 1 else "executions"
    click.echo(f"{'Would delete' if dry_run else 'Deleted'} {count} {noun}.")


def _children(node: Any) -> str:
    if node.children_succeeded is None and node.children_failed is None:
        return "-"
    failed = f", {node.children_failed} failed" if node.children_failed else ""
    return f"{node.children_succeeded or 0} ok{failed}"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp).isoformat(sep=" ", timespec="seconds")


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(line[index])) for line in (headers, *rows)) for index in range(len(headers) - 1)]
    for line in (headers, *rows):
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + "  " + str(line[-1]))
