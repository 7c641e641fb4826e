"""The flyteidl codec: every kernel contract to and from its flyteidl v1 protobuf message::

    from taskloom_flyte.codec import from_proto, to_proto

    message = to_proto(template)        # a TaskTemplate contract gives a flyteidl.core.tasks_pb2.TaskTemplate
    assert from_proto(message) == template

The contracts of :mod:`taskloom.models` mirror flyteidl message for message and field for field,
so the mapping is mechanical. :data:`MESSAGES` pairs each contract class with its message class;
from the contract's attrs fields and the message's descriptor a *plan* is built once per class: one
small encoder and decoder per field, chosen by the field's protobuf kind. The shapes differ only in
these places, each handled once, by kind rather than by contract:

- ``google.protobuf.Timestamp`` is a timezone-aware ``datetime`` (read back in UTC) and
  ``google.protobuf.Duration`` a ``timedelta``; both hold microseconds, so nanoseconds written by
  another SDK are truncated when read.
- ``google.protobuf.Struct`` is a ``dict`` of JSON data. A Struct stores every number as a double:
  an ``int`` beyond +-2**53 cannot be written exactly and is an error; integral numbers are read
  back as ``int``, others as ``float``.
- ``google.protobuf.BoolValue`` is a ``bool | None``.
- enums are written by number; when the plans are built each member's name is checked against
  flyteidl's, so a kernel enum that drifts from flyteidl fails loudly rather than mislabels.
- maps are dicts, read back in key order (a protobuf map keeps no order); repeated fields are tuples.
- a field with presence (a oneof member, an optional scalar, a message) that is unset is read back
  as the contract field's default (None for the optional ones). The contract's ``__oneofs__`` are
  checked against the message's oneofs when the plans are built; when reading, a oneof member the
  kernel leaves out (e.g. ``Parameter.artifact_query``) is an error rather than silently dropped.
- ``float`` fields that flyteidl declares ``float`` (32 bits: ``ArrayNode.min_success_ratio``) are
  rounded to 32 bits when written and read back as the shortest decimal that rounds to the same
  32-bit value, so a ratio written with up to 6 significant digits (0.9, 0.75) round-trips exactly.

Other flyteidl fields that the kernel leaves out (artifacts, quality of service, the deprecated
``auth`` of launch plans, server-side closures; see the docstrings in :mod:`taskloom.models`) are not
written and are ignored when read.

A contract that flyteidl cannot hold (an integer out of its field's range, a naive datetime, a
non-JSON value in a Struct, a value nested deeper than protobuf's parsers read: :data:`MAX_DEPTH`)
raises :class:`CodecError` naming the contract, the field and where it sits, e.g.
``at nodes[0].inputs[1].binding.promise.attr_path[0].int_value: PromiseAttribute.int_value ...``
(the two ends of a very long path). A message that does not make a valid contract raises
:class:`CodecError` the same way; an object that is not a contract, or a message the codec does not
map, raises TypeError naming its type.

The kernel has no contract for a workflow closure (a workflow with the task templates it uses):
:func:`workflow_closure_to_proto` and :func:`workflow_closure_from_proto` map a workflow template and
its tasks to and from ``flyteidl.core.WorkflowClosure``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import struct
import threading
import typing
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from flyteidl.admin import common_pb2, launch_plan_pb2, schedule_pb2
from flyteidl.core import (
    condition_pb2,
    dynamic_job_pb2,
    identifier_pb2,
    interface_pb2,
    literals_pb2,
    security_pb2,
    tasks_pb2,
    types_pb2,
    workflow_closure_pb2,
    workflow_pb2,
)
from google.protobuf import struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from taskloom.extend import StorageError, SystemException, UserValueError, models

# The contract modules by the names of the flyteidl files they mirror (core/task.proto -> task).
dynamic_job, identifier, interface, launch_plan = (
    models.dynamic_job,
    models.identifier,
    models.interface,
    models.launch_plan,
)
security, task, types, workflow, lit = models.security, models.task, models.types, models.workflow, models.literals

__all__ = [
    "MAX_DEPTH",
    "MESSAGES",
    "CodecError",
    "from_proto",
    "literal_map_from_bytes",
    "literal_map_to_bytes",
    "to_proto",
    "workflow_closure_from_proto",
    "workflow_closure_to_proto",
]


class CodecError(UserValueError):
    """A contract that flyteidl cannot hold, or a message that does not make a valid contract.

    The message names the contract (or message) and the field, and the path to it from the value
    given to :func:`to_proto` or :func:`from_proto`. A ValueError.
    """


#: protobuf's recursion limit: its parsers (upb, C++ and pure Python alike, so flytekit's and this
#: codec's reads) refuse a document whose messages nest more than this many levels below its root,
#: a map's entry counting as a level. :func:`to_proto` refuses such a value when writing, rather
#: than leave it to be discovered by whoever reads it. (Measured: a LiteralMap holds 48 nested lists.)
MAX_DEPTH = 100

#: Each contract class and the flyteidl message class it mirrors.
MESSAGES: dict[type, type[Message]] = {
    # core/identifier.proto
    identifier.Identifier: identifier_pb2.Identifier,
    identifier.WorkflowExecutionIdentifier: identifier_pb2.WorkflowExecutionIdentifier,
    identifier.NodeExecutionIdentifier: identifier_pb2.NodeExecutionIdentifier,
    identifier.TaskExecutionIdentifier: identifier_pb2.TaskExecutionIdentifier,
    identifier.SignalIdentifier: identifier_pb2.SignalIdentifier,
    # core/types.proto
    types.SchemaColumn: types_pb2.SchemaType.SchemaColumn,
    types.SchemaType: types_pb2.SchemaType,
    types.DatasetColumn: types_pb2.StructuredDatasetType.DatasetColumn,
    types.StructuredDatasetType: types_pb2.StructuredDatasetType,
    types.BlobType: types_pb2.BlobType,
    types.EnumType: types_pb2.EnumType,
    types.UnionType: types_pb2.UnionType,
    types.TypeStructure: types_pb2.TypeStructure,
    types.TypeAnnotation: types_pb2.TypeAnnotation,
    types.LiteralType: types_pb2.LiteralType,
    types.PromiseAttribute: types_pb2.PromiseAttribute,
    types.OutputReference: types_pb2.OutputReference,
    types.Error: types_pb2.Error,
    # core/literals.proto
    lit.Primitive: literals_pb2.Primitive,
    lit.Void: literals_pb2.Void,
    lit.BlobMetadata: literals_pb2.BlobMetadata,
    lit.Blob: literals_pb2.Blob,
    lit.Binary: literals_pb2.Binary,
    lit.Schema: literals_pb2.Schema,
    lit.Union: literals_pb2.Union,
    lit.StructuredDatasetMetadata: literals_pb2.StructuredDatasetMetadata,
    lit.StructuredDataset: literals_pb2.StructuredDataset,
    lit.Scalar: literals_pb2.Scalar,
    lit.LiteralCollection: literals_pb2.LiteralCollection,
    lit.LiteralMap: literals_pb2.LiteralMap,
    lit.LiteralOffloadedMetadata: literals_pb2.LiteralOffloadedMetadata,
    lit.Literal: literals_pb2.Literal,
    lit.BindingDataCollection: literals_pb2.BindingDataCollection,
    lit.BindingDataMap: literals_pb2.BindingDataMap,
    lit.UnionInfo: literals_pb2.UnionInfo,
    lit.BindingData: literals_pb2.BindingData,
    lit.Binding: literals_pb2.Binding,
    lit.KeyValuePair: literals_pb2.KeyValuePair,
    lit.RetryStrategy: literals_pb2.RetryStrategy,
    # core/interface.proto
    interface.Variable: interface_pb2.Variable,
    interface.VariableMap: interface_pb2.VariableMap,
    interface.TypedInterface: interface_pb2.TypedInterface,
    interface.Parameter: interface_pb2.Parameter,
    interface.ParameterMap: interface_pb2.ParameterMap,
    # core/security.proto
    security.Secret: security_pb2.Secret,
    security.OAuth2Client: security_pb2.OAuth2Client,
    security.Identity: security_pb2.Identity,
    security.OAuth2TokenRequest: security_pb2.OAuth2TokenRequest,
    security.SecurityContext: security_pb2.SecurityContext,
    # core/tasks.proto
    task.ResourceEntry: tasks_pb2.Resources.ResourceEntry,
    task.Resources: tasks_pb2.Resources,
    task.GPUAccelerator: tasks_pb2.GPUAccelerator,
    task.SharedMemory: tasks_pb2.SharedMemory,
    task.ExtendedResources: tasks_pb2.ExtendedResources,
    task.RuntimeMetadata: tasks_pb2.RuntimeMetadata,
    task.K8sObjectMetadata: tasks_pb2.K8sObjectMetadata,
    task.TaskMetadata: tasks_pb2.TaskMetadata,
    task.ContainerPort: tasks_pb2.ContainerPort,
    task.IOStrategy: tasks_pb2.IOStrategy,
    task.DataLoadingConfig: tasks_pb2.DataLoadingConfig,
    task.Container: tasks_pb2.Container,
    task.K8sPod: tasks_pb2.K8sPod,
    task.Sql: tasks_pb2.Sql,
    task.TaskTemplate: tasks_pb2.TaskTemplate,
    # core/condition.proto
    workflow.Operand: condition_pb2.Operand,
    workflow.ComparisonExpression: condition_pb2.ComparisonExpression,
    workflow.ConjunctionExpression: condition_pb2.ConjunctionExpression,
    workflow.BooleanExpression: condition_pb2.BooleanExpression,
    # core/workflow.proto
    workflow.IfBlock: workflow_pb2.IfBlock,
    workflow.IfElseBlock: workflow_pb2.IfElseBlock,
    workflow.BranchNode: workflow_pb2.BranchNode,
    workflow.TaskNodeOverrides: workflow_pb2.TaskNodeOverrides,
    workflow.TaskNode: workflow_pb2.TaskNode,
    workflow.WorkflowNode: workflow_pb2.WorkflowNode,
    workflow.ApproveCondition: workflow_pb2.ApproveCondition,
    workflow.SignalCondition: workflow_pb2.SignalCondition,
    workflow.SleepCondition: workflow_pb2.SleepCondition,
    workflow.GateNode: workflow_pb2.GateNode,
    workflow.ArrayNode: workflow_pb2.ArrayNode,
    workflow.NodeMetadata: workflow_pb2.NodeMetadata,
    workflow.Alias: workflow_pb2.Alias,
    workflow.Node: workflow_pb2.Node,
    workflow.WorkflowMetadata: workflow_pb2.WorkflowMetadata,
    workflow.WorkflowMetadataDefaults: workflow_pb2.WorkflowMetadataDefaults,
    workflow.WorkflowTemplate: workflow_pb2.WorkflowTemplate,
    workflow.LaunchPlanTemplate: workflow_pb2.LaunchPlanTemplate,
    # admin/schedule.proto, admin/common.proto, admin/launch_plan.proto
    launch_plan.FixedRate: schedule_pb2.FixedRate,
    launch_plan.CronSchedule: schedule_pb2.CronSchedule,
    launch_plan.Schedule: schedule_pb2.Schedule,
    launch_plan.EmailNotification: common_pb2.EmailNotification,
    launch_plan.PagerDutyNotification: common_pb2.PagerDutyNotification,
    launch_plan.SlackNotification: common_pb2.SlackNotification,
    launch_plan.Notification: common_pb2.Notification,
    launch_plan.Labels: common_pb2.Labels,
    launch_plan.Annotations: common_pb2.Annotations,
    launch_plan.RawOutputDataConfig: common_pb2.RawOutputDataConfig,
    launch_plan.Envs: common_pb2.Envs,
    launch_plan.LaunchPlanMetadata: launch_plan_pb2.LaunchPlanMetadata,
    launch_plan.LaunchPlanSpec: launch_plan_pb2.LaunchPlanSpec,
    launch_plan.LaunchPlan: launch_plan_pb2.LaunchPlan,
    # core/dynamic_job.proto
    dynamic_job.DynamicJobSpec: dynamic_job_pb2.DynamicJobSpec,
}

# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def to_proto(contract: Any, *, depth: int = 0) -> Message:
    """Return the flyteidl message of a kernel contract (any class of :data:`MESSAGES`).

    ``depth`` is the level at which the message will sit in the document that is written: 0 when it
    is the document (an ``outputs.pb``), 1 for a TaskTemplate inside an admin ``TaskSpec``.

    Raises TypeError when ``contract`` is not a contract, :class:`CodecError` when it holds a value
    flyteidl cannot (the error names the contract, the field and the path to it), including one
    nested more than :data:`MAX_DEPTH` levels below the document's root.
    """
    plan = _plans().by_contract.get(type(contract))
    if plan is None:
        raise TypeError(
            f"to_proto: expected a kernel contract (a class of taskloom.models), got {_type_name(contract)}"
        )
    message = plan.message()
    try:
        _fill(message, contract, depth, plan)
    except _Failure as failure:
        raise CodecError(
            f"cannot encode {type(contract).__name__} as {plan.descriptor.full_name}: {failure.describe()}"
        ) from failure.__cause__
    return message


def from_proto(message: Message) -> Any:
    """Return the kernel contract of a flyteidl message, dispatching on the message's type.

    Raises TypeError when ``message`` is not a protobuf message or not one that :data:`MESSAGES`
    maps, :class:`CodecError` when its content does not make a valid contract.
    """
    if not isinstance(message, Message):
        raise TypeError(f"from_proto: expected a flyteidl protobuf message, got {_type_name(message)}")
    full_name = message.DESCRIPTOR.full_name
    plan = _plans().by_message.get(full_name)
    if plan is None:
        hint = ""
        if full_name == "flyteidl.core.WorkflowClosure":
            hint = "; use workflow_closure_from_proto"
        raise TypeError(f"from_proto: no kernel contract for the protobuf message {full_name}{hint}")
    try:
        return _decode(message, plan)
    except _Failure as failure:
        raise CodecError(f"cannot decode {full_name}: {failure.describe()}") from failure.__cause__


def literal_map_to_bytes(literal_map: lit.LiteralMap) -> bytes:
    """Serialise a literal map as a flyteidl ``LiteralMap`` (deterministically: sorted map keys)."""
    if not isinstance(literal_map, lit.LiteralMap):
        raise TypeError(f"literal_map_to_bytes: expected a LiteralMap, got {_type_name(literal_map)}")
    return to_proto(literal_map).SerializeToString(deterministic=True)


def literal_map_from_bytes(data: bytes, *, source: str = "") -> lit.LiteralMap:
    """Read a literal map from the bytes of a flyteidl ``LiteralMap`` (an ``inputs.pb``, ``outputs.pb``).

    ``source`` (a path or URI) is named in errors: a truncated or corrupt payload raises
    :class:`~taskloom.exceptions.system.StorageError`.
    """
    where = f"{source!r}" if source else "payload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"literal_map_from_bytes: expected bytes for {where}, got {_type_name(data)}")
    message = literals_pb2.LiteralMap()
    try:
        message.ParseFromString(bytes(data))
    except DecodeError as error:
        if "MaxDepth" in str(error) or "levels of nesting" in str(error):  # upb's and pure Python's words
            raise StorageError(
                f"{where} nests messages deeper than protobuf's limit of {MAX_DEPTH} levels, so it cannot be read; "
                "its writer did not check the depth"
            ) from error
        raise StorageError(
            f"{where} is not a flyteidl LiteralMap ({len(data)} bytes; truncated or corrupt?): {error}"
        ) from error
    try:
        return from_proto(message)
    except CodecError as error:
        raise StorageError(f"{where} holds an invalid flyteidl LiteralMap: {error}") from error


def workflow_closure_to_proto(
    workflow_template: workflow.WorkflowTemplate, tasks: Iterable[task.TaskTemplate] = ()
) -> workflow_closure_pb2.WorkflowClosure:
    """Return the ``flyteidl.core.WorkflowClosure`` of a workflow and the task templates it uses."""
    if not isinstance(workflow_template, workflow.WorkflowTemplate):
        raise TypeError(f"workflow_closure_to_proto: expected a WorkflowTemplate, got {_type_name(workflow_template)}")
    closure = workflow_closure_pb2.WorkflowClosure(workflow=to_proto(workflow_template, depth=1))
    for position, template in enumerate(tasks):
        if not isinstance(template, task.TaskTemplate):
            raise TypeError(
                f"workflow_closure_to_proto: tasks[{position}] must be a TaskTemplate, got {_type_name(template)}"
            )
        closure.tasks.append(to_proto(template, depth=1))
    return closure


def workflow_closure_from_proto(
    message: workflow_closure_pb2.WorkflowClosure,
) -> tuple[workflow.WorkflowTemplate, tuple[task.TaskTemplate, ...]]:
    """Return the workflow template and the task templates of a ``flyteidl.core.WorkflowClosure``."""
    if not isinstance(message, Message) or message.DESCRIPTOR.full_name != "flyteidl.core.WorkflowClosure":
        raise TypeError(f"workflow_closure_from_proto: expected a flyteidl WorkflowClosure, got {_type_name(message)}")
    return from_proto(message.workflow), tuple(from_proto(template) for template in message.tasks)


def _type_name(value: Any) -> str:
    if isinstance(value, Message):
        return f"the protobuf message {value.DESCRIPTOR.full_name}"
    return f"{type(value).__module__}.{type(value).__qualname__}"


# ---------------------------------------------------------------------------------------------
# Failures: a reason and the path from the outermost value to the field that failed
# ---------------------------------------------------------------------------------------------


class _Failure(Exception):
    """Raised inside the codec; the public functions turn it into CodecError with its path."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []  # innermost first; field names and [index] / ['key'] steps

    def describe(self) -> str:
        steps = [step if step.startswith("[") else f".{step}" for step in reversed(self.path)]
        if len(steps) > 16:  # a deeply nested value: the two ends of its path say where it is
            steps = [*steps[:8], f" ...{len(steps) - 12} steps... ", *steps[-4:]]
        where = "".join(steps).lstrip(".")
        return f"at {where}: {self.reason}" if where else self.reason


def _enter(depth: int) -> None:
    """Refuse to write a message (or a map's entry) at ``depth`` levels below the document's root
    when protobuf's parsers would refuse to read it back."""
    if depth > MAX_DEPTH:
        raise _Failure(
            f"nested too deep: level {depth} of the document, where protobuf's parsers stop at {MAX_DEPTH} "
            "levels (their recursion limit), so it could not be read back"
        )


# ---------------------------------------------------------------------------------------------
# Encoding and decoding, driven by the plans
# ---------------------------------------------------------------------------------------------

Encoder = Callable[[Message, Any, int], None]  # (message, value, the message's level in the document)
Decoder = Callable[[Message], Any]
_UNSET = object()  # a decoder's answer for "leave the field to the contract's default"


class _Plan:
    """How one contract class maps to one message class: an encoder and a decoder per field."""

    __slots__ = ("contract", "decoders", "descriptor", "encoders", "message", "oneofs")

    def __init__(self, contract: type, message: type[Message]) -> None:
        self.contract = contract
        self.message = message
        self.descriptor: Descriptor = message.DESCRIPTOR
        self.encoders: list[tuple[str, Encoder]] = []
        self.decoders: list[tuple[str, Decoder]] = []
        # Contract oneof groups and their members, to refuse a member the kernel leaves out.
        self.oneofs: list[tuple[str, tuple[str, ...]]] = []


def _fill(message: Message, contract: Any, depth: int, plan: _Plan | None = None) -> None:
    """Write the fields of ``contract`` into ``message`` (an empty message of its type, ``depth``
    levels below the root of the document)."""
    _enter(depth)
    if plan is None:
        plan = _plans().by_contract.get(type(contract))
        if plan is None or plan.descriptor is not message.DESCRIPTOR:
            expected = _plans().by_message[message.DESCRIPTOR.full_name].contract.__name__
            raise _Failure(f"expected a {expected} (for {message.DESCRIPTOR.full_name}), got {_type_name(contract)}")
    for name, encode in plan.encoders:
        value = getattr(contract, name)
        if value is None:
            continue
        try:
            encode(message, value, depth)
        except _Failure as failure:
            failure.path.append(name)
            raise
        except (TypeError, ValueError, OverflowError) as error:
            field = plan.descriptor.fields_by_name[name]
            kind = field.message_type.full_name if field.message_type else _KIND_NAMES.get(field.type, "scalar")
            # Not `failure`: the clause above binds (and Python then unbinds) that name; mypy refuses its reuse.
            unwritable = _Failure(
                f"{plan.contract.__name__}.{name} = {_short_repr(value)} cannot be written to the {kind} field "
                f"{field.full_name} ({type(error).__name__}: {error})"
            )
            unwritable.path.append(name)
            raise unwritable from error


def _decode(message: Message, plan: _Plan | None = None) -> Any:
    """Build the contract of ``message``."""
    if plan is None:
        plan = _plans().by_message[message.DESCRIPTOR.full_name]
    for group, members in plan.oneofs:
        chosen = message.WhichOneof(group)
        if chosen is not None and chosen not in members:
            failure = _Failure(
                f"{plan.descriptor.full_name}.{chosen} (oneof {group!r}) has no counterpart in the kernel's "
                f"{plan.contract.__name__}, which holds only {', '.join(members)}"
            )
            failure.path.append(chosen)
            raise failure
    values = {}
    for name, decode in plan.decoders:
        try:
            value = decode(message)
        except _Failure as failure:
            failure.path.append(name)
            raise
        except (TypeError, ValueError, OverflowError) as error:
            unreadable = _Failure(f"{plan.descriptor.full_name}.{name}: {error}")  # not `failure`: see _fill
            unreadable.path.append(name)
            raise unreadable from error
        if value is not _UNSET:
            values[name] = value
    try:
        return plan.contract(**values)
    except (TypeError, ValueError) as error:
        raise _Failure(
            f"{plan.descriptor.full_name} does not make a valid {plan.contract.__name__}: {error}"
        ) from error


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_KIND_NAMES = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_FLOAT: "float32",
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_ENUM: "enum",
}

# ---------------------------------------------------------------------------------------------
# Field encoders and decoders, by protobuf kind
# ---------------------------------------------------------------------------------------------


def _field_codec(field: FieldDescriptor, attribute: attrs.Attribute) -> tuple[Encoder, Decoder]:
    """The encoder and decoder of one field, by its protobuf kind."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_codec(field)
    if field.is_repeated:
        return _repeated_codec(field, attribute)
    encode, decode = _singular_codec(field, attribute)
    if not field.has_presence:
        return encode, decode
    # Unset reads as the contract's default (None for optional fields); a required contract field
    # reads the message's default value, which the contract then validates.
    name, read_present = field.name, decode
    has_default = attribute.default is not attrs.NOTHING

    def decode_present(message: Message) -> Any:
        if has_default and not message.HasField(name):
            return _UNSET
        return read_present(message)

    return encode, decode_present


def _singular_codec(field: FieldDescriptor, attribute: attrs.Attribute) -> tuple[Encoder, Decoder]:
    name = field.name
    if field.message_type is None:
        to_wire, from_wire = _scalar_conversions(field, attribute)

        def encode(message: Message, value: Any, depth: int) -> None:
            setattr(message, name, to_wire(value))

        def decode(message: Message) -> Any:
            return from_wire(getattr(message, name))

    elif field.message_type.full_name in _WELL_KNOWN:
        write, read = _WELL_KNOWN[field.message_type.full_name]

        def encode(message: Message, value: Any, depth: int) -> None:
            _enter(depth + 1)
            write(getattr(message, name), value, depth + 1)

        def decode(message: Message) -> Any:
            return read(getattr(message, name))

    else:

        def encode(message: Message, value: Any, depth: int) -> None:
            sub_message = getattr(message, name)
            sub_message.SetInParent()  # an empty contract (Void, defaults only) is still present
            _fill(sub_message, value, depth + 1)

        def decode(message: Message) -> Any:
            return _decode(getattr(message, name))

    return encode, decode


def _map_codec(field: FieldDescriptor) -> tuple[Encoder, Decoder]:
    name = field.name
    if field.message_type.fields_by_name["value"].message_type is None:

        def encode(message: Message, value: dict[str, Any], depth: int) -> None:
            if value:
                _enter(depth + 1)  # each entry is a message
            getattr(message, name).update(value)

        def decode(message: Message) -> dict[str, Any]:
            return dict(sorted(getattr(message, name).items()))

        return encode, decode

    def encode_messages(message: Message, value: dict[str, Any], depth: int) -> None:
        entries = getattr(message, name)
        for key, item in value.items():
            try:
                _enter(depth + 1)  # the entry, which holds the value's message
                _fill(entries[key], item, depth + 2)
            except _Failure as failure:
                failure.path.append(f"[{key!r}]")
                raise

    def decode_messages(message: Message) -> dict[str, Any]:
        result = {}
        for key, item in sorted(getattr(message, name).items()):
            try:
                result[key] = _decode(item)
            except _Failure as failure:
                failure.path.append(f"[{key!r}]")
                raise
        return result

    return encode_messages, decode_messages


def _repeated_codec(field: FieldDescriptor, attribute: attrs.Attribute) -> tuple[Encoder, Decoder]:
    name = field.name
    if field.message_type is None:
        to_wire, from_wire = _scalar_conversions(field, attribute)

        def encode(message: Message, value: tuple[Any, ...], depth: int) -> None:
            getattr(message, name).extend([to_wire(item) for item in value])

        def decode(message: Message) -> tuple[Any, ...]:
            return tuple(from_wire(item) for item in getattr(message, name))

        return encode, decode

    def encode_messages(message: Message, value: tuple[Any, ...], depth: int) -> None:
        items = getattr(message, name)
        for position, item in enumerate(value):
            try:
                _fill(items.add(), item, depth + 1)
            except _Failure as failure:
                failure.path.append(f"[{position}]")
                raise

    def decode_messages(message: Message) -> tuple[Any, ...]:
        result = []
        for position, item in enumerate(getattr(message, name)):
            try:
                result.append(_decode(item))
            except _Failure as failure:
                failure.path.append(f"[{position}]")
                raise
        return tuple(result)

    return encode_messages, decode_messages


def _scalar_conversions(
    field: FieldDescriptor, attribute: attrs.Attribute
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How a scalar value goes to the wire and back: enums by number, float32 by shortest decimal."""
    if field.enum_type is not None:
        enum_class = _enum_class(attribute)
        return (
            functools.partial(_enum_number, enum_class=enum_class),
            functools.partial(_enum_member, enum_class=enum_class, field=field),
        )
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return _to_float32, _shortest_float32
    return _same, _same


def _same(value: Any) -> Any:
    return value


# --- enums -----------------------------------------------------------------------------------


def _enum_class(attribute: attrs.Attribute) -> type[enum.Enum]:
    for candidate in (attribute.type, *typing.get_args(attribute.type)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate
    raise SystemException(f"taskloom-flyte: contract field {attribute.name!r} maps to a flyteidl enum but is no Enum")


def _enum_number(value: Any, enum_class: type[enum.Enum]) -> int:
    if not isinstance(value, enum_class):
        raise TypeError(f"expected a {enum_class.__name__} member, got {_short_repr(value)}")
    return value.value


def _enum_member(number: int, enum_class: type[enum.Enum], field: FieldDescriptor) -> enum.Enum:
    try:
        return enum_class(number)
    except ValueError:
        raise ValueError(
            f"{number} is no member of {enum_class.__name__} ({field.enum_type.full_name}); "
            "written by a newer flyteidl?"
        ) from None


def _check_enum(contract: type, field: FieldDescriptor, enum_class: type[enum.Enum]) -> None:
    names = {value.number: value.name for value in field.enum_type.values}
    for member in enum_class:
        if names.get(member.value) != member.name:
            raise SystemException(
                f"taskloom-flyte: {contract.__name__}.{field.name}: {enum_class.__name__}.{member.name} = {member.value} "
                f"is {names.get(member.value, 'missing')!s} in {field.enum_type.full_name}; "
                "the kernel and the installed flyteidl disagree"
            )


# --- float32 -----------------------------------------------------------------------------------

_FLOAT32_MAX = 3.4028234663852886e38


def _to_float32(value: float) -> float:
    value = float(value)
    if math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        raise ValueError(f"{value!r} is beyond the range of a 32-bit float")
    return value


def _shortest_float32(value: float) -> float:
    """The shortest decimal that rounds to the same 32-bit float as ``value`` (a widened float32)."""
    if not math.isfinite(value):
        return value
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", candidate))[0] == value:
            return candidate
    return value


# --- well-known types: Timestamp, Duration, Struct, BoolValue -------------------------------------


def _write_timestamp(target: Message, value: dt.datetime, depth: int) -> None:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"expected a datetime, got {_short_repr(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a Timestamp is an instant: the datetime {value!r} must be timezone-aware")
    target.FromDatetime(value)


def _read_timestamp(source: Message) -> dt.datetime:
    return source.ToDatetime(tzinfo=dt.UTC)


def _write_duration(target: Message, value: dt.timedelta, depth: int) -> None:
    if not isinstance(value, dt.timedelta):
        raise TypeError(f"expected a timedelta, got {_short_repr(value)}")
    target.FromTimedelta(value)


def _read_duration(source: Message) -> dt.timedelta:
    return source.ToTimedelta()


def _write_bool_value(target: Message, value: bool, depth: int) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool, got {_short_repr(value)}")
    target.SetInParent()
    target.value = value


def _read_bool_value(source: Message) -> bool:
    return source.value


# A Struct stores numbers as doubles, exact for integers up to 2**53.
_MAX_EXACT_INT = 2**53


def _write_struct(target: Message, value: dict[str, Any], depth: int) -> None:
    if not isinstance(value, dict):
        raise TypeError(f"expected a dict of JSON data, got {_short_repr(value)}")
    target.SetInParent()
    _write_json_object(target, value, depth)


# JSON nests messages too: a Struct's entry holds a Value, which holds a Struct or a ListValue.
def _write_json_object(target: struct_pb2.Struct, value: dict[Any, Any], depth: int) -> None:
    _enter(depth)
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"a Struct's keys are strings, got the key {_short_repr(key)}")
        _enter(depth + 1)
        _write_json(target.fields[key], item, depth + 2)


def _write_json(target: struct_pb2.Value, value: Any, depth: int) -> None:
    _enter(depth)
    if value is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if abs(value) > _MAX_EXACT_INT:
            raise ValueError(f"the integer {value} is too large for a Struct, which holds numbers as doubles")
        target.number_value = value
    elif isinstance(value, float):
        target.number_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, dict):
        target.struct_value.SetInParent()
        _write_json_object(target.struct_value, value, depth + 1)
    elif isinstance(value, (list, tuple)):
        _enter(depth + 1)
        target.list_value.SetInParent()
        for item in value:
            _write_json(target.list_value.values.add(), item, depth + 2)
    else:
        raise TypeError(f"a Struct holds JSON data only, got {_type_name(value)} {_short_repr(value)}")


def _read_struct(source: struct_pb2.Struct) -> dict[str, Any]:
    return {key: _read_json(source.fields[key]) for key in sorted(source.fields)}


def _read_json(source: struct_pb2.Value) -> Any:
    kind = source.WhichOneof("kind")
    if kind == "number_value":
        number = source.number_value
        return int(number) if number.is_integer() and abs(number) <= _MAX_EXACT_INT else number
    if kind == "string_value":
        return source.string_value
    if kind == "bool_value":
        return source.bool_value
    if kind == "struct_value":
        return _read_struct(source.struct_value)
    if kind == "list_value":
        return [_read_json(item) for item in source.list_value.values]
    return None  # null_value, or a Value with no kind set


#: Writers take (target, value, the target's level); only a Struct nests further.
_WELL_KNOWN: dict[str, tuple[Callable[[Any, Any, int], None], Callable[[Any], Any]]] = {
    "google.protobuf.Timestamp": (_write_timestamp, _read_timestamp),
    "google.protobuf.Duration": (_write_duration, _read_duration),
    "google.protobuf.Struct": (_write_struct, _read_struct),
    "google.protobuf.BoolValue": (_write_bool_value, _read_bool_value),
}

# ---------------------------------------------------------------------------------------------
# Building the plans (once, on first use)
# ---------------------------------------------------------------------------------------------


class _Plans:
    def __init__(self, by_contract: dict[type, _Plan]) -> None:
        self.by_contract = by_contract
        self.by_message = {plan.descriptor.full_name: plan for plan in by_contract.values()}


_built: _Plans | None = None
_lock = threading.Lock()


def _plans() -> _Plans:
    global _built
    if _built is None:
        with _lock:
            if _built is None:
                _built = _Plans({contract: _build_plan(contract, message) for contract, message in MESSAGES.items()})
    return _built


def _build_plan(contract: type, message: type[Message]) -> _Plan:
    attrs.resolve_types(contract)
    plan = _Plan(contract, message)
    descriptor = plan.descriptor
    for group, (members, _required) in getattr(contract, "__oneofs__", {}).items():
        oneof = descriptor.oneofs_by_name.get(group)
        if oneof is None or not set(members) <= {field.name for field in oneof.fields}:
            raise SystemException(
                f"taskloom-flyte: the oneof {group!r} of {contract.__name__} ({', '.join(members)}) does not match "
                f"{descriptor.full_name}"
            )
        plan.oneofs.append((group, tuple(members)))
    for attribute in attrs.fields(contract):
        field = descriptor.fields_by_name.get(attribute.name)
        if field is None:
            plan.encoders.append((attribute.name, _unrepresentable(contract, attribute, descriptor)))
            continue
        if field.enum_type is not None:
            _check_enum(contract, field, _enum_class(attribute))
        encode, decode = _field_codec(field, attribute)
        plan.encoders.append((attribute.name, encode))
        plan.decoders.append((attribute.name, decode))
    return plan


def _unrepresentable(contract: type, attribute: attrs.Attribute, descriptor: Descriptor) -> Encoder:
    """The encoder of a contract field that flyteidl has no field for: only its default can be written."""
    default: Any = attribute.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # a class; attrs's stubs say a function
        default = default.factory()

    def encode(message: Message, value: Any, depth: int) -> None:
        if value != default:
            raise _Failure(
                f"{contract.__name__}.{attribute.name} = {_short_repr(value)} cannot be represented in flyteidl: "
                f"{descriptor.full_name} has no field {attribute.name!r}"
            )

    return encode
