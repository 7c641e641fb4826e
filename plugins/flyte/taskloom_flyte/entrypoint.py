"""``loom-execute``, ``loom-map-execute`` and ``loom-fast-execute``: what a Flyte task's container runs.

The contract is flytekit's ``pyflyte-execute`` / ``pyflyte-map-execute`` / ``pyflyte-fast-execute``,
so that Flyte's propeller runs taskloom tasks as it runs flytekit's::

    loom-execute --inputs URI --output-prefix URI [--raw-output-data-prefix URI]
                 [--checkpoint-path URI --prev-checkpoint URI] --resolver RESOLVER -- ARGS...

1. The resolver finds the task from ``ARGS`` (:mod:`taskloom_flyte.resolvers`).
2. ``inputs.pb`` (a flyteidl ``LiteralMap``) is read from ``--inputs`` and converted to Python values.
3. The task runs, with ``current_context()`` telling the execution and task from the
   ``FLYTE_INTERNAL_*`` environment, the attempt from ``FLYTE_ATTEMPT_NUMBER`` and a checkpoint in
   storage.
4. Exactly one document is written under ``--output-prefix``: ``outputs.pb`` (a ``LiteralMap``;
   files and directories the task returns are uploaded under the raw output prefix first),
   ``futures.pb`` (a ``DynamicJobSpec``, for a task that hands a graph to the backend),
   ``error.pb`` (an ``ErrorDocument``: kind recoverable or not, origin user or system), or nothing
   when the task raises :class:`~taskloom.core.base_task.IgnoreOutputs`.

Documents are written last, after every value they point at, and each as one object (a local file
is written under a temporary name and renamed), so that a reader never sees a partial one.
The process exits 0 once a document is written, as Flyte expects (the phase comes from the
document); it exits non-zero only when not even ``error.pb`` could be written, or with
``FLYTE_FAIL_ON_ERROR=true`` after an error document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("taskloom.entrypoint")

OUTPUTS_FILE = "outputs.pb"
FUTURES_FILE = "futures.pb"
ERROR_FILE = "error.pb"

#: Set by the packager in every container's environment: the image that tasks built at run time
#: (the children of a dynamic task) use when they name none.
DEFAULT_IMAGE_ENV = "TASKLOOM_DEFAULT_IMAGE"
#: Likewise, the named images (JSON ``{"name": "image"}``) that ``{{.image.NAME}}`` refers to.
IMAGES_ENV = "TASKLOOM_IMAGES"


# --- errors that become error documents --------------------------------------------------------


class ContainerFailure(Exception):
    """A failure to report in ``error.pb``: code, message, whether a retry can help, whose fault."""

    def __init__(self, code: str, message: str, *, recoverable: bool, user: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.recoverable = recoverable
        self.user = user


def _user_failure(error: BaseException, task_name: str) -> ContainerFailure:
    from taskloom.extend import RecoverableException

    return ContainerFailure(
        f"USER:{type(error).__name__}",
        f"task {task_name!r} failed: {_traceback_text(error)}",
        recoverable=isinstance(error, RecoverableException),
        user=True,
    )


def _corrupt_inputs(message: str) -> ContainerFailure:
    """``inputs.pb`` is damaged: the system's fault (storage, the writer), not the user's, and
    recoverable, since the backend's retry reads a fresh copy."""
    return ContainerFailure("INPUTS_CORRUPT", message, recoverable=True, user=False)


def _traceback_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)).rstrip()


# --- storage --------------------------------------------------------------------------------


def read_bytes(uri: str, what: str) -> bytes:
    """The bytes of the object at ``uri``; a :class:`ContainerFailure` naming it when it cannot be read.

    Goes through :func:`taskloom.storage.download`, so errors say why in the storage plugin's words.
    """
    from taskloom.extend import download

    with tempfile.TemporaryDirectory(prefix="loom-execute-") as directory:
        local = os.path.join(directory, "object")
        try:
            download(uri, local)
        except Exception as error:
            raise ContainerFailure(
                "READ_FAILED", f"cannot read {what}: {error}", recoverable=True, user=False
            ) from error
        with open(local, "rb") as handle:
            return handle.read()


def write_bytes(uri: str, data: bytes) -> None:
    """Write ``data`` to ``uri`` as one object, through :func:`taskloom.storage.upload` (which
    renames a local file into place, and whose object-store uploads appear whole)."""
    from taskloom.extend import upload

    with tempfile.TemporaryDirectory(prefix="loom-execute-") as directory:
        local = os.path.join(directory, "object")
        with open(local, "wb") as handle:
            handle.write(data)
        upload(local, uri)


def _join(prefix: str, name: str) -> str:
    return prefix.rstrip("/") + "/" + name


class StorageCheckpoint:
    """A checkpoint kept in storage: read from the previous attempt's prefix, written to this attempt's.

    The methods are those of :class:`taskloom.core.checkpointer.Checkpoint`.
    """

    _BLOB = "_checkpoint"

    def __init__(self, checkpoint_path: str | None, prev_checkpoint: str | None) -> None:
        self._destination = checkpoint_path
        self._source = prev_checkpoint

    @property
    def path(self) -> str:
        """Where this attempt's checkpoint goes."""
        return self._destination or ""

    def prev_exists(self) -> bool:
        """Whether the previous attempt saved something."""
        if not self._source:
            return False
        from taskloom.extend import get_filesystem, split_protocol

        filesystem = get_filesystem(split_protocol(self._source)[0])
        return bool(filesystem.exists(self._source))

    def read(self) -> bytes | None:
        """The bytes the previous attempt saved with :meth:`write`, or None."""
        if not self._source:
            return None
        from taskloom.extend import get_filesystem, split_protocol

        uri = _join(self._source, self._BLOB)
        filesystem = get_filesystem(split_protocol(uri)[0])
        if not filesystem.exists(uri):
            return None
        with filesystem.open(uri, "rb") as handle:
            return handle.read()

    def write(self, data: bytes) -> None:
        """Save ``data`` for the next attempt."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"Checkpoint.write expects bytes, got {type(data).__name__}")
        if not self._destination:
            raise ValueError("this task execution was given no --checkpoint-path")
        write_bytes(_join(self._destination, self._BLOB), bytes(data))

    def save(self, source: str) -> None:
        """Save the file or directory ``source``."""
        from taskloom.extend import upload

        if not self._destination:
            raise ValueError("this task execution was given no --checkpoint-path")
        if os.path.isdir(source):
            upload(source, self._destination, recursive=True)
        else:
            upload(source, _join(self._destination, os.path.basename(source)))

    def restore(self, destination: str) -> str | None:
        """Copy what the previous attempt saved into the directory ``destination``; None if nothing was."""
        if not self.prev_exists():
            return None
        from taskloom.extend import download

        download(self._source or "", destination, recursive=True)
        return destination


# --- the execution environment --------------------------------------------------------------


def _env(*names: str) -> str:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return ""


def execution_id() -> Any:
    """The execution from ``FLYTE_INTERNAL_EXECUTION_{PROJECT,DOMAIN,ID}`` (or their ``_F_`` short names)."""
    from taskloom.extend import WorkflowExecutionIdentifier

    return WorkflowExecutionIdentifier(
        project=_env("FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"),
        domain=_env("FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"),
        name=_env("FLYTE_INTERNAL_EXECUTION_ID", "_F_NM") or "local-container",
    )


def task_id(name: str) -> Any:
    """The running task's identifier from ``FLYTE_INTERNAL_TASK_{PROJECT,DOMAIN,NAME,VERSION}``."""
    from taskloom.extend import Identifier, ResourceType

    return Identifier(
        resource_type=ResourceType.TASK,
        project=_env("FLYTE_INTERNAL_TASK_PROJECT", "_F_TK_PRJ"),
        domain=_env("FLYTE_INTERNAL_TASK_DOMAIN", "_F_TK_DM"),
        name=_env("FLYTE_INTERNAL_TASK_NAME", "_F_TK_NM") or name,
        version=_env("FLYTE_INTERNAL_TASK_VERSION", "_F_TK_V"),
    )


def attempt_number() -> int:
    """The retry attempt (``FLYTE_ATTEMPT_NUMBER``, 0 for the first)."""
    try:
        return int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))
    except ValueError:
        return 0


def array_index() -> int:
    """The index of this map element: ``$BATCH_JOB_ARRAY_INDEX_VAR_NAME`` names the variable
    holding it (Flyte's array plugin sets ``FLYTE_K8S_ARRAY_INDEX``), plus
    ``$BATCH_JOB_ARRAY_INDEX_OFFSET``."""
    offset = int(os.environ.get("BATCH_JOB_ARRAY_INDEX_OFFSET") or 0)
    variable = os.environ.get("BATCH_JOB_ARRAY_INDEX_VAR_NAME")
    if not variable:
        return offset
    value = os.environ.get(variable)
    if value is None:
        raise ContainerFailure(
            "ARRAY_INDEX_MISSING",
            f"BATCH_JOB_ARRAY_INDEX_VAR_NAME names {variable}, which is not set",
            recoverable=False,
            user=False,
        )
    return offset + int(value)


def _error_file_name() -> str:
    # Distributed tasks: every worker writes its own error document (flytekit's convention).
    if _env("FLYTE_INTERNAL_DIST_ERROR_STRATEGY", "_F_DES"):
        return f"error-{os.urandom(16).hex()}.pb"
    return ERROR_FILE


# --- running one task -----------------------------------------------------------------------


class Invocation:
    """One run of the entrypoint: where inputs and outputs live, and how the task is found."""

    def __init__(
        self,
        *,
        inputs: str,
        output_prefix: str,
        raw_output_data_prefix: str | None,
        checkpoint_path: str | None,
        prev_checkpoint: str | None,
        load_task: Callable[[], Any],
        dynamic_distribution: str | None = None,
        dynamic_destination: str | None = None,
    ) -> None:
        self.inputs = inputs
        self.output_prefix = output_prefix
        self.raw_output_data_prefix = raw_output_data_prefix
        self.checkpoint = StorageCheckpoint(checkpoint_path, prev_checkpoint)
        self.load_task = load_task
        self.dynamic_distribution = dynamic_distribution
        self.dynamic_destination = dynamic_destination

    def run(self) -> str | None:
        """Run the task and write its document; return the document's name (None for IgnoreOutputs)."""
        from taskloom.extend import IgnoreOutputs

        name = _error_file_name()
        try:
            document = self._outputs()
            if document is None:
                return None
            name, payload = document
        except IgnoreOutputs:
            logger.warning("the task raised IgnoreOutputs: no outputs are written")
            return None
        except ContainerFailure as failure:
            payload = error_document(failure)
        except Exception as error:  # taskloom's own failure: a system error that a retry may fix
            payload = error_document(
                ContainerFailure("SYSTEM", f"taskloom failed: {_traceback_text(error)}", recoverable=True, user=False)
            )
        write_bytes(_join(self.output_prefix, name), payload)
        return name

    def _outputs(self) -> tuple[str, bytes] | None:
        task, values = self._task_and_inputs()
        if hasattr(task, "to_dynamic_job_spec"):
            return self._dynamic_job(task, values)
        return self._task_outputs(task, values)

    def _task_and_inputs(self) -> tuple[Any, dict[str, Any]]:
        """The task to run (a map element's own task) and its inputs as Python values."""
        from taskloom.extend import TypeEngine, TypeTransformerFailedError
        from taskloom_flyte.codec import literal_map_from_bytes
        from taskloom_flyte.resolvers import MapElement

        try:
            task = self.load_task()
        except ContainerFailure:
            raise
        except Exception as error:
            raise ContainerFailure(
                f"USER:{type(error).__name__}", f"cannot load the task: {error}", recoverable=False, user=True
            ) from error
        payload = read_bytes(self.inputs, "inputs")
        try:
            literals = literal_map_from_bytes(payload, source=self.inputs)
        except Exception as error:
            raise _corrupt_inputs(str(error)) from error

        if isinstance(task, MapElement):
            literals = _element_inputs(literals, task.bound_inputs, array_index(), task.task.name)
            task = task.task
        input_types = task.python_interface.inputs
        entity = f"task {task.name!r}"
        missing = [input_name for input_name in input_types if input_name not in literals.literals]
        if missing:
            # Flyte binds every input of a task node, defaults included, so an input that is not
            # there was lost on the way: a map truncated between two entries still parses.
            names = ", ".join(map(repr, missing))
            raise _corrupt_inputs(
                f"{self.inputs!r} ({len(payload)} bytes) lacks input{'s' if len(missing) > 1 else ''} {names} "
                f"of {entity}; truncated or corrupt?"
            )
        try:
            values = TypeEngine.literal_map_to_kwargs(None, literals, dict(input_types), entity=entity)
        except TypeTransformerFailedError as error:
            raise ContainerFailure(
                "USER:TypeTransformerFailedError", f"inputs {self.inputs}: {error}", recoverable=False, user=True
            ) from error
        if self.raw_output_data_prefix:
            from taskloom.extend import RAW_OUTPUT_PREFIX_ENV

            os.environ[RAW_OUTPUT_PREFIX_ENV] = self.raw_output_data_prefix
        return task, values

    def _dynamic_job(self, task: Any, values: dict[str, Any]) -> tuple[str, bytes]:
        """A dynamic task's futures file: the job spec its body compiles to."""
        from taskloom.extend import IgnoreOutputs
        from taskloom_flyte.codec import CodecError, to_proto

        name = task.name
        try:
            spec = task.to_dynamic_job_spec(self._settings(), values)
        except IgnoreOutputs:
            raise
        except Exception as error:
            raise _user_failure(error, name) from error
        for child in spec.tasks:
            if child.container is not None and not child.container.args:
                raise ContainerFailure(
                    "USER:TaskNotFoundError",
                    f"dynamic task {name!r} uses task {child.id.name!r}, which is not bound to a name at "
                    "the top level of a module, so its container could not find it",
                    recoverable=False,
                    user=True,
                )
        try:
            return FUTURES_FILE, to_proto(spec).SerializeToString()
        except CodecError as error:  # e.g. nested deeper than protobuf reads: the same on a retry
            raise ContainerFailure(
                "USER:CodecError", f"dynamic task {name!r}: {error}", recoverable=False, user=True
            ) from error

    def _task_outputs(self, task: Any, values: dict[str, Any]) -> tuple[str, bytes]:
        """Run the task's body; its outputs file (offloading files under the raw output prefix)."""
        from taskloom.extend import IgnoreOutputs, TypeEngine, TypeTransformerFailedError, offload
        from taskloom_flyte.codec import CodecError, literal_map_to_bytes

        name, interface = task.name, task.python_interface
        try:
            result = task.run(
                values,
                execution_id=execution_id(),
                attempt=attempt_number(),
                checkpoint=self.checkpoint,
                task_id=task_id(name),
                output_metadata_prefix=self.output_prefix,  # a task with decks writes deck.html there
            )
        except IgnoreOutputs:
            raise
        except Exception as error:
            raise _user_failure(error, name) from error

        output_types = dict(interface.outputs)
        try:
            outputs = interface.outputs_by_name(result)
            if self.raw_output_data_prefix:
                outputs = offload(outputs, output_types, _join(self.raw_output_data_prefix, "outputs"))
            else:
                logger.warning("no --raw-output-data-prefix: files and directories among the outputs stay local paths")
            literal_map = TypeEngine.dict_to_literal_map(
                None, outputs, output_types, entity=f"task {name!r}", direction="output"
            )
        except (TypeTransformerFailedError, ValueError) as error:  # ValueError: outputs of the wrong shape
            raise ContainerFailure(
                f"USER:{type(error).__name__}", f"task {name!r}: {error}", recoverable=False, user=True
            ) from error
        try:
            return OUTPUTS_FILE, literal_map_to_bytes(literal_map)
        except CodecError as error:  # e.g. nested deeper than protobuf reads: the same on a retry
            raise ContainerFailure(
                "USER:CodecError", f"task {name!r}: outputs: {error}", recoverable=False, user=True
            ) from error

    def _settings(self) -> Any:
        from taskloom.extend import DEFAULT_IMAGE, FastSerializationSettings, SerializationSettings

        task_project = _env("FLYTE_INTERNAL_TASK_PROJECT", "_F_TK_PRJ")
        task_domain = _env("FLYTE_INTERNAL_TASK_DOMAIN", "_F_TK_DM")
        fast = None
        if self.dynamic_distribution:
            fast = FastSerializationSettings(
                enabled=True, destination_dir=self.dynamic_destination, distribution_location=self.dynamic_distribution
            )
        return SerializationSettings(
            project=task_project or _env("FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"),
            domain=task_domain or _env("FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"),
            version=_env("FLYTE_INTERNAL_TASK_VERSION", "_F_TK_V"),
            default_image=os.environ.get(DEFAULT_IMAGE_ENV) or DEFAULT_IMAGE,
            env={name: os.environ[name] for name in (DEFAULT_IMAGE_ENV, IMAGES_ENV) if os.environ.get(name)} or None,
            fast_serialization_settings=fast,
            images=json.loads(os.environ[IMAGES_ENV]) if os.environ.get(IMAGES_ENV) else None,
        )


def _element_inputs(literals: Any, bound: frozenset[str], index: int, task_name: str) -> Any:
    """The inputs of element ``index`` of a map: item ``index`` of each mapped list, bound inputs whole.

    An input that is not a list was already cut to its element by the backend, and is kept as is.
    """
    from taskloom.extend import LiteralMap

    chosen = {}
    for name, literal in literals.literals.items():
        if name in bound or literal.collection is None:
            chosen[name] = literal
            continue
        items = literal.collection.literals
        if not 0 <= index < len(items):
            raise ContainerFailure(
                "ARRAY_INDEX_OUT_OF_RANGE",
                f"map element {index} of task {task_name!r}: input {name!r} has {len(items)} items",
                recoverable=False,
                user=False,
            )
        chosen[name] = items[index]
    return LiteralMap(literals=chosen)


def error_document(failure: ContainerFailure) -> bytes:
    """``failure`` as a serialized flyteidl ``ErrorDocument``."""
    from flyteidl.core import errors_pb2, execution_pb2
    from google.protobuf.timestamp_pb2 import Timestamp

    timestamp = Timestamp()
    timestamp.FromDatetime(dt.datetime.now(dt.UTC))
    error = errors_pb2.ContainerError(
        code=failure.code,
        message=failure.message,
        kind=errors_pb2.ContainerError.RECOVERABLE
        if failure.recoverable
        else errors_pb2.ContainerError.NON_RECOVERABLE,
        origin=execution_pb2.ExecutionError.USER if failure.user else execution_pb2.ExecutionError.SYSTEM,
        timestamp=timestamp,
        worker=_env("FLYTE_INTERNAL_WORKER_NAME", "_F_WN")
        if _env("FLYTE_INTERNAL_DIST_ERROR_STRATEGY", "_F_DES")
        else "",
    )
    return errors_pb2.ErrorDocument(error=error).SerializeToString()


# --- the command lines ----------------------------------------------------------------------

#: flytekit's placeholders, passed through unfilled by backends that do not know them.
_UNFILLED = {"{{.rawOutputDataPrefix}}", "{{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}", "", '""'}


def _parser(program: str, *, map_task: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program,
        description="Run one task inside its container, as Flyte's propeller asks (flytekit's pyflyte-execute contract).",
    )
    parser.add_argument("--inputs", required=True, help="URI of inputs.pb (a flyteidl LiteralMap)")
    parser.add_argument("--output-prefix", required=True, help="where outputs.pb, futures.pb or error.pb go")
    parser.add_argument("--raw-output-data-prefix", help="where files and directories the task returns go")
    parser.add_argument("--checkpoint-path", help="where this attempt's checkpoint goes")
    parser.add_argument("--prev-checkpoint", help="the previous attempt's checkpoint")
    parser.add_argument("--test", action="store_true", help="find the task, then stop without running it")
    parser.add_argument(
        "--dynamic-addl-distro", help="fast registration: the code tarball, for a dynamic task's children"
    )
    parser.add_argument("--dynamic-dest-dir", help="fast registration: where that tarball is unpacked")
    parser.add_argument(
        "--resolver",
        required=map_task,
        default="taskloom_flyte.resolvers.default_task_resolver",
        help="dotted path of the resolver that finds the task from the arguments after --",
    )
    if map_task:
        parser.add_argument(
            "--max-concurrency", type=int, help="accepted for compatibility; the backend schedules elements"
        )
    return parser


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        position = argv.index("--")
        return argv[:position], argv[position + 1 :]
    return argv, []


def _main(program: str, argv: list[str] | None, *, map_task: bool) -> int:
    from taskloom_flyte.resolvers import MapElement, load_resolver

    logging.basicConfig(
        level=os.environ.get("TASKLOOM_LOG_LEVEL", "WARNING"), format="%(levelname)s %(name)s: %(message)s"
    )
    options, resolver_args = _split(list(sys.argv[1:] if argv is None else argv))
    arguments = _parser(program, map_task=map_task).parse_args(options)
    if not resolver_args:
        print(f"{program}: the resolver's arguments are missing (after --)", file=sys.stderr)
        return 2
    if os.getcwd() not in sys.path:  # the task's code is unpacked in the working directory
        sys.path.append(os.getcwd())

    def load_task() -> Any:
        task = load_resolver(arguments.resolver).load_task(resolver_args)
        if map_task and not isinstance(task, MapElement):
            task = MapElement(task, frozenset())
        return task

    if arguments.test:
        load_task()
        print(f"{program}: found the task; --test given, not running it")
        return 0

    def given(value: str | None) -> str | None:
        return None if value is None or value in _UNFILLED else value

    invocation = Invocation(
        inputs=arguments.inputs,
        output_prefix=arguments.output_prefix,
        raw_output_data_prefix=given(arguments.raw_output_data_prefix),
        checkpoint_path=given(arguments.checkpoint_path),
        prev_checkpoint=given(arguments.prev_checkpoint),
        load_task=load_task,
        dynamic_distribution=arguments.dynamic_addl_distro,
        dynamic_destination=arguments.dynamic_dest_dir,
    )
    try:
        written = invocation.run()
    except Exception as error:
        print(f"{program}: could not write to {arguments.output_prefix}: {error}", file=sys.stderr)
        return 1
    if written is not None and written.startswith("error"):
        logger.error("the task failed; see %s", _join(arguments.output_prefix, written))
        if os.environ.get("FLYTE_FAIL_ON_ERROR", "").lower() in ("1", "true", "yes"):
            return 1
    return 0


def execute_main(argv: list[str] | None = None) -> int:
    """``loom-execute``: run one task."""
    return _main("loom-execute", argv, map_task=False)


def map_execute_main(argv: list[str] | None = None) -> int:
    """``loom-map-execute``: run one element of a map task (the element's index comes from the environment)."""
    return _main("loom-map-execute", argv, map_task=True)


def fast_execute_main(argv: list[str] | None = None) -> int:
    """``loom-fast-execute --additional-distribution URI --dest-dir DIR -- COMMAND...``.

    Fetches the code tarball of a fast registration, unpacks it into ``DIR`` and runs ``COMMAND``
    (a ``loom-execute`` line) with ``DIR`` on ``PYTHONPATH``, passing the tarball on so that a
    dynamic task's children are fast-registered too.
    """
    import subprocess
    import tarfile

    options, command = _split(list(sys.argv[1:] if argv is None else argv))
    parser = argparse.ArgumentParser(
        prog="loom-fast-execute", description=(fast_execute_main.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--additional-distribution", help="URI of the code tarball")
    parser.add_argument("--dest-dir", help="where to unpack it (default: the working directory)")
    arguments = parser.parse_args(options)
    if not command:
        print("loom-fast-execute: the command to run is missing (after --)", file=sys.stderr)
        return 2
    destination = os.path.realpath(os.path.expanduser(arguments.dest_dir or os.getcwd()))
    if arguments.additional_distribution:
        from taskloom.extend import download

        with tempfile.TemporaryDirectory(prefix="loom-fast-execute-") as directory:
            local = os.path.join(directory, "code.tar.gz")
            try:
                download(arguments.additional_distribution, local)
                with tarfile.open(local, mode="r:*") as archive:
                    archive.extractall(destination, filter="data")
            except Exception as error:  # a missing or corrupt tarball: said in one line, no traceback
                print(f"loom-fast-execute: cannot unpack {arguments.additional_distribution}: {error}", file=sys.stderr)
                return 1
        position = command.index("--resolver") if "--resolver" in command else len(command)
        command[position:position] = [
            "--dynamic-addl-distro",
            arguments.additional_distribution,
            "--dynamic-dest-dir",
            destination,
        ]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [destination, environment.get("PYTHONPATH")]))
    return subprocess.call(command, env=environment, cwd=destination)
