""":class:`ContainerTask`: a task that runs a program of any image, with flytekit 1.16's signature.

Its template is a ``raw-container`` task as flytekit writes it: the image, the command and arguments as
given (``{{.inputs.x}}`` left for Flyte to fill), resources, environment, and a ``data_config`` telling
Flyte's copilot where to put inputs and find outputs. Called locally, it does what the cluster does: the
inputs are written as files into a directory mounted at ``input_data_dir``, ``{{.inputs.x}}`` in the
command line is replaced by the input's value, the container runs (podman or docker, see
:mod:`taskloom_container.runtime`), and each output is read back from its file in ``output_data_dir``
and checked against its type (:mod:`taskloom_container.copilot`).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from taskloom import Resources, Secret
from taskloom.extend import (
    FlyteDirectory,
    FlyteFile,
    Interface,
    PythonTask,
    TaskMetadata,
    UserValueError,
    ValidationError,
    models,
    resolve_resources,
)

from taskloom_container import copilot
from taskloom_container.image_spec import ImageSpec
from taskloom_container.runtime import find_runtime

if TYPE_CHECKING:
    from taskloom.extend import SerializationSettings

# What FlytePropeller replaces in a raw container's command line (its regex, case-insensitive): the input's
# value, anywhere in an argument. flytekit's local run replaces only a whole argument; the cluster's rule wins.
_INPUT_REFERENCE = re.compile(r"(?i){{\s*[.$]inputs\.(?P<name>[^}\s]+)\s*}}")

# Set by taskloom-flyte's packager in every task's settings, for taskloom's entrypoint (loom-execute).
_ENTRYPOINT_VARIABLES = frozenset({"TASKLOOM_DEFAULT_IMAGE", "TASKLOOM_IMAGES"})


class ContainerTask(PythonTask):
    """A task that runs ``command`` (and ``arguments``) in ``image``, exchanging inputs and outputs as files.

    ``inputs`` and ``outputs`` map names to types (``kwtypes(x=int)``): int, float, str, bool,
    datetime, timedelta, FlyteFile or FlyteDirectory, the values a file can carry. The program reads
    input ``x`` from ``{input_data_dir}/x`` (or gets its value in the command line as
    ``{{.inputs.x}}``) and writes output ``y`` to ``{output_data_dir}/y``. ``metadata_format`` chooses the
    file with every input in it (``inputs.json`` or ``inputs.yaml``). ``requests``/``limits`` (or
    ``resources``), ``environment``, ``secret_requests``, ``pod_template`` and ``metadata`` are those of
    any task; ``metadata.timeout`` stops a local container that runs longer. ``local_logs=True`` prints
    the container's output. ``image`` is an image name or an :class:`~taskloom_container.image_spec.ImageSpec`
    (named ``registry/name:tag`` as pyflyte names it; a local run needs that image here).
    """

    class MetadataFormat(enum.Enum):
        """The format of the file holding every input (flytekit's ``ContainerTask.MetadataFormat``)."""

        JSON = "JSON"
        YAML = "YAML"
        PROTO = "PROTO"

    class IOStrategy(enum.Enum):
        """When Flyte's copilot moves data (flytekit's ``ContainerTask.IOStrategy``): a download or an upload mode."""

        DOWNLOAD_EAGER = "DOWNLOAD_EAGER"
        DOWNLOAD_STREAM = "DOWNLOAD_STREAM"
        DO_NOT_DOWNLOAD = "DO_NOT_DOWNLOAD"
        UPLOAD_EAGER = "UPLOAD_EAGER"
        UPLOAD_ON_EXIT = "UPLOAD_ON_EXIT"
        DO_NOT_UPLOAD = "DO_NOT_UPLOAD"

    def __init__(
        self,
        name: str,
        image: str | ImageSpec,
        command: list[str],
        inputs: dict[str, Any] | None = None,
        metadata: TaskMetadata | None = None,
        arguments: list[str] | None = None,
        outputs: dict[str, Any] | None = None,
        requests: Resources | None = None,
        limits: Resources | None = None,
        input_data_dir: str | None = None,
        output_data_dir: str | None = None,
        metadata_format: MetadataFormat = MetadataFormat.JSON,
        io_strategy: IOStrategy | None = None,
        secret_requests: list[Secret] | None = None,
        pod_template: Any = None,
        pod_template_name: str | None = None,
        local_logs: bool = False,
        resources: Resources | None = None,
        **kwargs: Any,
    ) -> None:
        entity = f"task {name!r}"
        if not isinstance(image, (str, ImageSpec)) or not image:
            raise ValidationError(f"{entity}: image expects an image name (str) or an ImageSpec, got {image!r}")
        if isinstance(command, str) or not all(isinstance(part, str) for part in command):
            raise ValidationError(f"{entity}: command expects a list of str, got {command!r}")
        if arguments is not None and (
            isinstance(arguments, str) or not all(isinstance(part, str) for part in arguments)
        ):
            raise ValidationError(f"{entity}: arguments expects a list of str, got {arguments!r}")
        if not isinstance(metadata_format, ContainerTask.MetadataFormat):
            raise ValidationError(
                f"{entity}: metadata_format expects ContainerTask.MetadataFormat, got {metadata_format!r}"
            )
        interface = Interface(dict(inputs or {}), dict(outputs or {}))
        interface.check_types(entity=entity)
        copilot.check_types(entity, "input", dict(interface.inputs))
        copilot.check_types(entity, "output", dict(interface.outputs))
        if interface.outputs and not output_data_dir:
            raise ValidationError(
                f"{entity}: outputs {', '.join(interface.outputs)} need output_data_dir, the directory the "
                f"program writes them to (for example '/var/outputs')"
            )
        security_ctx = None
        if secret_requests:
            for secret in secret_requests:
                if not isinstance(secret, Secret):
                    raise ValidationError(
                        f"{entity}: secret_requests expects taskloom.Secret objects, got {type(secret).__name__}"
                    )
            security_ctx = models.security.SecurityContext(secrets=tuple(secret_requests))
        metadata = metadata or TaskMetadata()
        if pod_template_name is not None:  # flytekit: pod_template_name overrides metadata's
            metadata.pod_template_name = pod_template_name
        super().__init__(
            "raw-container",
            name,
            interface,
            None,
            metadata,
            security_ctx=security_ctx,
            resources=resolve_resources(requests, limits, resources, entity=entity),
            container_image=image,
            pod_template=pod_template,
            **kwargs,
        )
        self._image = image
        self._cmd = list(command)
        self._args = list(arguments) if arguments is not None else None
        self._input_data_dir = input_data_dir
        self._output_data_dir = output_data_dir
        self._md_format = metadata_format
        self._io_strategy = io_strategy
        self.local_logs = local_logs

    # --- serialization -------------------------------------------------------------------------------

    def get_command(self, settings: SerializationSettings) -> list[str]:
        """The container's ``args``: ``arguments`` as given (Flyte fills ``{{.inputs.x}}``)."""
        return list(self._args or [])

    def get_container(self, settings: SerializationSettings) -> models.task.Container:
        """The task's container as flytekit writes it: ``command``, ``arguments``, resources (empty ones too),
        the settings' environment then the task's in that order, and the data loading config for Flyte's copilot.
        """
        task_models = models.task
        container = super().get_container(settings)
        # The variables taskloom's packager adds for its own entrypoint (the image of tasks made at run time)
        # mean nothing to a raw container's program: flytekit writes none there.
        environment = {key: value for key, value in (settings.env or {}).items() if key not in _ENTRYPOINT_VARIABLES}
        environment.update(self.environment)
        return attrs.evolve(
            container,
            command=tuple(self._cmd),
            resources=container.resources or task_models.Resources(),
            env=tuple(models.literals.KeyValuePair(key=key, value=value) for key, value in environment.items()),
            data_config=self._data_loading_config(),
        )

    def _data_loading_config(self) -> models.task.DataLoadingConfig:
        task_models = models.task
        io_strategy = None
        if self._io_strategy is not None:
            # flytekit hands the enum's value where flyteidl wants an IOStrategy message (and fails to
            # serialize); one mode is set here, the other keeps flyteidl's default.
            mode = self._io_strategy.value
            if mode in task_models.DownloadMode.__members__:
                io_strategy = task_models.IOStrategy(download_mode=task_models.DownloadMode[mode])
            else:
                io_strategy = task_models.IOStrategy(upload_mode=task_models.UploadMode[mode])
        return task_models.DataLoadingConfig(
            enabled=True,
            input_path=self._input_data_dir or "",
            output_path=self._output_data_dir or "",
            format=task_models.LiteralMapFormat[self._md_format.value],
            io_strategy=io_strategy,
        )

    # --- local execution -----------------------------------------------------------------------------

    def execute(self, **kwargs: Any) -> Any:
        """Run the container here: inputs in as files, outputs back from files (see the module's docstring)."""
        entity = f"task {self.name!r}"
        if self._md_format is ContainerTask.MetadataFormat.PROTO:
            raise UserValueError(
                f"{entity}: metadata_format PROTO writes inputs.pb, flyteidl's protobuf, which local runs do not "
                f"write; use JSON or YAML locally (the template keeps PROTO for the cluster)"
            )
        types = dict(self.python_interface.inputs)
        command = [self._render(entity, part, kwargs) for part in [*self._cmd, *(self._args or [])]]
        runtime = find_runtime(entity)
        image = self._image.image_name() if isinstance(self._image, ImageSpec) else self._image
        runtime.ensure_image(entity, image)
        work = Path(tempfile.mkdtemp(prefix="taskloom-container-"))
        outputs_kept = False
        try:
            mounts: list[tuple[Path, str]] = []
            if self._input_data_dir:
                inputs_directory = work / "inputs"
                inputs_directory.mkdir()
                copilot.write_inputs(
                    inputs_directory,
                    kwargs,
                    types,
                    container_directory=self._input_data_dir,
                    metadata_format=self._md_format.value,
                )
                mounts.append((inputs_directory, self._input_data_dir))
            outputs_directory = work / "outputs"
            outputs_directory.mkdir()
            if self._output_data_dir:
                mounts.append((outputs_directory, self._output_data_dir))
            timeout = self.metadata.timeout  # TaskMetadata makes seconds a timedelta; the field still says int
            seconds = timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout
            runtime.run(
                entity,
                image,
                command,
                mounts=mounts,
                environment=self.environment,
                timeout=seconds,
                echo=self.local_logs,
            )
            outputs = copilot.read_outputs(
                entity,
                outputs_directory,
                dict(self.python_interface.outputs),
                container_directory=self._output_data_dir or "",
            )
            outputs_kept = any(isinstance(value, (FlyteFile, FlyteDirectory)) for value in outputs.values())
        finally:
            # Files and directories given back point into the outputs: those stay, the rest goes.
            shutil.rmtree(work / "inputs", ignore_errors=True)
            if not outputs_kept:
                shutil.rmtree(work, ignore_errors=True)
        names = self.python_interface.output_names
        if not names:
            return None
        if len(names) == 1:
            return outputs[names[0]]
        return tuple(outputs[name] for name in names)

    def _render(self, entity: str, part: str, inputs: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group("name")
            if name not in inputs:
                raise ValidationError(
                    f"{entity}: the command line refers to input {name!r} ({match.group(0)}), which the task does "
                    f"not declare (inputs: {', '.join(inputs) or 'none'})"
                )
            given = inputs[name]
            if isinstance(given, (FlyteFile, FlyteDirectory)):
                # Where the file is in the container (flytekit requires the path form for these).
                return f"{(self._input_data_dir or '').rstrip('/')}/{name}"
            return copilot.text_of(given)

        return _INPUT_REFERENCE.sub(value, part)
