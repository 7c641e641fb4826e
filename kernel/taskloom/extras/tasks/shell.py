"""Tasks whose body is a shell script: :class:`ShellTask`, :class:`RawShellTask`, :class:`OutputLocation`.

Names, constructors and templating follow flytekit's ``flytekit.extras.tasks.shell``::

    count = ShellTask(
        name="count",
        script="wc -l < {inputs.text} > {outputs.lines}",
        inputs=kwtypes(text=FlyteFile),
        output_locs=[OutputLocation(var="lines", var_type=FlyteFile, location="{inputs.text}.count")],
    )

The script is a template in Python's ``str.format`` syntax, as flytekit's: ``{inputs.x}`` is the
input ``x``, ``{outputs.y}`` the path of the output ``y`` (its ``OutputLocation``, itself a template
over the inputs), ``{ctx.attempt}``... the task's :func:`~taskloom.current_context`. A file or
directory input is replaced by its local path (fetched first when it is remote), a datetime by its
ISO form, anything else by ``str(value)``. A literal brace is written twice (``awk '{{print $1}}'``):
flytekit documents ``{{ .inputs.x }}`` in places, but its formatter, like this one, reads that as the
text ``{ .inputs.x }``.

Values are inserted as they are, as flytekit inserts them: the shell reads them, so a value holding
``$(...)``, ``;`` or quotes is run as shell syntax (a value with spaces becomes several words).
``{inputs.x!q}`` inserts the value shell-quoted instead, one word that the shell never interprets
(taskloom's addition): use it for any value that does not come from you.

A script that exits with a non-zero code raises :class:`ShellTaskError`, naming the task, the exit
code and the last lines of the script's standard error. It is recoverable, as in flytekit: the
task's ``retries`` apply.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shlex
import string
import subprocess
from typing import Any

from taskloom.core.context_manager import current_context
from taskloom.core.python_function_task import PythonInstanceTask
from taskloom.exceptions.user import RecoverableUserException, ValidationError
from taskloom.types.blob import BlobValue
from taskloom.types.directory import FlyteDirectory
from taskloom.types.file import FlyteFile

#: How many of the last lines of standard error a failure shows.
STDERR_TAIL_LINES = 20


class ShellTaskError(RecoverableUserException):
    """A shell task's script exited with a non-zero code.

    ``returncode``, ``stdout`` and ``stderr`` are the script's; the message names the task and the exit
    code, and shows the end of standard error. Recoverable (flytekit raises its
    ``FlyteRecoverableException`` here), so the task's retries apply.
    """

    def __init__(self, message: str, returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


@dataclasses.dataclass
class ProcessResult:
    """What the script's process gave: exit code, standard output and standard error (flytekit's name)."""

    returncode: int
    output: str
    error: str


@dataclasses.dataclass
class OutputLocation:
    """Where the script writes the output ``var``: ``location`` is a path, or a template over the inputs
    (``"{inputs.name}.csv"``); ``var_type`` is ``FlyteFile`` or ``FlyteDirectory`` (or a subclass).
    """

    var: str
    var_type: type
    location: str | os.PathLike[str]


class _ValueFormatter(string.Formatter):
    """``str.format`` with files and directories as local paths, datetimes in ISO form, and ``!q``."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        return super().format_field(_as_text(value), format_spec)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "q":
            return shlex.quote(str(_as_text(value)))
        return super().convert_field(value, conversion)


def _as_text(value: Any) -> Any:
    if isinstance(value, BlobValue):
        return os.fspath(value)  # a remote file or directory is fetched first
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class _Namespace(dict[str, Any]):
    """``{inputs.x}``: a dict whose keys read as attributes, with an error naming what is missing."""

    def __init__(self, kind: str, task: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._kind = kind
        self._task = task

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise ValidationError(
                f"shell task {self._task!r}: the script refers to {self._kind}.{name}, but the task has no "
                f"{self._kind[:-1]} {name!r}; it has {sorted(self) or 'none'}"
            ) from None


class ShellTask(PythonInstanceTask[Any]):
    """A task that runs a shell script (flytekit's ``ShellTask``); see the module's documentation.

    ``script`` (or ``script_file``, a path read when the task runs) is the template; ``inputs`` maps
    input names to types (``kwtypes(...)``); ``output_locs`` lists :class:`OutputLocation` objects, one
    per output; ``shell`` runs the script (``/bin/sh``); ``debug`` prints the script before running
    it. Other keyword arguments (``retries``, ``timeout`` through ``metadata``, ``environment``...)
    are those of :class:`~taskloom.core.python_function_task.PythonInstanceTask`. Mistakes are a
    :class:`~taskloom.exceptions.user.ValidationError` when the task is declared.
    """

    def __init__(
        self,
        name: str,
        debug: bool = False,
        script: str | None = None,
        script_file: str | None = None,
        task_config: Any = None,
        shell: str = "/bin/sh",
        inputs: dict[str, Any] | None = None,
        output_locs: list[OutputLocation] | None = None,
        **kwargs: Any,
    ) -> None:
        entity = f"shell task {name!r}"
        if script and script_file:
            raise ValidationError(f"{entity}: give script or script_file, not both")
        if not script and not script_file:
            raise ValidationError(f"{entity}: give a script or a script_file")
        if script_file:
            if not os.path.isfile(script_file):
                raise ValidationError(f"{entity}: script_file {script_file!r} is not a file")
            script_file = os.path.abspath(script_file)
        if task_config is not None:
            # flytekit accepts only its Pod plugin's configuration here; taskloom takes pod_template=.
            raise ValidationError(
                f"{entity}: task_config expects None, got {type(task_config).__name__}; "
                "give pod_template= for a pod of your own"
            )
        self._script = script
        self._script_file = script_file
        self._debug = debug
        self._shell = shell
        self._output_locs = list(output_locs or [])
        self._process_result: ProcessResult | None = None
        super().__init__(name, None, inputs=inputs, outputs=self._output_types(entity), **kwargs)

    def _output_types(self, entity: str) -> dict[str, type]:
        outputs: dict[str, type] = {}
        for location in self._output_locs:
            if not isinstance(location, OutputLocation):
                raise ValidationError(f"{entity}: output_locs expects OutputLocation objects, got {location!r}")
            if not location.location:
                raise ValidationError(f"{entity}: output {location.var!r} has no location")
            if not (isinstance(location.var_type, type) and issubclass(location.var_type, (FlyteFile, FlyteDirectory))):
                raise ValidationError(
                    f"{entity}: output {location.var!r} expects FlyteFile or FlyteDirectory, got {location.var_type!r}"
                )
            outputs[location.var] = location.var_type
        return outputs

    @property
    def script(self) -> str | None:
        """The script's template (None when it comes from :attr:`script_file`)."""
        return self._script

    @property
    def script_file(self) -> str | None:
        """The absolute path of the script's template, or None."""
        return self._script_file

    @property
    def result(self) -> ProcessResult | None:
        """What the last run of the script gave in this process, or None."""
        return self._process_result

    def execute(self, **kwargs: Any) -> Any:
        """Fill the script's template with the inputs and output paths, run it, and give the outputs:
        a ``FlyteFile``/``FlyteDirectory`` per output location, one value or a tuple.
        """
        return self._run(self._script_inputs(kwargs))

    def _script_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The values ``{inputs.x}`` reads (:class:`RawShellTask` adds one)."""
        return inputs

    def _run(self, inputs: dict[str, Any]) -> Any:
        template = self._script
        if self._script_file is not None:
            with open(self._script_file) as handle:
                template = handle.read()
        assert template is not None  # the constructor requires a script or a script file
        paths = {
            location.var: self.interpolate(str(location.location), inputs=inputs) for location in self._output_locs
        }
        script = self.interpolate(template, inputs=inputs, outputs=paths)
        if self._debug:
            print(f"--- script of shell task {self.name!r} ---\n{script}\n---")
        process = subprocess.run(
            script, shell=True, executable=self._shell, capture_output=True, text=True, check=False
        )
        self._process_result = ProcessResult(process.returncode, process.stdout, process.stderr)
        if process.stdout:
            print(process.stdout, end="" if process.stdout.endswith("\n") else "\n")
        if process.returncode != 0:
            raise ShellTaskError(
                _failure_message(self.name, process), process.returncode, process.stdout, process.stderr
            )
        values = [location.var_type(paths[location.var]) for location in self._output_locs]
        if not values:
            return None
        return values[0] if len(values) == 1 else tuple(values)

    def interpolate(self, template: str, inputs: dict[str, Any], outputs: dict[str, str] | None = None) -> str:
        """``template`` with ``{inputs.x}``, ``{outputs.y}`` and ``{ctx...}`` replaced (see the module)."""
        try:
            return _ValueFormatter().format(
                template,
                inputs=_Namespace("inputs", self.name, inputs),
                outputs=_Namespace("outputs", self.name, outputs or {}),
                ctx=current_context(),
            )
        except (KeyError, IndexError, ValueError) as error:
            raise ValidationError(
                f"shell task {self.name!r}: the template cannot be filled: {type(error).__name__}: {error} "
                "(write a literal brace twice: {{ }})"
            ) from error


class RawShellTask(ShellTask):
    """A :class:`ShellTask` whose input ``env`` (a ``dict[str, str]``), when it has one, is also given to
    the script as ``{inputs.export_env}``: one ``export NAME=value`` line per item (flytekit's
    ``RawShellTask``; the values are inserted as they are, like every value).
    """

    def _script_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        env = inputs.get("env")
        if isinstance(env, dict):
            return {**inputs, "export_env": "\n".join(f"export {key}={value}" for key, value in env.items())}
        return inputs


def _failure_message(task: str, process: subprocess.CompletedProcess[str]) -> str:
    lines = process.stderr.rstrip("\n").splitlines()
    tail = lines[-STDERR_TAIL_LINES:]
    shown = "\n".join(f"  {line}" for line in tail) if tail else "  (nothing)"
    cut = f" (last {len(tail)} of {len(lines)} lines)" if len(lines) > len(tail) else ""
    return f"shell task {task!r}: the script exited with code {process.returncode}; its standard error{cut}:\n{shown}"
