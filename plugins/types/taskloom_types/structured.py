"""Dataclasses and attrs classes as msgpack binaries (flytekit 1.16's format), and msgpack literals.

flytekit 1.16 stores a dataclass as ``Binary(msgpack bytes, tag="msgpack")`` with the literal type
``STRUCT`` carrying a JSON schema (``metadata``), the field types (``structure.dataclass_type``, which
lets Flyte's propeller resolve attribute access) and the cache-key annotation; this module writes the
same, through the plugin's converter (:mod:`taskloom_types.converter`). NamedTuples (here) and fixed-length tuples
(:mod:`taskloom_types.collections`) are stored the same way. msgpack is imported when a value is
first converted.

As text (``loom run`` options) a record is a JSON object of its fields (``'{"x": 1, "rows": [2]}'``),
each read as its own type reads JSON; a field left out takes its default.
"""

from __future__ import annotations

import functools
import typing
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    is_named_tuple,
    literal_description,
    type_name,
)
from taskloom_types.contracts import contracts
from taskloom_types.converter import get_converter, is_record_class, json_schema, record_fields
from taskloom_types.errors import mismatch, nested
from taskloom_types.unions import text_help_of

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType, TypeAnnotation

#: ``Binary.tag`` of a msgpack document (flytekit's ``MESSAGEPACK``).
MSGPACK_TAG = "msgpack"


@functools.cache
def msgpack_annotation() -> TypeAnnotation:
    """The annotation flytekit 1.16 puts on every msgpack literal type, read by Flyte's cache-key logic
    (also ``MSGPACK_ANNOTATION``; made on first use, like every contract of this plugin).
    """
    return contracts.TypeAnnotation(annotations={"cache-key-metadata": {"serialization-format": MSGPACK_TAG}})


def __getattr__(name: str) -> Any:
    if name == "MSGPACK_ANNOTATION":
        return msgpack_annotation()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def struct_literal_type(schema: dict[str, Any], field_types: dict[str, LiteralType]) -> LiteralType:
    """The literal type of a msgpack document: STRUCT with its schema, field types and flytekit's annotation."""
    return contracts.LiteralType(
        simple=contracts.SimpleType.STRUCT,
        metadata=schema,
        structure=contracts.TypeStructure(dataclass_type=field_types),
        annotation=msgpack_annotation(),
    )


# ---------------------------------------------------------------------------------------------
# msgpack literals
# ---------------------------------------------------------------------------------------------


def to_msgpack_literal(value: Any, t: Any) -> Literal:
    """Check ``value`` against ``t`` and return it as ``Binary(msgpack, tag="msgpack")``."""
    import msgpack

    data = get_converter().get_unstructure_hook(t)(value)
    try:
        packed = msgpack.packb(data, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as error:
        raise mismatch(t, value, f"{type(error).__name__}: {error}") from error
    return contracts.Literal(scalar=contracts.Scalar(binary=contracts.Binary(value=packed, tag=MSGPACK_TAG)))


def msgpack_data(lv: Literal, t: Any) -> Any:
    """The data of a msgpack literal (or, as flytekit's older format, a ``generic`` struct) declared as ``t``."""
    import msgpack

    scalar = lv.scalar
    if scalar is not None and scalar.binary is not None and scalar.binary.tag == MSGPACK_TAG:
        try:
            return msgpack.unpackb(scalar.binary.value, raw=False, strict_map_key=False)
        except Exception as error:  # msgpack raises several unrelated types for corrupt data
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(t)}, got unreadable msgpack ({type(error).__name__}: {error})"
            ) from error
    if scalar is not None and scalar.generic is not None:
        return scalar.generic
    raise TypeTransformerFailedError(f"expected a literal of {type_name(t)}, got {literal_description(lv)}")


def from_msgpack_literal(lv: Literal, t: Any) -> Any:
    """Read a literal written by :func:`to_msgpack_literal` back as a value of ``t``."""
    data = msgpack_data(lv, t)
    return get_converter().get_structure_hook(t)(data, t)


# ---------------------------------------------------------------------------------------------
# The transformer
# ---------------------------------------------------------------------------------------------


class _AnyRecordClass:
    """Registration key of :class:`DataclassTransformer`, which claims its classes through ``handles``."""


class RecordTransformer(TypeTransformer[Any]):
    """Classes made of named, typed fields, stored as msgpack documents of their fields (``STRUCT``).

    Subclasses say which classes they claim (:meth:`handles`).
    """

    def __init__(self, name: str, t: Any) -> None:
        super().__init__(name, t)
        self._literal_types: dict[type, LiteralType] = {}

    def check_type(self, t: Any) -> None:
        if t in self._literal_types:
            return
        json_schema(t)  # first, as get_literal_type does: it rejects unsupported field types and recursion
        for field in record_fields(t):
            try:
                TypeEngine.check_type(field.type)
            except UnsupportedTypeError as error:
                raise _field_unsupported(t, field.name, error) from error

    def get_literal_type(self, t: Any) -> LiteralType:
        cached = self._literal_types.get(t)
        if cached is None:
            schema = json_schema(t)  # first: it rejects unsupported field types and recursion
            field_types = {}
            for field in record_fields(t):
                try:
                    field_types[field.name] = TypeEngine.to_literal_type(field.type)
                except UnsupportedTypeError as error:
                    raise _field_unsupported(t, field.name, error) from error
            cached = self._literal_types[t] = struct_literal_type(schema, field_types)
        return cached

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, python_type):
            raise mismatch(python_type, python_val)
        return to_msgpack_literal(python_val, python_type)

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        return from_msgpack_literal(lv, expected_python_type)

    def from_json(self, data: Any, python_type: Any) -> Any:
        """A JSON object of the fields given, each read as its type; the class's own defaults fill the rest."""
        if not isinstance(data, dict):
            raise TypeTransformerFailedError(f"expected a JSON object for {type_name(python_type)}, got {data!r}")
        fields = {field.name: field.type for field in record_fields(python_type)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise TypeTransformerFailedError(f"{type_name(python_type)} has no field {unknown[0]!r}")
        values = {}
        for name, item in data.items():
            try:
                values[name] = TypeEngine.from_json(item, fields[name])
            except TypeTransformerFailedError as error:
                raise nested(f"field {name!r}", error) from error
        return python_type(**values)

    def text_help(self, python_type: Any) -> str | None:
        return text_help_of([field.type for field in record_fields(python_type)])


def _field_unsupported(t: Any, name: str, error: Exception) -> UnsupportedTypeError:
    return UnsupportedTypeError(f"{type_name(t)}: field {name!r}: {error}")


class DataclassTransformer(RecordTransformer):
    """Dataclasses and attrs classes, as msgpack documents (flytekit 1.16's format)."""

    def __init__(self) -> None:
        super().__init__("Object-Dataclass-Transformer", _AnyRecordClass)

    def handles(self, t: Any) -> bool:
        return is_record_class(t)


class NamedTupleTransformer(RecordTransformer):
    """NamedTuple classes as values: msgpack documents of their fields, read back as the NamedTuple.

    (As a return annotation a NamedTuple still declares one output per field.)
    """

    def __init__(self) -> None:
        super().__init__("NamedTuple", typing.NamedTuple)

    def handles(self, t: Any) -> bool:
        return is_named_tuple(t)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [DataclassTransformer(), NamedTupleTransformer()]
