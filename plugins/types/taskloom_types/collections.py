"""Transformers for containers: ``list[T]``, ``dict[str, T]``, untyped JSON dicts, tuples, NamedTuples
and ``Iterator[T]``.

- ``list[T]`` is a ``LiteralCollection``; ``dict[str, T]`` a ``LiteralMap`` (flytekit 1.16).
- ``dict`` and ``dict[str, Any]`` hold JSON data only, stored as flytekit 1.16 stores them: a msgpack
  binary with the literal type ``STRUCT``. Anything else inside (a set, a tuple, an object, a non-str
  key) is an error naming where it is.
- ``tuple[T, ...]`` is a ``LiteralCollection`` read back as a tuple; a fixed-length ``tuple[A, B]`` and
  a NamedTuple are msgpack documents (``STRUCT``), like dataclasses, whose ``structure.dataclass_type``
  is keyed ``"0"``, ``"1"``... for a tuple and by field name for a NamedTuple. (flytekit has no
  transformer for tuples; it pickles them.)
- ``Iterator[T]`` is a ``LiteralCollection`` too, read back as a sized ``FlyteIterator`` (flytekit 1.16).

As text (``loom run`` options) each is JSON: an array for lists and tuples, an object for dicts, with
every item read as its own type reads JSON (:meth:`TypeEngine.from_json`), so ``'["base64:AAE=", "x"]'``
is a ``list[bytes]``; errors say where (``item [1]: ...``, ``key 'a': ...``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    JSON,
    FlyteIterator,
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    literal_description,
    type_name,
    value_description,
)
from taskloom_types.contracts import contracts
from taskloom_types.converter import is_json_dict, json_schema
from taskloom_types.errors import mismatch, nested
from taskloom_types.hashing import items_hash
from taskloom_types.primitives import INT64_MAX, INT64_MIN
from taskloom_types.structured import (
    MSGPACK_TAG,
    from_msgpack_literal,
    msgpack_annotation,
    msgpack_data,
    struct_literal_type,
    to_msgpack_literal,
)
from taskloom_types.unions import text_help_of, type_key

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType

_JSON_KINDS = "a dict with str keys, list, str, int, float, bool or None"


def check_json(value: Any, path: str = "") -> None:
    """Raise :class:`~taskloom.exceptions.user.TypeTransformerFailedError` unless ``value`` is JSON data.

    The error names the key path of the offending value, e.g. ``key ['a']['b'][2]: expected ...``.
    Tuples are refused (they would come back as lists), and so are ints outside the signed 64-bit range.
    """
    if value is None or isinstance(value, (bool, str, float)):
        return
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise TypeTransformerFailedError(
                f"key {path or '(top level)'}: expected an int within the signed 64-bit range, got {value!r}"
            )
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeTransformerFailedError(
                    f"key {path}[{key!r}]: expected a str key, got {value_description(key)}"
                )
            check_json(item, f"{path}[{key!r}]")
        return
    raise TypeTransformerFailedError(
        f"key {path or '(top level)'}: expected {_JSON_KINDS}, got {value_description(value)}"
    )


def _json_of(kind: type, data: Any, t: Any) -> Any:
    """``data`` if it is a JSON array (``kind`` list) or object (dict), else the error naming ``t``."""
    if not isinstance(data, kind):
        raise TypeTransformerFailedError(
            f"expected a JSON {'array' if kind is list else 'object'} for {type_name(t)}, got {data!r}"
        )
    return data


def _item_from_json(place: str, data: Any, item_type: Any) -> Any:
    try:
        return TypeEngine.from_json(data, item_type)
    except TypeTransformerFailedError as error:
        raise nested(place, error) from error


def _item_type(t: Any) -> Any:
    arguments = typing.get_args(t)
    if not arguments:
        raise UnsupportedTypeError(f"{type_name(t)} needs its item type: annotate e.g. list[int]")
    return arguments[0]


def _to_collection(ctx: Any, values: Any, item_type: Any, expected: LiteralType | None) -> Literal:
    item_literal_type = expected.collection_type if expected is not None else None
    if item_literal_type is None:
        item_literal_type = TypeEngine.to_literal_type(item_type)
    literals = []
    for index, item in enumerate(values):
        try:
            literals.append(TypeEngine.to_literal(ctx, item, item_type, item_literal_type))
        except TypeTransformerFailedError as error:
            raise nested(f"item [{index}]", error) from error
    return contracts.Literal(collection=contracts.LiteralCollection(literals=tuple(literals)))


def _from_collection(ctx: Any, lv: Literal, item_type: Any, python_type: Any) -> list[Any]:
    if lv.collection is None:
        raise TypeTransformerFailedError(
            f"expected a literal of {type_name(python_type)}, got {literal_description(lv)}"
        )
    values = []
    for index, item in enumerate(lv.collection.literals):
        try:
            values.append(TypeEngine.to_python_value(ctx, item, item_type))
        except TypeTransformerFailedError as error:
            raise nested(f"item [{index}]", error) from error
    return values


def _list_of_iterator(value: Any) -> Any:
    # An Iterator[T] output bound to a list[T] input (the same literal type) arrives as a list, as in flytekit.
    return list(value) if type(value) is FlyteIterator else value


class ListTransformer(TypeTransformer[list]):
    """``list[T]`` as a ``LiteralCollection``; only ``list`` values are accepted."""

    def __init__(self) -> None:
        super().__init__("Typed List", list)

    def check_type(self, t: Any) -> None:
        TypeEngine.check_type(_item_type(t))

    def get_literal_type(self, t: Any) -> LiteralType:
        return contracts.LiteralType(collection_type=TypeEngine.to_literal_type(_item_type(t)))

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        item = TypeEngine.checker(_item_type(t))
        if item is None:
            return None
        return lambda value: type(value) is list and all(map(item, value))

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        item = TypeEngine.normalizer(_item_type(t))
        if item is None:
            return _list_of_iterator

        def normalize(value: Any) -> Any:
            if type(value) is FlyteIterator:
                value = list(value)
            if type(value) is not list:
                return value
            for each in value:  # copied only when an item changes
                if item(each) is not each:
                    return [item(each) for each in value]
            return value

        return normalize

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, list):
            raise mismatch(python_type, python_val)
        return _to_collection(ctx, python_val, _item_type(python_type), expected)

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> list[Any]:
        return _from_collection(ctx, lv, _item_type(expected_python_type), expected_python_type)

    def hash_of(self, python_val: Any, python_type: Any) -> str | None:
        """A list of values hashed in memory (tables) hashes as their hashes, in order (``taskloom_types.hashing``)."""
        if type(python_val) is not list or not python_val:
            return None
        item_type = _item_type(python_type)
        return items_hash("list", [("", item, item_type) for item in python_val], probe=True)

    def from_json(self, data: Any, python_type: Any) -> list[Any]:
        """A JSON array, each item read as the item type."""
        item_type = _item_type(python_type)
        items = enumerate(_json_of(list, data, python_type))
        return [_item_from_json(f"item [{index}]", item, item_type) for index, item in items]

    def text_help(self, python_type: Any) -> str | None:
        return text_help_of(typing.get_args(python_type))

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type.collection_type is not None:
            return list[TypeEngine.guess_python_type(literal_type.collection_type)]  # type: ignore[misc]
        return super().guess_python_type(literal_type)


class DictTransformer(TypeTransformer[dict]):
    """``dict[str, T]`` as a ``LiteralMap``; ``dict`` and ``dict[str, Any]`` as JSON data in msgpack."""

    def __init__(self) -> None:
        super().__init__("Typed Dict", dict)

    def check_type(self, t: Any) -> None:
        if not is_json_dict(t):
            TypeEngine.check_type(_map_value_type(t))

    def get_literal_type(self, t: Any) -> LiteralType:
        if is_json_dict(t):
            return contracts.LiteralType(simple=contracts.SimpleType.STRUCT, annotation=msgpack_annotation())
        return contracts.LiteralType(map_value_type=TypeEngine.to_literal_type(_map_value_type(t)))

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        if is_json_dict(t):
            return None
        value = TypeEngine.checker(typing.get_args(t)[1])
        if value is None:
            return None
        return lambda mapping: (
            type(mapping) is dict and all(type(key) is str for key in mapping) and all(map(value, mapping.values()))
        )

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        if is_json_dict(t):
            return None
        value = TypeEngine.normalizer(typing.get_args(t)[1])
        if value is None:
            return None

        def normalize(mapping: Any) -> Any:
            if type(mapping) is not dict:
                return mapping
            for each in mapping.values():  # copied only when a value changes
                if value(each) is not each:
                    return {key: value(each) for key, each in mapping.items()}
            return mapping

        return normalize

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, dict):
            raise mismatch(python_type, python_val)
        if is_json_dict(python_type):
            import msgpack

            check_json(python_val)
            packed = msgpack.packb(python_val, use_bin_type=True)
            return contracts.Literal(scalar=contracts.Scalar(binary=contracts.Binary(value=packed, tag=MSGPACK_TAG)))
        value_type = typing.get_args(python_type)[1]
        value_literal_type = expected.map_value_type if expected is not None else None
        if value_literal_type is None:
            value_literal_type = TypeEngine.to_literal_type(value_type)
        literals = {}
        for key, value in python_val.items():
            if not isinstance(key, str):
                raise TypeTransformerFailedError(f"key {key!r}: expected str, got {value_description(key)}")
            try:
                literals[key] = TypeEngine.to_literal(ctx, value, value_type, value_literal_type)
            except TypeTransformerFailedError as error:
                raise nested(f"key {key!r}", error) from error
        return contracts.Literal(map=contracts.LiteralMap(literals=literals))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> dict[str, Any]:
        if is_json_dict(expected_python_type):
            data = msgpack_data(lv, expected_python_type)
            if not isinstance(data, dict):
                raise TypeTransformerFailedError(
                    f"expected a literal of dict, got msgpack data {value_description(data)}"
                )
            return data
        if lv.map is None:
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(expected_python_type)}, got {literal_description(lv)}"
            )
        value_type = typing.get_args(expected_python_type)[1]
        values = {}
        for key, literal in lv.map.literals.items():
            try:
                values[key] = TypeEngine.to_python_value(ctx, literal, value_type)
            except TypeTransformerFailedError as error:
                raise nested(f"key {key!r}", error) from error
        return values

    def hash_of(self, python_val: Any, python_type: Any) -> str | None:
        """A dict of values hashed in memory (tables) hashes as their hashes by key, in key order."""
        if is_json_dict(python_type) or type(python_val) is not dict or not python_val:
            return None
        value_type = _map_value_type(python_type)
        return items_hash("dict", [(key, python_val[key], value_type) for key in sorted(python_val)], probe=True)

    def from_json(self, data: Any, python_type: Any) -> dict[str, Any]:
        """A JSON object: as it is for ``dict``, each value read as the value type for ``dict[str, T]``."""
        _json_of(dict, data, python_type)
        if is_json_dict(python_type):
            return data
        value_type = _map_value_type(python_type)
        return {key: _item_from_json(f"key {key!r}", item, value_type) for key, item in data.items()}

    def text_help(self, python_type: Any) -> str | None:
        return None if is_json_dict(python_type) else text_help_of(typing.get_args(python_type)[1:])

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type.map_value_type is not None:
            return dict[str, TypeEngine.guess_python_type(literal_type.map_value_type)]  # type: ignore[misc]
        if literal_type.simple is contracts.SimpleType.STRUCT and not _is_tuple_struct(literal_type):
            return dict  # a dataclass's msgpack document reads as a dict too
        return super().guess_python_type(literal_type)


def _map_value_type(t: Any) -> Any:
    key_type, value_type = typing.get_args(t)
    if key_type is not str:
        raise UnsupportedTypeError(f"{type_name(t)}: a literal map has str keys; use dict[str, ...]")
    return value_type


def _is_tuple_struct(literal_type: LiteralType) -> bool:
    return (literal_type.metadata or {}).get("type") == "array"


def _check_tuple_origin(t: Any) -> None:
    if typing.get_origin(t) is not tuple:
        raise UnsupportedTypeError(f"{type_name(t)} needs its item types: annotate tuple[int, str] or tuple[int, ...]")


def _is_variadic(t: Any) -> bool:
    arguments = typing.get_args(t)
    return len(arguments) == 2 and arguments[1] is Ellipsis


class TupleTransformer(TypeTransformer[tuple]):
    """``tuple[T, ...]`` as a ``LiteralCollection``; ``tuple[A, B]`` as a msgpack array (``STRUCT``)."""

    def __init__(self) -> None:
        super().__init__("tuple", tuple)
        self._literal_types: dict[Any, LiteralType] = {}

    def check_type(self, t: Any) -> None:
        _check_tuple_origin(t)
        if _is_variadic(t):
            TypeEngine.check_type(typing.get_args(t)[0])
            return
        if type_key(t) in self._literal_types:
            return
        json_schema(t)  # first, as get_literal_type does: it rejects unsupported item types
        for item in typing.get_args(t):
            TypeEngine.check_type(item)

    def get_literal_type(self, t: Any) -> LiteralType:
        _check_tuple_origin(t)
        if _is_variadic(t):
            return contracts.LiteralType(collection_type=TypeEngine.to_literal_type(typing.get_args(t)[0]))
        key = type_key(t)
        cached = self._literal_types.get(key)
        if cached is None:
            schema = {"title": type_name(t), **json_schema(t)}
            field_types = {
                str(index): TypeEngine.to_literal_type(item) for index, item in enumerate(typing.get_args(t))
            }
            cached = self._literal_types[key] = struct_literal_type(schema, field_types)
        return cached

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, tuple):
            raise mismatch(python_type, python_val)
        if _is_variadic(python_type):
            return _to_collection(ctx, python_val, typing.get_args(python_type)[0], expected)
        return to_msgpack_literal(python_val, python_type)

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> tuple[Any, ...]:
        if _is_variadic(expected_python_type):
            item_type = typing.get_args(expected_python_type)[0]
            return tuple(_from_collection(ctx, lv, item_type, expected_python_type))
        return from_msgpack_literal(lv, expected_python_type)

    def from_json(self, data: Any, python_type: Any) -> tuple[Any, ...]:
        """A JSON array of the tuple's items (of its length, unless ``tuple[T, ...]``)."""
        items = _json_of(list, data, python_type)
        arguments = typing.get_args(python_type)
        if _is_variadic(python_type):
            return tuple(_item_from_json(f"item [{index}]", item, arguments[0]) for index, item in enumerate(items))
        if len(items) != len(arguments):
            raise TypeTransformerFailedError(
                f"expected {len(arguments)} items for {type_name(python_type)}, got {len(items)}"
            )
        pairs = enumerate(zip(items, arguments))
        return tuple(_item_from_json(f"item [{index}]", item, argument) for index, (item, argument) in pairs)

    def text_help(self, python_type: Any) -> str | None:
        return text_help_of(typing.get_args(python_type))

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if (
            literal_type.simple is contracts.SimpleType.STRUCT
            and _is_tuple_struct(literal_type)
            and literal_type.structure
        ):
            fields = literal_type.structure.dataclass_type
            items = tuple(TypeEngine.guess_python_type(fields[str(index)]) for index in range(len(fields)))
            # tuple[items] spelled so that mypy does not read a run-time subscription as an annotation.
            return types.GenericAlias(tuple, items)
        return super().guess_python_type(literal_type)


class IteratorTransformer(TypeTransformer[Iterator]):
    """``Iterator[T]`` as a ``LiteralCollection`` of ``T``, read back as a :class:`FlyteIterator`
    (flytekit 1.16's "Typed Iterator"): the body may return any iterable, a generator typically.

    In-process the items are gathered once, when the task returns (:meth:`normalizer`), so that
    every task taking the output iterates them from the start. flytekit's ``Iterator[JSON]``, a JSON
    Lines file, is refused, naming ``Iterator[dict[str, Any]]`` as the replacement.
    """

    def __init__(self) -> None:
        super().__init__("Typed Iterator", Iterator)

    def check_type(self, t: Any) -> None:
        item_type = _item_type(t)
        if item_type == JSON:
            raise UnsupportedTypeError(
                f"{type_name(t)} is flytekit's JSON Lines file, which taskloom does not write: "
                "declare Iterator[dict[str, Any]] (or list[dict[str, Any]]) for a sequence of JSON documents"
            )
        TypeEngine.check_type(item_type)

    def get_literal_type(self, t: Any) -> LiteralType:
        self.check_type(t)
        return contracts.LiteralType(collection_type=TypeEngine.to_literal_type(_item_type(t)))

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        item = TypeEngine.normalizer(_item_type(t))

        def gather(value: Any) -> Any:
            if type(value) is FlyteIterator or isinstance(value, (str, bytes, dict)):
                return value  # already gathered, or no sequence of items: the check says so
            try:
                items = iter(value)
            except TypeError:
                return value
            return FlyteIterator(items if item is None else map(item, items))

        return gather

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if isinstance(python_val, (str, bytes, dict)) or not isinstance(python_val, Iterable):
            raise mismatch(python_type, python_val)
        return _to_collection(ctx, python_val, _item_type(python_type), expected)

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> FlyteIterator[Any]:
        return FlyteIterator(_from_collection(ctx, lv, _item_type(expected_python_type), expected_python_type))

    def from_json(self, data: Any, python_type: Any) -> FlyteIterator[Any]:
        """A JSON array, each item read as the item type."""
        item_type = _item_type(python_type)
        items = enumerate(_json_of(list, data, python_type))
        return FlyteIterator(_item_from_json(f"item [{index}]", item, item_type) for index, item in items)

    def text_help(self, python_type: Any) -> str | None:
        return text_help_of(typing.get_args(python_type))


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [ListTransformer(), DictTransformer(), TupleTransformer(), IteratorTransformer()]
