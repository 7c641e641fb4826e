"""Task templates and what they run in (flyteidl ``core/tasks.proto``)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models._oneof import oneof
from taskloom.models.identifier import Identifier
from taskloom.models.interface import TypedInterface
from taskloom.models.literals import KeyValuePair, RetryStrategy
from taskloom.models.security import SecurityContext


class ResourceName(enum.Enum):
    """A kind of compute resource (flyteidl ``core.Resources.ResourceName``)."""

    UNKNOWN = 0
    CPU = 1
    GPU = 2
    MEMORY = 3
    STORAGE = 4
    EPHEMERAL_STORAGE = 5


@attrs.frozen
class ResourceEntry:
    """An amount of one resource (flyteidl ``core.Resources.ResourceEntry``).

    ``value`` is a Kubernetes quantity string such as ``"500m"`` or ``"2Gi"``.
    """

    name: ResourceName
    value: str


@attrs.frozen
class Resources:
    """Resource requests and limits of a container (flyteidl ``core.Resources``)."""

    ResourceName = ResourceName
    ResourceEntry = ResourceEntry

    requests: tuple[ResourceEntry, ...] = attrs.field(default=(), converter=as_tuple)
    limits: tuple[ResourceEntry, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
@oneof("partition_size_value", "unpartitioned", "partition_size", required=False)
class GPUAccelerator:
    """The GPU model a task needs and how it is partitioned (flyteidl ``core.GPUAccelerator``)."""

    device: str
    unpartitioned: bool | None = None
    partition_size: str | None = None


@attrs.frozen
class SharedMemory:
    """A shared-memory volume mounted into the task's container (flyteidl ``core.SharedMemory``)."""

    mount_path: str
    mount_name: str
    size_limit: str = ""


@attrs.frozen
class ExtendedResources:
    """Resources beyond requests and limits (flyteidl ``core.ExtendedResources``)."""

    gpu_accelerator: GPUAccelerator | None = None
    shared_memory: SharedMemory | None = None


class RuntimeType(enum.Enum):
    """The kind of SDK that produced a task (flyteidl ``core.RuntimeMetadata.RuntimeType``)."""

    OTHER = 0
    FLYTE_SDK = 1


@attrs.frozen
class RuntimeMetadata:
    """The SDK that produced a task and its version (flyteidl ``core.RuntimeMetadata``)."""

    RuntimeType = RuntimeType

    type: RuntimeType = RuntimeType.OTHER
    version: str = ""
    flavor: str = ""


@attrs.frozen
class K8sObjectMetadata:
    """Kubernetes labels and annotations for the pod that runs a task (flyteidl ``core.K8sObjectMetadata``)."""

    labels: dict[str, str] = attrs.field(factory=dict, hash=False)
    annotations: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class TaskMetadata:
    """How a task is run: caching, retries, timeout, interruptibility (flyteidl ``core.TaskMetadata``).

    ``interruptible`` and ``generates_deck`` are None when unset (flyteidl tracks their presence).
    """

    discoverable: bool = False
    runtime: RuntimeMetadata | None = None
    timeout: dt.timedelta | None = None
    retries: RetryStrategy = attrs.field(factory=RetryStrategy)
    discovery_version: str = ""
    deprecated_error_message: str = ""
    interruptible: bool | None = None
    cache_serializable: bool = False
    tags: dict[str, str] = attrs.field(factory=dict, hash=False)
    pod_template_name: str = ""
    cache_ignore_input_vars: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    is_eager: bool = False
    generates_deck: bool | None = None
    metadata: K8sObjectMetadata | None = None


@attrs.frozen
class ContainerPort:
    """A port the task's container exposes (flyteidl ``core.ContainerPort``)."""

    container_port: int
    name: str = ""


class DownloadMode(enum.Enum):
    """When a copilot sidecar downloads inputs (flyteidl ``core.IOStrategy.DownloadMode``)."""

    DOWNLOAD_EAGER = 0
    DOWNLOAD_STREAM = 1
    DO_NOT_DOWNLOAD = 2


class UploadMode(enum.Enum):
    """When a copilot sidecar uploads outputs (flyteidl ``core.IOStrategy.UploadMode``)."""

    UPLOAD_ON_EXIT = 0
    UPLOAD_EAGER = 1
    DO_NOT_UPLOAD = 2


@attrs.frozen
class IOStrategy:
    """How inputs and outputs are moved for a raw container (flyteidl ``core.IOStrategy``)."""

    DownloadMode = DownloadMode
    UploadMode = UploadMode

    download_mode: DownloadMode = DownloadMode.DOWNLOAD_EAGER
    upload_mode: UploadMode = UploadMode.UPLOAD_ON_EXIT


class LiteralMapFormat(enum.Enum):
    """The file format of raw-container inputs and outputs (flyteidl ``core.DataLoadingConfig.LiteralMapFormat``)."""

    JSON = 0
    YAML = 1
    PROTO = 2


@attrs.frozen
class DataLoadingConfig:
    """Where a raw container (no SDK inside) reads inputs and writes outputs (flyteidl ``core.DataLoadingConfig``)."""

    LiteralMapFormat = LiteralMapFormat

    enabled: bool = False
    input_path: str = ""
    output_path: str = ""
    format: LiteralMapFormat = LiteralMapFormat.JSON
    io_strategy: IOStrategy | None = None


class Architecture(enum.Enum):
    """The CPU architecture of a container image (flyteidl ``core.Container.Architecture``)."""

    UNKNOWN = 0
    AMD64 = 1
    ARM64 = 2
    ARM_V6 = 3
    ARM_V7 = 4


@attrs.frozen
class Container:
    """The container a task runs in: image, command line, resources, environment (flyteidl ``core.Container``)."""

    Architecture = Architecture

    image: str
    command: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    args: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)
    resources: Resources | None = None
    env: tuple[KeyValuePair, ...] = attrs.field(default=(), converter=as_tuple)
    config: tuple[KeyValuePair, ...] = attrs.field(default=(), converter=as_tuple)
    ports: tuple[ContainerPort, ...] = attrs.field(default=(), converter=as_tuple)
    data_config: DataLoadingConfig | None = None
    architecture: Architecture = Architecture.UNKNOWN


@attrs.frozen
class K8sPod:
    """A whole Kubernetes pod a task runs as (flyteidl ``core.K8sPod``).

    ``pod_spec`` is the JSON form of a Kubernetes ``PodSpec``, kept as a plain dict.
    """

    metadata: K8sObjectMetadata | None = None
    pod_spec: dict[str, Any] = attrs.field(factory=dict, hash=False)
    data_config: DataLoadingConfig | None = None
    primary_container_name: str = ""


class Dialect(enum.Enum):
    """The SQL dialect of a query task (flyteidl ``core.Sql.Dialect``)."""

    UNDEFINED = 0
    ANSI = 1
    HIVE = 2
    OTHER = 3


@attrs.frozen
class Sql:
    """A SQL statement a task runs (flyteidl ``core.Sql``)."""

    Dialect = Dialect

    statement: str
    dialect: Dialect = Dialect.UNDEFINED


@attrs.frozen
@oneof("target", "container", "k8s_pod", "sql", required=False)
class TaskTemplate:
    """Everything needed to run a task: identity, interface, metadata and target (flyteidl ``core.TaskTemplate``).

    ``type`` names the task type (``"python-task"``, ``"sql"``...); ``custom`` is the task type's
    own JSON-able configuration. At most one of ``container``, ``k8s_pod`` and ``sql`` is set; none
    is set for tasks that a backend plugin runs without a container.
    """

    id: Identifier
    type: str
    metadata: TaskMetadata = attrs.field(factory=TaskMetadata)
    interface: TypedInterface = attrs.field(factory=TypedInterface)
    custom: dict[str, Any] | None = attrs.field(default=None, hash=False)
    container: Container | None = None
    k8s_pod: K8sPod | None = None
    sql: Sql | None = None
    task_type_version: int = 0
    security_context: SecurityContext | None = None
    extended_resources: ExtendedResources | None = None
    config: dict[str, str] = attrs.field(factory=dict, hash=False)
