"""Literal types: the static types of values (flyteidl ``core/types.proto``).

:class:`LiteralType` is recursive (collections, maps, unions and dataclass structures contain
literal types); annotations are strings resolved against this module's globals.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from taskloom.models._fields import as_tuple
from taskloom.models._oneof import oneof


class SimpleType(enum.Enum):
    """The primitive types (flyteidl ``core.SimpleType``)."""

    NONE = 0
    INTEGER = 1
    FLOAT = 2
    STRING = 3
    BOOLEAN = 4
    DATETIME = 5
    DURATION = 6
    BINARY = 7
    ERROR = 8
    STRUCT = 9


class SchemaColumnType(enum.Enum):
    """The type of a schema column (flyteidl ``core.SchemaType.SchemaColumn.SchemaColumnType``)."""

    INTEGER = 0
    FLOAT = 1
    STRING = 2
    BOOLEAN = 3
    DATETIME = 4
    DURATION = 5


@attrs.frozen
class SchemaColumn:
    """A named, typed column of a schema (flyteidl ``core.SchemaType.SchemaColumn``)."""

    SchemaColumnType = SchemaColumnType

    name: str
    type: SchemaColumnType = SchemaColumnType.INTEGER


@attrs.frozen
class SchemaType:
    """The columns of a (legacy) schema (flyteidl ``core.SchemaType``)."""

    SchemaColumn = SchemaColumn

    columns: tuple[SchemaColumn, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class DatasetColumn:
    """A named, typed column of a structured dataset (flyteidl ``core.StructuredDatasetType.DatasetColumn``)."""

    name: str
    literal_type: LiteralType


@attrs.frozen
class StructuredDatasetType:
    """The columns and storage format of a structured dataset (flyteidl ``core.StructuredDatasetType``).

    No columns means any columns; an empty format means any format.
    """

    DatasetColumn = DatasetColumn

    columns: tuple[DatasetColumn, ...] = attrs.field(default=(), converter=as_tuple)
    format: str = ""
    external_schema_type: str = ""
    external_schema_bytes: bytes = b""


class BlobDimensionality(enum.Enum):
    """Whether a blob is one file or a directory of parts (flyteidl ``core.BlobType.BlobDimensionality``)."""

    SINGLE = 0
    MULTIPART = 1


@attrs.frozen
class BlobType:
    """The format and dimensionality of a file or directory (flyteidl ``core.BlobType``)."""

    BlobDimensionality = BlobDimensionality

    format: str = ""
    dimensionality: BlobDimensionality = BlobDimensionality.SINGLE


@attrs.frozen
class EnumType:
    """A string enumeration given by its allowed values (flyteidl ``core.EnumType``)."""

    values: tuple[str, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class UnionType:
    """A tagged union of literal types (flyteidl ``core.UnionType``)."""

    variants: tuple[LiteralType, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class TypeStructure:
    """Extra structure of a type: a union tag and a dataclass's field types (flyteidl ``core.TypeStructure``)."""

    tag: str = ""
    dataclass_type: dict[str, LiteralType] = attrs.field(factory=dict, hash=False)


@attrs.frozen
class TypeAnnotation:
    """Free-form annotations that plugins attach to a type (flyteidl ``core.TypeAnnotation``)."""

    annotations: dict[str, Any] = attrs.field(factory=dict, hash=False)


@attrs.frozen
@oneof(
    "type",
    "simple",
    "schema",
    "collection_type",
    "map_value_type",
    "blob",
    "enum_type",
    "structured_dataset_type",
    "union_type",
)
class LiteralType:
    """The static type of a literal: exactly one kind plus optional metadata (flyteidl ``core.LiteralType``).

    ``metadata`` is a JSON-able dict (``google.protobuf.Struct``); it is not used for type checking.
    """

    simple: SimpleType | None = None
    schema: SchemaType | None = None
    collection_type: LiteralType | None = None
    map_value_type: LiteralType | None = None
    blob: BlobType | None = None
    enum_type: EnumType | None = None
    structured_dataset_type: StructuredDatasetType | None = None
    union_type: UnionType | None = None
    metadata: dict[str, Any] | None = attrs.field(default=None, hash=False)
    annotation: TypeAnnotation | None = None
    structure: TypeStructure | None = None


@attrs.frozen
@oneof("value", "string_value", "int_value")
class PromiseAttribute:
    """One step of an attribute path into an output: a key or an index (flyteidl ``core.PromiseAttribute``)."""

    string_value: str | None = None
    int_value: int | None = None


@attrs.frozen
class OutputReference:
    """A reference to an output variable of another node (flyteidl ``core.OutputReference``)."""

    node_id: str
    var: str
    attr_path: tuple[PromiseAttribute, ...] = attrs.field(default=(), converter=as_tuple)


@attrs.frozen
class Error:
    """A failure raised by a node, carried as a value (flyteidl ``core.Error``)."""

    failed_node_id: str
    message: str
