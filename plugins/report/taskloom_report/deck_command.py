"""``loom deck EXECUTION_ID NODE``: the path of a node's deck page, for a browser or a script."""

from __future__ import annotations

import os

import click
from taskloom.extend import UserValueError, execution_directory

from taskloom_report.decks import deck_path


@click.command("deck")
@click.argument("execution_id")
@click.argument("node")
def deck_command(execution_id: str, node: str) -> None:
    """Print the path of the deck page of NODE (``n3``, ``n1-n0``, a map element ``n2-5``) in the
    recorded execution EXECUTION_ID (``loom executions list`` shows them)."""
    click.echo(find_deck(execution_id, node))


def find_deck(execution_id: str, node: str) -> str:
    """The deck page of ``node`` in ``execution_id``.

    Raises :class:`~taskloom.extend.UserValueError`, one line, when executions are not recorded
    here, the execution has no directory in the store, or the node has no deck (naming those that do).
    """
    directory = execution_directory(execution_id)
    if directory is None:
        raise UserValueError(
            f"execution {execution_id!r}: no installed executor records executions here (is TASKLOOM_RECORD=0?)"
        )
    if not os.path.isdir(directory):
        raise UserValueError(f"execution {execution_id!r} is not in the execution store (no directory {directory})")
    path = deck_path(execution_id, node)
    if path is None or not os.path.isfile(path):
        decks_directory = os.path.join(directory, "decks")
        found = sorted(
            name[: -len(".html")]
            for name in (os.listdir(decks_directory) if os.path.isdir(decks_directory) else [])
            if name.endswith(".html") and not name.startswith(".")
        )
        have = f"nodes with decks: {', '.join(found)}" if found else "none of its nodes has a deck"
        raise UserValueError(f"execution {execution_id!r} has no deck for node {node!r} ({have})")
    return path
