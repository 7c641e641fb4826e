"""``loom run FILE [ENTITY] [--input value ...]``: run a task, workflow or launch plan from a Python file.

Inputs become command-line options named after them, each parsed from its text by the type engine
(:meth:`~taskloom.core.type_engine.TypeEngine.from_text`, which asks the transformer of the input's
type), so a type parses on the command line when its transformer offers text parsing, a third
party's included. The standard transformers (taskloom-types) read numbers, strings, booleans
(``true``/``false``), ISO 8601 dates and datetimes, seconds for durations, enum values, paths for
files and directories, bytes as UTF-8 text, ``base64:`` or ``hex:``, and JSON for lists, dicts,
tuples, dataclasses, attrs classes and NamedTuples. ``loom run FILE ENTITY --help`` shows them with
their defaults; ``loom run FILE`` lists the entities of the file. Workflows run on the executor
named by ``--executor`` (or ``TASKLOOM_EXECUTOR``, ``local`` by default); outputs are printed, one per
line when there are several.

A file of a package is imported by its dotted module name from the project's root, as ``pyflyte
run`` imports it (see :mod:`taskloom.loader`). A file that cannot be imported is a
:class:`~taskloom.loader.ModuleLoadError`: one line naming the file, what was raised and the user's
line where it happened; ``loom --verbose`` shows the traceback. A wrong argument or input is one
line as well (:class:`RunUsageError`, status 2).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import typing
import warnings
from typing import Any

import click

from taskloom.core.executor import EXECUTOR_ENV, PROCESSES_ENV, get_executor, resume_execution
from taskloom.core.gate import send_signal
from taskloom.core.interface import NO_DEFAULT
from taskloom.core.type_engine import TypeEngine, type_name
from taskloom.exceptions.system import PluginWarning
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.loader import entities_of, kind_of, load_module
from taskloom.plugins import get_plugin_manager
from taskloom.run_options import run_option as run_option
from taskloom.storage import RAW_OUTPUT_PREFIX_ENV


class InputType(click.ParamType):
    """Parses one command-line value into the Python type of an input, with :meth:`TypeEngine.from_text`.

    ``owner`` names the input in errors, e.g. ``"task 'flows.clean': input 'rows'"``.
    """

    def __init__(self, python_type: Any, owner: str | None = None) -> None:
        self.python_type = python_type
        self.name = type_name(python_type)
        self.owner = owner

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default
        where = f"{self.owner}: " if self.owner else ""
        try:
            return TypeEngine.from_text(value, self.python_type)
        except TypeTransformerFailedError as error:
            if isinstance(error.__cause__, RecursionError):  # the text itself is too long to show
                self.fail(f"{where}the {self.name} given is nested too deeply to parse", param, ctx)
            self.fail(f"{where}{value!r} is not a valid {self.name}: {error}", param, ctx)
        except UnsupportedTypeError as error:
            self.fail(f"{where}{error}", param, ctx)


def entity_command(name: str, entity: Any, executor: str | None, resume: str | None = None) -> click.Command:
    """A click command whose options are the inputs of ``entity``; running it runs the entity.

    With ``resume`` (an execution id) it resumes that execution instead: every input is optional,
    and only those given on the command line are handed to the executor, which checks them against
    the recorded ones.
    """
    params: list[click.Parameter] = []
    for input_name, (python_type, default) in entity.python_interface.inputs_with_defaults.items():
        # click 8.3+ treats an explicit default=None as a default: pass none for required inputs.
        defaults = {"required": True} if default is NO_DEFAULT else {"default": default, "show_default": True}
        if resume:
            defaults = {}
        owner = f"{kind_of(entity)} {entity.name!r}: input {input_name!r}"
        help_text = TypeEngine.text_help(python_type)
        params.append(
            click.Option(
                [f"--{input_name}"],
                type=InputType(python_type, owner),
                metavar=type_name(python_type),
                help=help_text,
                **defaults,
            )
        )

    def run(**inputs: Any) -> None:
        if executor:
            os.environ[EXECUTOR_ENV] = executor
        if resume:
            source = click.get_current_context().get_parameter_source
            given = {
                key: value for key, value in inputs.items() if source(key) is click.core.ParameterSource.COMMANDLINE
            }
            types = entity.python_interface.inputs
            TypeEngine.check_values(
                given, {key: types[key] for key in given}, entity=f"{kind_of(entity)} {entity.name!r}"
            )
            result = resume_execution(resume, entity, given)
        elif kind_of(entity) == "task":
            # A task runs as a one-node execution of the executor: retries, timeout, cache and
            # storage apply as they do inside a workflow.
            TypeEngine.check_values(inputs, entity.python_interface.inputs, entity=f"task {entity.name!r}")
            result = get_executor().execute(entity, inputs)
        else:
            result = entity(**inputs)
        if inspect.isawaitable(result):  # an eager workflow's call gives a coroutine, as in flytekit
            import asyncio

            result = asyncio.run(_awaited(result))
        print_outputs(entity, result)

    return click.Command(
        name, params=params, callback=run, help=f"Run the {kind_of(entity)} {entity.name}. {entity.docs or ''}".strip()
    )


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def print_outputs(entity: Any, result: Any) -> None:
    """Print ``result``: one output as it is, several as ``name: value`` lines, none as nothing."""
    names = entity.python_interface.output_names
    if not names:
        return
    if len(names) == 1:
        click.echo(_show(result))
        return
    for output_name, value in zip(names, result):
        click.echo(f"{output_name}: {_show(value)}")


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


#: The name under which ``loom run`` registers the progress display for the duration of a run.
PROGRESS_PLUGIN = "loom-run-progress"


@contextlib.contextmanager
def showing_progress(mode: str, stream: typing.TextIO | None = None) -> typing.Iterator[None]:
    """Show the progress of what runs inside, on ``stream`` (standard error), as ``--progress`` says.

    ``mode`` is ``"never"`` (ask nobody), ``"auto"`` (live when ``stream`` is a terminal, plain
    lines otherwise) or ``"always"`` (live). The display is the first answer to the
    ``taskloom_progress_display`` hook, registered as a run-time plugin until the block ends, however
    it ends; runs started from Python have none, so they pay nothing for it.
    """
    if mode == "never":
        yield
        return

    stream = stream or sys.stderr
    interactive = mode == "always" or (_is_terminal(stream) and os.environ.get("TERM") != "dumb")
    manager = get_plugin_manager()
    answer = manager.hook.taskloom_progress_display(stream=stream, interactive=interactive)
    if answer is None:
        yield
        return
    manager.register(answer, name=PROGRESS_PLUGIN)
    try:
        yield
    finally:
        manager.unregister(PROGRESS_PLUGIN)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _send_signals(signals: tuple[str, ...]) -> None:
    # Sent to every execution of this process, that is to this run's, through the executor named by
    # TASKLOOM_EXECUTOR (set from --executor first): each gate parses its text with its expected type
    # when it waits (Gate.accept).
    for option in signals:
        name, separator, value = option.partition("=")
        if not separator or not name.strip():
            raise click.BadParameter(f"{option!r} is not NAME=VALUE", param_hint="'--signal'")
        send_signal(None, name.strip(), value, text=True)


class RunUsageError(click.UsageError):
    """A wrong argument or input of ``loom run``, shown as one ``Error:`` line (status 2).

    The message is click's (``Invalid value for '--side': ...``, ``Missing option '--x'.``) followed
    by where to look (``see loom run flows.py pipeline --help``); click's usage text, which says
    nothing about the file or the entity, is left out.
    """

    def __init__(self, message: str, help_command: str | None = None) -> None:
        super().__init__(message)
        self.help_command = help_command

    def format_message(self) -> str:
        message = self.message.rstrip(".") if self.help_command else self.message
        return f"{message} (see {self.help_command})" if self.help_command else message

    def show(self, file: typing.IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file, err=file is None)


class RunCommand(click.Command):
    """``loom run``: its own options and those the installed plugins add (``taskloom_run_options``)."""

    _plugin_options: list[click.Parameter] | None = None

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if self._plugin_options is None:
            self._plugin_options = self._options_of_plugins()
        return [*super().get_params(ctx), *self._plugin_options]

    def _options_of_plugins(self) -> list[click.Parameter]:
        taken = {name for param in self.params for name in param.opts + param.secondary_opts}
        options: list[click.Parameter] = []
        for contributed in get_plugin_manager().hook.taskloom_run_options():
            for option in contributed or ():
                names = set(option.opts + option.secondary_opts)
                if names & taken:
                    warnings.warn(
                        f"loom run option {'/'.join(sorted(names & taken))} of a plugin left out: "
                        "loom run or another plugin has it already",
                        PluginWarning,
                        stacklevel=2,
                    )
                    continue
                taken |= names
                options.append(option)
        return options


@click.command(
    "run",
    cls=RunCommand,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
)
@click.option("--executor", help="Executor to run workflows on (default: $TASKLOOM_EXECUTOR or local).")
@click.option(
    "--raw-output-prefix",
    help="Where files and directories returned by tasks are stored: s3://bucket/runs, memory://x, a local "
    "directory (default: $TASKLOOM_RAW_OUTPUT_PREFIX; unset, local files pass by path).",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Show the run's progress on standard error: live on a terminal and plain lines elsewhere (auto), "
    "live even when not a terminal (always), or not at all (never).",
)
@click.option(
    "--signal",
    "signals",
    multiple=True,
    metavar="NAME=VALUE",
    help="Answer the gate NAME (wait_for_input, approve) with VALUE, parsed as its expected type "
    "(true/yes/1 or false/no/0 for approve); repeatable.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="Run task bodies in this many worker processes, so CPU-bound tasks use every core "
    "(default: $TASKLOOM_PROCESSES; unset, on threads of this process).",
)
@click.option(
    "--resume",
    metavar="EXECUTION_ID",
    help="Resume this recorded execution of ENTITY: run only what had not finished, with its recorded "
    "inputs (inputs given must match them). See loom executions list.",
)
@click.argument("file", required=False)
@click.argument("entity", required=False)
@click.pass_context
def run_command(
    ctx: click.Context,
    executor: str | None,
    raw_output_prefix: str | None,
    file: str | None,
    entity: str | None,
    progress: str = "auto",
    signals: tuple[str, ...] = (),
    processes: int | None = None,
    resume: str | None = None,
) -> None:
    """Run a task or workflow of FILE: loom run FILE ENTITY --input value ...

    Without ENTITY, list the tasks and workflows of FILE. `loom run FILE ENTITY --help` shows the
    inputs of ENTITY with their types and defaults.
    """
    if file is None or file in ("--help", "-h"):
        click.echo(ctx.get_help())
        return
    if raw_output_prefix:
        os.environ[RAW_OUTPUT_PREFIX_ENV] = raw_output_prefix
    if processes:
        os.environ[PROCESSES_ENV] = str(processes)
    if executor:
        os.environ[EXECUTOR_ENV] = executor
    _send_signals(signals)
    try:
        _run_entity(ctx, file, entity, executor, resume, progress)
    except RunUsageError:
        raise
    except click.UsageError as error:
        # One line, as for every other failure of loom run: click would print the usage above it.
        raise RunUsageError(error.format_message()) from error


def _run_entity(
    ctx: click.Context, file: str, entity: str | None, executor: str | None, resume: str | None, progress: str
) -> None:
    """``loom run FILE [ENTITY]`` once the run-level options are applied: list or run."""
    if not os.path.isfile(file):  # a wrong argument rather than a file that fails to load: a usage error
        raise click.BadParameter(f"{file} is not a file", param_hint="FILE")
    module = load_module(file)
    found = entities_of(module)
    if entity is None or entity in ("--help", "-h"):
        if not found:
            click.echo(f"{file} defines no tasks or workflows.")
            return
        click.echo(f"Entities of {file}:")
        for name, value in sorted(found.items()):
            click.echo(f"  {name:<24} {kind_of(value)}")
        return
    if entity not in found:
        raise click.BadParameter(
            f"{file} defines no task or workflow named {entity!r}; it has {sorted(found)}", param_hint="ENTITY"
        )
    command = entity_command(entity, found[entity], executor, resume)
    try:
        with showing_progress(progress):
            command.main(args=list(ctx.args), prog_name=f"loom run {file} {entity}", standalone_mode=False)
    except click.UsageError as error:  # an input missing or given wrong
        raise RunUsageError(error.format_message(), f"loom run {file} {entity} --help") from error
    except click.ClickException:
        raise
    except click.exceptions.Exit:
        raise
    except (KeyboardInterrupt, click.exceptions.Abort) as error:
        # Ctrl-C or SIGTERM: the executor stopped the run and recorded it; say how to go on, exit 130.
        interruption = error if isinstance(error, KeyboardInterrupt) else error.__cause__
        if not isinstance(interruption, KeyboardInterrupt):
            raise
        reason = str(interruption) or "SIGINT"
        message = f"Interrupted ({reason})."
        for note in getattr(interruption, "__notes__", ()):
            message += f"\n  {note}"
        click.echo(message, err=True)
        ctx.exit(130)
    except Exception as error:
        if ctx.find_root().obj and ctx.find_root().obj.get("verbose"):
            raise
        message = f"{type(error).__name__}: {error}"
        for note in getattr(error, "__notes__", ()):
            message += f"\n  {note}"
        click.echo(f"Error: {message}", err=True)
        ctx.exit(1)
