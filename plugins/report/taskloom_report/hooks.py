"""taskloom-report's hook implementations, and nothing else (the entry point ``report = "taskloom_report.hooks"``).

The kernel imports this module the first time one of its hooks is called (every ``loom`` command and every run
asks for options and commands), so it stays cheap: the modules that read the store and build pages are imported
inside the hooks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

if TYPE_CHECKING:
    import click

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.6"


@hookimpl
def taskloom_cli_commands() -> list[click.Command]:
    """``loom report EXECUTION_ID -o report.html`` and ``loom deck EXECUTION_ID NODE``."""
    # click and the commands: only when loom asks for commands.
    from taskloom_report.cli import report_command
    from taskloom_report.deck_command import deck_command

    return [report_command, deck_command]


@hookimpl
def taskloom_run_options() -> list[click.Option]:
    """``loom run ... --report report.html``."""
    # Here, not at the top: click is imported by the command line only, and every run loads this module.
    from taskloom_report.cli import report_option

    return [report_option()]


# --- decks (issue 27, point 1) ---------------------------------------------------------------


@hookimpl
def taskloom_task_decks(
    task: Any,
    decks: list[Any],
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    execution_id: str,
    node_path: str | None,
    timeline: list[dict[str, Any]],
    output_prefix: str | None,
) -> None:
    # Called only for tasks with enable_deck: the page's modules are imported then.
    from taskloom_report.decks import write_decks

    write_decks(task, decks, inputs, outputs, execution_id, node_path, timeline, output_prefix)
