"""``loom report EXECUTION_ID -o report.html`` and ``loom run ... --report report.html``."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from taskloom.extend import SystemException, UserException, get_plugin_manager, hookimpl, run_option

#: ``loom run --report PATH`` sets it: the report of the run is written there when it ends.
REPORT_ENV = "TASKLOOM_REPORT"
#: The run-time plugin that writes it (registered by the option, for the run of this ``loom run`` only).
LISTENER = "report-when-finished"
#: taskloom-local's setting that keeps each node's printed and logged output in the execution store.
CAPTURE_LOGS_ENV = "TASKLOOM_CAPTURE_LOGS"


@click.command("report")
@click.argument("execution_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="The HTML file to write (default: report-EXECUTION_ID.html here).",
)
def report_command(execution_id: str, output: str | None) -> None:
    """Write the report of a recorded execution: one self-contained HTML page (graph, timeline, every node's
    inputs, outputs, errors, cache, decks), finished or still running.
    """
    from taskloom_report.execution_report import write_report

    try:
        target = write_report(execution_id, output or f"report-{execution_id}.html")
    except (UserException, SystemException) as error:  # an unknown id, a store that cannot be read: one line
        raise click.ClickException(str(error)) from error
    click.echo(f"Wrote the report of execution {execution_id} to {target}")


class ReportWhenFinished:
    """A listener registered for one ``loom run --report PATH``: when an execution of the run ends, its report
    is written to ``path`` (an execution the run's body started, as an eager call's, ends before the run's,
    whose report is the one left).

    Registered at run time rather than a lifecycle hook of the plugin: a lifecycle hook would make every run
    of every program build event objects; this costs only the runs that asked for a report.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @hookimpl
    def taskloom_execution_finished(self, event: Any) -> None:
        """Write the report of ``event``'s execution; a failure to do so is one line on standard error."""
        from taskloom_report.execution_report import write_report

        try:
            target = write_report(event.execution_id, self.path)
        except (UserException, SystemException) as error:
            sys.stderr.write(f"taskloom-report: no report written: {error}\n")
            return
        sys.stderr.write(f"Wrote the report of execution {event.execution_id} to {target}\n")


def report_option() -> click.Option:
    """``loom run --report PATH``: sets :data:`REPORT_ENV`, turns on the capture of nodes' logs
    (:data:`CAPTURE_LOGS_ENV`, unless set otherwise) and registers :class:`ReportWhenFinished`."""
    option = run_option(
        "--report",
        envvar=REPORT_ENV,
        metavar="PATH",
        type=click.Path(dir_okay=False),
        help="Write the run's report (a self-contained HTML page) to PATH when it ends",
    )
    set_variable = option.callback
    assert set_variable is not None

    def apply(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        set_variable(ctx, param, value)
        if value:
            os.environ.setdefault(CAPTURE_LOGS_ENV, "1")
            get_plugin_manager().register(ReportWhenFinished(str(value)), name=LISTENER)

    option.callback = apply
    return option
