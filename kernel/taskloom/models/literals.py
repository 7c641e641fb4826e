"""Literals: values as they cross process, network and storage boundaries (flyteidl ``core/literals.proto``).

:class:`Union` is named after flyteidl's message and shadows ``typing.Union`` in this module only;
annotations here use ``X | None``. :class:`Literal` and :class:`BindingData` are recursive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models._oneof import oneof
from taskloom.models.types import BlobType, Error, LiteralType, OutputReference, SchemaType, StructuredDatasetType


def _utc_datetime(value: dt.datetime | None) -> dt.datetime | None:
    # A protobuf Timestamp is an instant: naive datetimes are ambiguous, so refuse them here rather
    # than let two processes in different time zones read different instants.
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Primitive: 'datetime' must be timezone-aware, got naive {value!r}")
    return value.astimezone(dt.UTC)


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@attrs.frozen
@oneof("value", "integer", "float_value", "string_value", "boolean", "datetime", "duration")
class Primitive:
    """A single primitive value (flyteidl ``core.Primitive``).

    ``datetime`` must be timezone-aware and is stored in UTC; ``integer`` is a signed 64-bit integer
    on the wire.
    """

    integer: int | None = None
    float_value: float | None = attrs.field(default=None, converter=_optional_float)
    string_value: str | None = None
    boolean: bool | None = None
    datetime: dt.datetime | None = attrs.field(default=None, converter=_utc_datetime)
    duration: dt.timedelta | None = None


@attrs.frozen
class Void:
    """The value of ``None`` (flyteidl ``core.Void``)."""


@attrs.frozen
class BlobMetadata:
    """The type of a blob (flyteidl ``core.BlobMetadata``)."""

    type: BlobType = attrs.field(factory=BlobType)


@attrs.frozen
class Blob:
    """A file or directory given by its URI (flyteidl ``core.Blob``)."""

    metadata: BlobMetadata
    uri: str


@attrs.frozen
class Binary:
    """Opaque bytes with a tag saying how to read them, e.g. ``msgpack`` (flyteidl ``core.Binary``)."""

    value: bytes
    tag: str = ""


@attrs.frozen
class Schema:
    """A (legacy) schema: a URI and its columns (flyteidl ``core.Schema``)."""

    uri: str
    type: SchemaType = attrs.field(factory=SchemaType)


@attrs.frozen
class Union:
    """A value of a union type together with the variant it was stored as (flyteidl ``core.Union``)."""

    value: Literal
    type: LiteralType


@attrs.frozen
class StructuredDatasetMetadata:
    """The type of a structured dataset as stored (flyteidl ``core.StructuredDatasetMetadata``)."""

    structured_dataset_type: StructuredDatasetType | None = None


@attrs.frozen
class StructuredDataset:
    """A table given by its URI and metadata (flyteidl ``core.StructuredDataset``)."""

    uri: str
    metadata: StructuredDatasetMetadata | None = None


@attrs.frozen
@oneof(
    "value",
    "primitive",
    "blob",
    "binary",
    "schema",
    "none_type",
    "error",
    "generic",
    "structured_dataset",
    "union",
)
class Scalar:
    """A non-container value: exactly one kind (flyteidl ``core.Scalar``).

    ``generic`` is a JSON-able dict (``google.protobuf.Struct``).
    """

    primitive: Primitive | None = None
    blob: Blob | None = None
    binary: Binary | None = None
    schema: Schema | None = None
    none_type: Void | None = None
    error: Error | None = None
    generic: dict[str, Any] | None = attrs.field(default=None, hash=False)
    structured_dataset: StructuredDataset | None = None
    union: Union | None = None


@attrs.frozen
class LiteralCollection:
    """An ordered list of literals (flyteidl ``core.LiteralCollection``)."""

    literals: tuple[Literal, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class LiteralMap:
    """Literals by name: the inputs or outputs of an entity, or a ``dict[str, T]`` (flyteidl ``core.LiteralMap``)."""

    literals: dict[str, Literal] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class LiteralOffloadedMetadata:
    """Where a literal too large to inline was stored (flyteidl ``core.LiteralOffloadedMetadata``)."""

    uri: str
    size_bytes: int = 0
    inferred_type: LiteralType | None = None


@attrs.frozen
@oneof("value", "scalar", "collection", "map", "offloaded_metadata")
class Literal:
    """A value of any type: exactly one kind, plus a cache hash and metadata (flyteidl ``core.Literal``).

    ``hash``, when set, replaces the value's content in cache keys (used for large offloaded values).
    """

    scalar: Scalar | None = None
    collection: LiteralCollection | None = None
    map: LiteralMap | None = None
    offloaded_metadata: LiteralOffloadedMetadata | None = None
    hash: str = ""
    metadata: dict[str, str] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class BindingDataCollection:
    """An ordered list of bindings (flyteidl ``core.BindingDataCollection``)."""

    bindings: tuple[BindingData, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class BindingDataMap:
    """Bindings by key (flyteidl ``core.BindingDataMap``)."""

    bindings: dict[str, BindingData] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class UnionInfo:
    """The union variant a bound value is to be stored as (flyteidl ``core.UnionInfo``)."""

    targetType: LiteralType


@attrs.frozen
@oneof("value", "scalar", "collection", "promise", "map", "offloaded_metadata")
class BindingData:
    """Where a node input comes from: a constant, another node's output, or a container of these.

    Mirrors flyteidl ``core.BindingData``.

    ``union`` sits outside the oneof, as in flyteidl: it says which union variant the value takes.
    """

    scalar: Scalar | None = None
    collection: BindingDataCollection | None = None
    promise: OutputReference | None = None
    map: BindingDataMap | None = None
    offloaded_metadata: LiteralOffloadedMetadata | None = None
    union: UnionInfo | None = None


@attrs.frozen
class Binding:
    """Binds the input (or output) variable ``var`` to a value (flyteidl ``core.Binding``)."""

    var: str
    binding: BindingData


@attrs.frozen
class KeyValuePair:
    """A string key and value, e.g. an environment variable (flyteidl ``core.KeyValuePair``)."""

    key: str
    value: str = ""


@attrs.frozen
class RetryStrategy:
    """How many times a failed task or node is retried (flyteidl ``core.RetryStrategy``)."""

    retries: int = 0
