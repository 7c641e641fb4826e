"""The plugin's one cattrs converter: strict, type-directed hooks between values and msgpack-able data.

Everything this plugin stores as a msgpack document (dataclasses, attrs classes, NamedTuples,
fixed-length tuples: :mod:`taskloom_types.structured`, :mod:`taskloom_types.collections`) goes
through :func:`get_converter`. Values are encoded as flytekit 1.16's mashumaro encodes them, so that
either side reads the other's documents: enums by value, datetimes and dates as ISO 8601 strings,
timedeltas as float seconds, bytes as msgpack binaries, files and directories as ``{"path": uri}``,
records as maps of their fields.

Hooks are strict: a value must match its declared type (``True`` is not an ``int``, a plain ``"red"``
is not a ``Colour``), and errors name the place, e.g. ``field 'rows': item [2]: expected int, got str
'x'``. :func:`json_schema` describes the same types for the literal type's metadata. cattrs is
imported when the converter is first needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import sys
import threading
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from taskloom.extend import (
    BlobValue,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    is_named_tuple,
    strip_annotated,
    type_name,
    value_description,
)
from taskloom_types import primitives
from taskloom_types.errors import mismatch, nested
from taskloom_types.unions import type_key, union_candidates, union_mismatch

if TYPE_CHECKING:
    import cattrs

_NONE_TYPE = type(None)
_UNION_ORIGINS = (typing.Union, types.UnionType)

Hook = Callable[..., Any]


# ---------------------------------------------------------------------------------------------
# What a structured type is made of
# ---------------------------------------------------------------------------------------------


def is_record_class(t: Any) -> bool:
    """Tell whether ``t`` is a dataclass or an attrs class (a class, not an instance or a generic alias)."""
    if not isinstance(t, type):
        return False
    if dataclasses.is_dataclass(t) or getattr(t, "__attrs_attrs__", None) is not None:
        return True
    if "attr" not in sys.modules:  # no attrs class can exist before attrs is imported: spare the import
        return False
    import attrs

    return attrs.has(t)


#: The default of a field that has none (or only a factory).
NO_DEFAULT: Any = object()


class Field(NamedTuple):
    """One field of a record class: its name (the key in the msgpack document), type, whether it is
    required, and its plain default (:data:`NO_DEFAULT` when it has none or a factory)."""

    name: str
    type: Any
    required: bool
    default: Any = NO_DEFAULT


def record_fields(t: type) -> tuple[Field, ...]:
    """The fields of a dataclass, attrs class or NamedTuple, with resolved types.

    Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` when an annotation cannot be
    resolved or is missing.
    """
    cached = _fields_cache.get(t)
    if cached is not None:
        return cached
    if is_named_tuple(t):
        hints = _type_hints(t)
        defaults = getattr(t, "_field_defaults", {})
        fields = tuple(
            Field(name, _field_type(t, name, hints), name not in defaults, defaults.get(name, NO_DEFAULT))
            for name in typing.cast("type[NamedTuple]", t)._fields  # is_named_tuple saw _fields
        )
    elif dataclasses.is_dataclass(t):
        hints = _type_hints(t)
        fields = tuple(
            Field(
                f.name,
                _field_type(t, f.name, hints),
                f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                NO_DEFAULT if f.default is dataclasses.MISSING else f.default,
            )
            for f in dataclasses.fields(t)
        )
    else:
        import attrs

        try:
            attrs.resolve_types(t)
        except Exception as error:
            raise _unresolvable(t, error) from error
        fields = tuple(
            Field(
                a.name,
                _field_type(t, a.name, {a.name: a.type} if a.type is not None else {}),
                a.init and a.default is attrs.NOTHING,
                NO_DEFAULT
                if a.default is attrs.NOTHING
                # Factory is a class at run time, the type of factory defaults; attrs's stubs declare a function.
                or isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
                else a.default,
            )
            for a in attrs.fields(t)
        )
    _fields_cache[t] = fields
    return fields


_fields_cache: dict[type, tuple[Field, ...]] = {}


def _type_hints(t: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(t)
    except Exception as error:
        raise _unresolvable(t, error) from error


def _unresolvable(t: type, error: Exception) -> UnsupportedTypeError:
    return UnsupportedTypeError(
        f"cannot resolve the field annotations of {type_name(t)} ({type(error).__name__}: {error}); "
        f"define the classes its fields use at module level"
    )


def _field_type(t: type, name: str, hints: dict[str, Any]) -> Any:
    if name not in hints:
        raise UnsupportedTypeError(f"{type_name(t)}: field {name!r} has no type annotation")
    return strip_annotated(hints[name])


def _normalise(t: Any) -> Any:
    t = strip_annotated(t)
    return _NONE_TYPE if t is None else t


def is_json_dict(t: Any) -> bool:
    """Tell whether ``t`` is the untyped dict of JSON data: ``dict``, ``typing.Dict`` or ``dict[str, Any]``."""
    if t is dict:
        return True
    return typing.get_origin(t) is dict and typing.get_args(t) in ((), (str, Any))


# ---------------------------------------------------------------------------------------------
# JSON schema (the literal type's metadata, as flytekit writes it for a dataclass)
# ---------------------------------------------------------------------------------------------


def json_schema(t: Any) -> dict[str, Any]:
    """Return a JSON schema of type ``t`` as it is stored in msgpack documents.

    Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` for a type the converter cannot
    store (a set, an arbitrary class, ``typing.Any`` outside ``dict[str, Any]``) or a recursive class.
    """
    return _schema(t, ())


def _schema(t: Any, stack: tuple[Any, ...]) -> dict[str, Any]:
    t = _normalise(t)
    origin = typing.get_origin(t)
    arguments = typing.get_args(t)
    simple = _cached(_SIMPLE_SCHEMAS, t)
    if simple is not None:
        return dict(simple)
    if origin in _UNION_ORIGINS:
        return {"anyOf": [_schema(argument, stack) for argument in arguments]}
    if is_json_dict(t):
        return {"type": "object"}
    if origin is dict:
        if arguments[0] is not str:
            raise UnsupportedTypeError(f"{type_name(t)}: only str keys can be stored; use dict[str, ...]")
        return {"type": "object", "additionalProperties": _schema(arguments[1], stack)}
    if origin is list and arguments:
        return {"type": "array", "items": _schema(arguments[0], stack)}
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return {"type": "array", "items": _schema(arguments[0], stack)}
        items = [_schema(argument, stack) for argument in arguments]
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
    if isinstance(t, type) and issubclass(t, enum.Enum):
        from taskloom_types.enums import enum_values

        return {"enum": [member.value for member in enum_values(t)]}  # as mashumaro writes it: no title
    if isinstance(t, type) and issubclass(t, BlobValue):
        return {
            "title": t.__name__,
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
            "additionalProperties": False,
        }
    if is_record_class(t) or is_named_tuple(t):
        if t in stack:
            raise UnsupportedTypeError(f"{type_name(t)} is recursive; recursive classes cannot be stored as literals")
        fields = record_fields(t)
        return {
            "title": t.__name__,
            "type": "object",
            "properties": {field.name: _field_schema(t, field, (*stack, t)) for field in fields},
            "additionalProperties": False,
            "required": [field.name for field in fields if field.required],
        }
    raise UnsupportedTypeError(f"{type_name(t)} cannot be stored inside a dataclass, attrs class or tuple")


def _field_schema(t: type, field: Field, stack: tuple[Any, ...]) -> dict[str, Any]:
    try:
        schema = _schema(field.type, stack)
    except UnsupportedTypeError as error:
        if str(error).startswith(f"{type_name(t)}: field "):
            raise
        raise UnsupportedTypeError(f"{type_name(t)}: field {field.name!r}: {error}") from error
    # A plain JSON default is part of the schema, as flytekit (mashumaro) writes it; factories are not.
    default = field.default
    if isinstance(default, enum.Enum):
        default = default.value
    if default is None or type(default) in (str, int, float, bool):
        schema["default"] = default
    return schema


_SIMPLE_SCHEMAS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    bytes: {"type": "string", "format": "binary"},
    _NONE_TYPE: {"type": "null"},
    dt.datetime: {"type": "string", "format": "date-time"},
    dt.date: {"type": "string", "format": "date"},
    dt.timedelta: {"type": "number", "format": "time-delta"},
}


# ---------------------------------------------------------------------------------------------
# The converter
# ---------------------------------------------------------------------------------------------

_converter: cattrs.Converter | None = None
_converter_lock = threading.Lock()


def get_converter() -> cattrs.Converter:
    """Return the plugin's cattrs converter, building it on first use.

    ``get_unstructure_hook(t)(value)`` turns a value declared as ``t`` into msgpack-able data,
    checking it; ``get_structure_hook(t)(data, t)`` turns data back. Both raise
    :class:`~taskloom.exceptions.user.TypeTransformerFailedError` naming the place of a bad value,
    and :class:`~taskloom.exceptions.user.UnsupportedTypeError` for a type it cannot store.
    """
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                _converter = _build_converter()
    return _converter


def _build_converter() -> cattrs.Converter:
    import cattrs

    class StrictConverter(cattrs.Converter):
        """A cattrs converter whose hooks for every supported type are this module's strict ones.

        cattrs finds hooks for classes by singledispatch before anything else, so for
        ``class Colour(str, Enum)`` it would pick ``str``'s hook and accept any string; asking this
        module's dispatch first keeps enums, int subclasses and files typed.
        """

        def __init__(self) -> None:
            super().__init__()
            self._strict_unstructure: dict[Any, Hook] = {}
            self._strict_structure: dict[Any, Hook] = {}

        def get_unstructure_hook(self, type: Any, cache_result: bool = True) -> Hook:
            normalised = _normalise(type)
            key = type_key(normalised)
            hook = _cached(self._strict_unstructure, key)
            if hook is None:
                hook = _unstructure_hook(self, normalised)
                _store(self._strict_unstructure, key, hook)
            return hook

        def get_structure_hook(self, type: Any, cache_result: bool = True) -> Hook:
            normalised = _normalise(type)
            key = type_key(normalised)
            hook = _cached(self._strict_structure, key)
            if hook is None:
                hook = _structure_hook(self, normalised)
                _store(self._strict_structure, key, hook)
            return hook

        def unstructure(self, obj: Any, unstructure_as: Any = None) -> Any:
            return self.get_unstructure_hook(type(obj) if unstructure_as is None else unstructure_as)(obj)

        def structure(self, obj: Any, cl: Any) -> Any:
            return self.get_structure_hook(cl)(obj, cl)

    return StrictConverter()


def _cached(cache: dict[Any, Any], key: Any) -> Any:
    try:
        return cache.get(key)
    except TypeError:  # an unhashable annotation: simply not cached
        return None


def _store(cache: dict[Any, Any], key: Any, hook: Any) -> None:
    try:
        cache[key] = hook
    except TypeError:
        pass


def _shape(t: Any) -> str:
    """What kind of type ``t`` is for the converter; both directions dispatch on it.

    Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` for a type a document cannot hold.
    """
    origin = typing.get_origin(t)
    arguments = typing.get_args(t)
    if origin in _UNION_ORIGINS:
        return "union"
    if is_json_dict(t):
        return "json"
    if origin is dict and arguments and arguments[0] is str:
        return "dict"
    if origin is list and arguments:
        return "list"
    if origin is tuple:
        return "variadic tuple" if len(arguments) == 2 and arguments[1] is Ellipsis else "tuple"
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return "enum"
    if isinstance(t, type) and issubclass(t, BlobValue):
        return "blob"
    if is_named_tuple(t):
        return "named tuple"
    if is_record_class(t):
        return "record"
    raise UnsupportedTypeError(f"{type_name(t)} cannot be stored inside a dataclass, attrs class or tuple")


def _item_type(t: Any) -> Any:
    # The element type of list[T] and tuple[T, ...] (the first argument; unused for other shapes).
    arguments = typing.get_args(t)
    return arguments[0] if arguments else None


# --- unstructuring: value -> msgpack-able data, checked against the declared type --------------

_UNSTRUCTURE_LEAVES: dict[Any, Hook] = {
    int: primitives.check_int,
    float: primitives.check_float,
    str: primitives.check_str,
    bool: primitives.check_bool,
    bytes: primitives.check_bytes,
    _NONE_TYPE: primitives.check_none,
    dt.datetime: lambda value: primitives.check_datetime(value).isoformat(),
    dt.date: lambda value: primitives.check_date(value).isoformat(),
    dt.timedelta: lambda value: primitives.check_timedelta(value).total_seconds(),
}


def _unstructure_hook(converter: cattrs.Converter, t: Any) -> Hook:
    leaf = _cached(_UNSTRUCTURE_LEAVES, t)
    if leaf is not None:
        return leaf
    shape = _shape(t)
    item = _item_type(t)
    return {
        "union": lambda: _unstructure_union(converter, t),
        "json": lambda: _unstructure_json_dict,
        "dict": lambda: _unstructure_dict(converter, t),
        "list": lambda: _unstructure_sequence(converter, t, list, item),
        "variadic tuple": lambda: _unstructure_sequence(converter, t, tuple, item),
        "tuple": lambda: _unstructure_fixed_tuple(converter, t),
        "enum": lambda: _unstructure_enum(t),
        "blob": lambda: _unstructure_blob(t),
        "named tuple": lambda: _unstructure_record(converter, t),
        "record": lambda: _unstructure_record(converter, t),
    }[shape]()


def _unstructure_json_dict(value: Any) -> Any:
    from taskloom_types.collections import check_json

    if not isinstance(value, dict):
        raise mismatch(dict, value)
    check_json(value)
    return value


def _unstructure_dict(converter: cattrs.Converter, t: Any) -> Hook:
    item = converter.get_unstructure_hook(typing.get_args(t)[1])

    def unstructure(value: Any) -> Any:
        if not isinstance(value, dict):
            raise mismatch(t, value)
        result = {}
        for key, element in value.items():
            if not isinstance(key, str):
                raise TypeTransformerFailedError(f"key {key!r}: expected str, got {value_description(key)}")
            try:
                result[key] = item(element)
            except TypeTransformerFailedError as error:
                raise nested(f"key {key!r}", error) from error
        return result

    return unstructure


def _unstructure_sequence(
    converter: cattrs.Converter, t: Any, kind: type[list[Any] | tuple[Any, ...]], item_type: Any
) -> Hook:
    item = converter.get_unstructure_hook(item_type)

    def unstructure(value: Any) -> Any:
        if not isinstance(value, kind):
            raise mismatch(t, value)
        result = []
        for index, element in enumerate(value):
            try:
                result.append(item(element))
            except TypeTransformerFailedError as error:
                raise nested(f"item [{index}]", error) from error
        return result

    return unstructure


def _unstructure_fixed_tuple(converter: cattrs.Converter, t: Any) -> Hook:
    items = [converter.get_unstructure_hook(argument) for argument in typing.get_args(t)]

    def unstructure(value: Any) -> Any:
        if not isinstance(value, tuple):
            raise mismatch(t, value)
        if len(value) != len(items):
            raise mismatch(t, value, f"{len(value)} items instead of {len(items)}")
        result = []
        for index, (item, element) in enumerate(zip(items, value)):
            try:
                result.append(item(element))
            except TypeTransformerFailedError as error:
                raise nested(f"item [{index}]", error) from error
        return result

    return unstructure


def _unstructure_enum(t: type[enum.Enum]) -> Hook:
    def unstructure(value: Any) -> Any:
        if not isinstance(value, t):
            raise mismatch(t, value)
        return value.value

    return unstructure


def _unstructure_blob(t: type[BlobValue]) -> Hook:
    from taskloom_types.files import blob_uri

    return lambda value: {"path": blob_uri(value, t)}


def _unstructure_record(converter: cattrs.Converter, t: type) -> Hook:
    hooks: list[tuple[str, Hook]] | None = None

    def unstructure(value: Any) -> Any:
        nonlocal hooks
        if not isinstance(value, t):
            raise mismatch(t, value)
        if hooks is None:  # resolved on first use, so that a class may refer to itself
            hooks = [(field.name, converter.get_unstructure_hook(field.type)) for field in record_fields(t)]
        result = {}
        for name, hook in hooks:
            try:
                result[name] = hook(getattr(value, name))
            except TypeTransformerFailedError as error:
                raise nested(f"field {name!r}", error) from error
        return result

    return unstructure


def _unstructure_union(converter: cattrs.Converter, t: Any) -> Hook:
    variants = tuple(_normalise(variant) for variant in typing.get_args(t))
    hooks = [converter.get_unstructure_hook(variant) for variant in variants]

    def unstructure(value: Any) -> Any:
        reasons = []
        for index in union_candidates(variants, type(value)):
            try:
                return hooks[index](value)
            except TypeTransformerFailedError as error:
                reasons.append((variants[index], error))
        raise union_mismatch(t, value, reasons)

    return unstructure


# --- structuring: msgpack data -> value of the declared type -----------------------------------


def _structure_leaf(check: Callable[[Any], Any]) -> Hook:
    return lambda data, _t: check(data)


def _structure_from_text(parse: Callable[[str], Any], expected: str) -> Hook:
    def structure(data: Any, t: Any) -> Any:
        if isinstance(data, str):
            try:
                return parse(data)
            except ValueError:
                pass
        raise TypeTransformerFailedError(f"expected {expected}, got {value_description(data)}")

    return structure


def _structure_int(data: Any, _t: Any) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise mismatch(int, data)
    return data


def _structure_timedelta(data: Any, _t: Any) -> dt.timedelta:
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise TypeTransformerFailedError(f"expected a timedelta in seconds, got {value_description(data)}")
    return dt.timedelta(seconds=data)


_STRUCTURE_LEAVES: dict[Any, Hook] = {
    int: _structure_int,
    float: _structure_leaf(primitives.check_float),
    str: _structure_leaf(primitives.check_str),
    bool: _structure_leaf(primitives.check_bool),
    bytes: _structure_leaf(primitives.check_bytes),
    _NONE_TYPE: _structure_leaf(primitives.check_none),
    dt.datetime: _structure_from_text(dt.datetime.fromisoformat, "an ISO 8601 datetime"),
    dt.date: _structure_from_text(dt.date.fromisoformat, "an ISO 8601 date"),
    dt.timedelta: _structure_timedelta,
}


def _structure_hook(converter: cattrs.Converter, t: Any) -> Hook:
    leaf = _cached(_STRUCTURE_LEAVES, t)
    if leaf is not None:
        return leaf
    shape = _shape(t)
    item = _item_type(t)
    return {
        "union": lambda: _structure_union(converter, t),
        "json": lambda: _structure_json_dict,
        "dict": lambda: _structure_dict(converter, t),
        "list": lambda: _structure_sequence(converter, t, list, item),
        "variadic tuple": lambda: _structure_sequence(converter, t, tuple, item),
        "tuple": lambda: _structure_fixed_tuple(converter, t),
        "enum": lambda: _structure_enum,
        "blob": lambda: _structure_blob,
        "named tuple": lambda: _structure_named_tuple(converter, t),
        "record": lambda: _structure_record(converter, t),
    }[shape]()


def _structure_json_dict(data: Any, t: Any) -> Any:
    if not isinstance(data, dict):
        raise mismatch(dict, data)
    return data


def _structure_dict(converter: cattrs.Converter, t: Any) -> Hook:
    item_type = typing.get_args(t)[1]
    item = converter.get_structure_hook(item_type)

    def structure(data: Any, _t: Any) -> Any:
        if not isinstance(data, dict):
            raise mismatch(t, data)
        result = {}
        for key, element in data.items():
            try:
                result[key] = item(element, item_type)
            except TypeTransformerFailedError as error:
                raise nested(f"key {key!r}", error) from error
        return result

    return structure


def _structure_sequence(converter: cattrs.Converter, t: Any, kind: type, item_type: Any) -> Hook:
    item = converter.get_structure_hook(item_type)

    def structure(data: Any, _t: Any) -> Any:
        if not isinstance(data, (list, tuple)):
            raise mismatch(t, data)
        result = []
        for index, element in enumerate(data):
            try:
                result.append(item(element, item_type))
            except TypeTransformerFailedError as error:
                raise nested(f"item [{index}]", error) from error
        return kind(result)

    return structure


def _structure_fixed_tuple(converter: cattrs.Converter, t: Any) -> Hook:
    item_types = typing.get_args(t)
    items = [converter.get_structure_hook(argument) for argument in item_types]

    def structure(data: Any, _t: Any) -> Any:
        if not isinstance(data, (list, tuple)) or len(data) != len(items):
            raise mismatch(t, data)
        result = []
        for index, (item, item_type, element) in enumerate(zip(items, item_types, data)):
            try:
                result.append(item(element, item_type))
            except TypeTransformerFailedError as error:
                raise nested(f"item [{index}]", error) from error
        return tuple(result)

    return structure


def _structure_enum(data: Any, t: type[enum.Enum]) -> enum.Enum:
    from taskloom_types.enums import unknown_value

    try:
        return t(data)
    except ValueError:
        raise unknown_value(t, data) from None


def _structure_blob(data: Any, t: type[BlobValue]) -> BlobValue:
    path = data.get("path") if isinstance(data, dict) else data
    if not isinstance(path, str) or not path:
        raise TypeTransformerFailedError(f"expected {{'path': uri}} of {type_name(t)}, got {value_description(data)}")
    return t(path)


def _structure_named_tuple(converter: cattrs.Converter, t: type) -> Hook:
    fields = record_fields(t)

    def structure(data: Any, _t: Any) -> Any:
        if not isinstance(data, dict):
            raise mismatch(t, data)
        values = {}
        for field in fields:
            if field.name not in data:
                if field.required:
                    raise TypeTransformerFailedError(f"field {field.name!r}: required field missing")
                continue
            try:
                values[field.name] = converter.get_structure_hook(field.type)(data[field.name], field.type)
            except TypeTransformerFailedError as error:
                raise nested(f"field {field.name!r}", error) from error
        return t(**values)

    return structure


def _structure_record(converter: cattrs.Converter, t: type) -> Hook:
    import cattrs
    from cattrs.gen import make_dict_structure_fn

    generated: Hook | None = None

    def structure(data: Any, _t: Any) -> Any:
        nonlocal generated
        if not isinstance(data, dict):
            raise mismatch(t, data)
        if generated is None:  # generated on first use, so that a class may refer to itself
            generated = make_dict_structure_fn(t, converter, _cattrs_detailed_validation=True)
        try:
            return generated(data, t)
        except cattrs.ClassValidationError as group:
            raise _field_error(t, group) from group

    return structure


def _field_error(t: type, group: Exception) -> TypeTransformerFailedError:
    # cattrs collects the failure of each field, with a note naming the attribute; report the first.
    for error in getattr(group, "exceptions", ()):
        note = next((note for note in getattr(error, "__notes__", ()) if hasattr(note, "name")), None)
        place = f"field {note.name!r}: " if note is not None else ""
        if isinstance(error, KeyError):
            detail = "required field missing"
        elif isinstance(error, TypeTransformerFailedError):
            detail = str(error)
        else:
            detail = f"{type(error).__name__}: {error}"
        return TypeTransformerFailedError(f"{place}{detail}")
    return TypeTransformerFailedError(f"expected {type_name(t)}: {group}")


def _raw_kinds(t: Any) -> tuple[type, ...]:
    """The Python types of the msgpack data that values of ``t`` are unstructured to."""
    t = _normalise(t)
    origin = typing.get_origin(t)
    if t in (int, float, str, bool, bytes, _NONE_TYPE):
        return (t,)
    if t in (dt.datetime, dt.date):
        return (str,)
    if t is dt.timedelta:
        return (float,)
    if origin in _UNION_ORIGINS:
        return tuple(kind for argument in typing.get_args(t) for kind in _raw_kinds(argument))
    if origin in (list, tuple):
        return (list,)
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return tuple({type(member.value) for member in t})
    return (dict,)


def _fits_keys(t: Any, data: dict[str, Any]) -> bool:
    if not (is_record_class(t) or is_named_tuple(t)):
        return True
    fields = record_fields(t)
    names = {field.name for field in fields}
    return set(data) <= names and all(field.name in data for field in fields if field.required)


def _structure_union(converter: cattrs.Converter, t: Any) -> Hook:
    # msgpack documents carry no union tag (flytekit's do not either): the variant is read back by
    # trying first those whose data has the Python type of the value read (1 is an int, 1.0 a float)
    # and, for records, whose fields match the keys; then every variant in declaration order.
    variants = tuple(_normalise(variant) for variant in typing.get_args(t))
    hooks = [converter.get_structure_hook(variant) for variant in variants]
    kinds = [_raw_kinds(variant) for variant in variants]

    def structure(data: Any, _t: Any) -> Any:
        raw = type(data)
        preferred = [
            index
            for index in range(len(variants))
            if raw in kinds[index] and (raw is not dict or _fits_keys(variants[index], data))
        ]
        order = preferred + [index for index in range(len(variants)) if index not in preferred]
        reasons = []
        for index in order:
            try:
                return hooks[index](data, variants[index])
            except TypeTransformerFailedError as error:
                reasons.append((variants[index], error))
        raise union_mismatch(t, data, reasons)

    return structure
