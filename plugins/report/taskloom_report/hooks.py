"""taskloom-report's hook implementations, and nothing else (the entry point ``report = "taskloom_report.hooks"``).

The kernel imports this module the first time one of its hooks is called (every ``loom`` command and every run
asks for options and commands), so it stays cheap: the modules that read the store and build pages are imported
inside the hooks that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskloom.extend import hookimpl

if TYPE_CHECKING:
    import click

#: The plugin API this plugin was written for: a kernel offering another major version, or an older minor one,
#: reports the plugin by name (``loom plugins``) and does not load it.
TASKLOOM_API = "1.5"


@hookimpl
def taskloom_cli_commands() -> list[click.Command]:
    """``loom report EXECUTION_ID -o report.html``."""
    from taskloom_report.cli import report_command  # click and the command: only when loom asks for commands

    return [report_command]


@hookimpl
def taskloom_run_options() -> list[click.Option]:
    """``loom run ... --report report.html``."""
    # Here, not at the top: click is imported by the command line only, and every run loads this module.
    from taskloom_report.cli import report_option

    return [report_option()]
