"""Transformers for the primitive types: int, float, str, bool, bytes, datetime, date, timedelta, None.

Representations follow flytekit 1.16 (``Primitive`` fields, ``Void`` for None), except that values are
checked strictly: ``True`` is not an ``int``, ``1.5`` is not an ``int``, and a ``date`` annotation
refuses a ``datetime`` rather than silently dropping its time.

As text (``loom run`` options, a gate's text signals): numbers as Python writes them, a ``str`` as it
is, ``bool`` as ``true``/``false``, ``yes``/``no``, ``on``/``off``, ``t``/``f``, ``y``/``n`` or
``1``/``0`` (any case; empty is false, as click reads it), ISO 8601 dates and datetimes, durations in
seconds, ``None`` as ``none`` or ``null``. ``bytes`` are text too, on the command line and as JSON
strings inside lists, dicts and dataclasses alike: plain text is its UTF-8 bytes; ``base64:``
introduces standard base64 (``base64:AAEC`` is ``b"\\x00\\x01\\x02"``), ``hex:`` hexadecimal digits
(``hex:0001ff``), and ``text:`` text that itself starts with one of these prefixes (``text:hex:00`` is
``b"hex:00"``). flytekit 1.16 has no bytes type: it pickles ``bytes``, and ``pyflyte run`` takes a
``MODULE:OBJECT`` reference or passes the text on as a ``str``. Inside JSON each type takes its JSON
kind (an int for ``int``; an int or a float for ``float``), dates and datetimes ISO 8601 strings,
durations numbers of seconds.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from taskloom.extend import (
    TypeTransformer,
    TypeTransformerFailedError,
    literal_description,
    type_name,
    value_description,
)
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType, Scalar, SimpleType

T = TypeVar("T")

#: A literal's ``integer`` is a signed 64-bit integer on the wire (protobuf ``int64``).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: ``Binary.tag`` of a ``bytes`` value.
BYTES_TAG = "bytes"

_UTC = dt.UTC


def check_int(value: Any) -> int:
    """Return ``value`` as a plain int if it is an int (not a bool) within the signed 64-bit range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise mismatch(int, value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise mismatch(int, value, "outside the signed 64-bit range a literal holds")
    return int(value)


def check_float(value: Any) -> float:
    """Return ``value`` as a float if it is a float or an int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise mismatch(float, value)
    return float(value)


def check_str(value: Any) -> str:
    """Return ``value`` as a plain str; a ``str`` subclass (a str-valued enum member) gives its content."""
    if not isinstance(value, str):
        raise mismatch(str, value)
    # str() of a (str, Enum) member is "Colour.RED"; str.__str__ gives the characters themselves.
    return str.__str__(value)


def check_bool(value: Any) -> bool:
    """Return ``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise mismatch(bool, value)
    return value


def check_bytes(value: Any) -> bytes:
    """Return ``value`` as bytes if it is bytes."""
    if not isinstance(value, bytes):
        raise mismatch(bytes, value)
    return bytes(value)


def check_datetime(value: Any) -> dt.datetime:
    """Return ``value`` if it is a datetime (naive or aware)."""
    if not isinstance(value, dt.datetime):
        raise mismatch(dt.datetime, value)
    return value


def check_date(value: Any) -> dt.date:
    """Return ``value`` if it is a date and not a datetime (whose time would be lost)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise mismatch(dt.date, value)
    return value


def check_timedelta(value: Any) -> dt.timedelta:
    """Return ``value`` if it is a timedelta."""
    if not isinstance(value, dt.timedelta):
        raise mismatch(dt.timedelta, value)
    return value


def check_none(value: Any) -> None:
    """Accept only ``None``."""
    if value is not None:
        raise mismatch(type(None), value)


class ScalarTransformer(TypeTransformer[T], Generic[T]):
    """A transformer for one Python type stored as one kind of scalar with a fixed literal type.

    ``simple`` is the :class:`~taskloom.models.types.SimpleType` of the literal type, or its name
    (``"INTEGER"``: the contracts are then imported only when a literal type is first built).
    ``encode(value) -> Scalar`` checks and converts a value (raising "expected X, got Y");
    ``decode(scalar) -> value`` returns the value, or raises ValueError if the scalar is of another kind.
    ``parse(text) -> value`` and ``read(data) -> value`` are :meth:`from_text` and :meth:`from_json`
    (the defaults of :class:`~taskloom.core.type_engine.TypeTransformer` when not given); ``text_help``
    is what ``loom run --help`` says of the type.
    """

    def __init__(
        self,
        name: str,
        t: type[T] | Any,
        simple: SimpleType | str,
        encode: Callable[[Any], Scalar],
        decode: Callable[[Scalar], T],
        check: Callable[[Any], bool] | None = None,
        *,
        normalize: Callable[[Any], Any] | None = None,
        parse: Callable[[str], T] | None = None,
        read: Callable[[Any], T] | None = None,
        text_help: str | None = None,
    ) -> None:
        super().__init__(name, t)
        self._simple_name = simple if isinstance(simple, str) else simple.name
        self._literal_type: LiteralType | None = None
        self._encode = encode
        self._decode = decode
        self._check = check
        self._normalize = normalize
        self._parse = parse
        self._read = read
        self._text_help = text_help

    def from_text(self, text: str, python_type: Any) -> T:
        """``parse(text)``."""
        if self._parse is None:
            return super().from_text(text, python_type)
        return self._parse(text)

    def from_json(self, data: Any, python_type: Any) -> T:
        """``read(data)``."""
        if self._read is None:
            return super().from_json(data, python_type)
        return self._read(data)

    def text_help(self, python_type: Any) -> str | None:
        return self._text_help

    @property
    def simple(self) -> SimpleType:
        """The simple type of this transformer's literal type."""
        return contracts.SimpleType[self._simple_name]

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        """``check``: a test that accepts only values ``encode`` takes as they are."""
        return self._check

    def normalizer(self, t: Any) -> Callable[[Any], Any] | None:
        """``normalize``: what a literal round trip changes (an int declared float, a naive datetime)."""
        return self._normalize

    def check_type(self, t: Any) -> None:
        pass  # one fixed literal type: nothing to check

    def get_literal_type(self, t: Any = None) -> LiteralType:
        if self._literal_type is None:
            self._literal_type = contracts.LiteralType(simple=self.simple)
        return self._literal_type

    def to_literal(self, ctx: Any, python_val: T, python_type: Any, expected: LiteralType) -> Literal:
        return contracts.Literal(scalar=self._encode(python_val))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> T:
        if lv.scalar is not None:
            try:
                return self._decode(lv.scalar)
            except ValueError:
                pass
        raise TypeTransformerFailedError(
            f"expected a literal of {type_name(self.python_type)}, got {literal_description(lv)}"
        )

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        # Pickled values are BINARY too, but say which class they hold in their metadata.
        if literal_type.simple is self.simple and not (literal_type.metadata or {}).get("python_class"):
            return self.python_type
        return super().guess_python_type(literal_type)


def _primitive(scalar: Scalar, field: str) -> Any:
    value = getattr(scalar.primitive, field, None) if scalar.primitive is not None else None
    if value is None:
        raise ValueError(field)
    return value


def _decode_float(scalar: Scalar) -> float:
    primitive = scalar.primitive
    if primitive is not None and primitive.integer is not None:
        # flytekit 1.16 reads an integer literal as a float too (inputs typed by hand, e.g. on the CLI).
        return float(primitive.integer)
    return _primitive(scalar, "float_value")


def _encode_datetime(value: Any) -> Scalar:
    value = check_datetime(value)
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_UTC)  # a naive datetime is read as UTC
    return contracts.Scalar(primitive=contracts.Primitive(datetime=value))


def _float_of_int(value: Any) -> Any:
    # An int bound to a float input arrives as a float, as flytekit's float literal gives it.
    return float(value) if type(value) is int else value


def _aware_datetime(value: Any) -> Any:
    # A literal's datetime is a UTC instant: flytekit hands a naive datetime over as UTC, and a
    # date bound to a datetime input as its midnight, UTC. An aware one keeps its offset in-process.
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None or value.utcoffset() is None else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time.min, tzinfo=_UTC)
    return value


def _encode_date(value: Any) -> Scalar:
    value = check_date(value)
    # flytekit stores a date as the datetime at its midnight.
    return contracts.Scalar(
        primitive=contracts.Primitive(datetime=dt.datetime.combine(value, dt.time.min, tzinfo=_UTC))
    )


def _decode_date(scalar: Scalar) -> dt.date:
    return _primitive(scalar, "datetime").astimezone(_UTC).date()


def _decode_bytes(scalar: Scalar) -> bytes:
    binary = scalar.binary
    if binary is None or binary.tag not in (BYTES_TAG, ""):
        raise ValueError("binary")
    return binary.value


def _encode_none(value: Any) -> Scalar:
    check_none(value)
    return contracts.Scalar(none_type=contracts.Void())


def _decode_none(scalar: Scalar) -> None:
    if scalar.none_type is None:
        raise ValueError("none_type")


# --- text ----------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    # surrogateescape gives back the very bytes of a command-line argument that is not UTF-8.
    return text.encode("utf-8", "surrogateescape")


#: The prefixes of ``bytes`` given as text, and how each decodes what follows it (see the module docs).
BYTES_ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "base64:": lambda data: base64.b64decode(data, validate=True),
    "hex:": bytes.fromhex,
    "text:": _utf8,
}

#: What ``loom run FILE ENTITY --help`` says of inputs that are, or hold, bytes.
BYTES_HELP = "bytes are given as UTF-8 text, base64:DATA or hex:DATA (text:TEXT for text starting with a prefix)"


def parse_bytes(text: str) -> bytes:
    """``text`` as bytes: its UTF-8 encoding, or the data after ``base64:``, ``hex:`` or ``text:``.

    Raises :class:`~taskloom.exceptions.user.TypeTransformerFailedError` naming what was expected
    and what came for malformed base64 or hexadecimal.
    """
    prefix, separator, data = text.partition(":")
    decode = BYTES_ENCODINGS.get(prefix + separator)
    if decode is None:
        return _utf8(text)
    try:
        return decode(data)
    except (binascii.Error, ValueError) as error:
        kind = "base64" if prefix == "base64" else "hexadecimal digits"
        raise TypeTransformerFailedError(
            f"expected {kind} after {prefix + separator!r}, got {data!r} ({error})"
        ) from error


def _bytes_from_json(data: Any) -> bytes:
    if not isinstance(data, str):
        raise TypeTransformerFailedError(f"expected a JSON string for bytes, got {data!r}")
    return parse_bytes(data)


#: The words ``bool`` takes as text, lower-cased (click's, so that answers read as they always did).
BOOL_WORDS = {
    **dict.fromkeys(("1", "true", "t", "yes", "y", "on"), True),
    **dict.fromkeys(("0", "false", "f", "no", "n", "off", ""), False),
}


def parse_bool(text: str) -> bool:
    """``text`` as a bool: ``true``/``false``, ``yes``/``no``, ``on``/``off``, ``t``/``f``, ``y``/``n``,
    ``1``/``0`` in any case, or empty for false.
    """
    found = BOOL_WORDS.get(text.strip().lower())
    if found is None:
        raise TypeTransformerFailedError(f"expected true/false, yes/no, on/off or 1/0, got {text!r}")
    return found


def parse_none(text: str) -> None:
    """``none`` or ``null`` (any case) as None."""
    if text.lower() not in ("none", "null"):
        raise TypeTransformerFailedError(f"expected none or null, got {text!r}")


def _iso(parse: Callable[[str], Any], expected: str) -> Callable[[Any], Any]:
    def read(data: Any) -> Any:
        if not isinstance(data, str):
            raise TypeTransformerFailedError(f"expected {expected}, got {value_description(data)}")
        return parse(data)

    return read


def parse_seconds(text: str) -> dt.timedelta:
    """``text``, a number of seconds, as a timedelta."""
    return dt.timedelta(seconds=float(text))


def _seconds_from_json(data: Any) -> dt.timedelta:
    if isinstance(data, str):
        return parse_seconds(data)
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise TypeTransformerFailedError(f"expected a timedelta in seconds, got {value_description(data)}")
    return dt.timedelta(seconds=data)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [
        ScalarTransformer(
            "int",
            int,
            "INTEGER",
            lambda v: contracts.Scalar(primitive=contracts.Primitive(integer=check_int(v))),
            lambda s: _primitive(s, "integer"),
            lambda v: type(v) is int and INT64_MIN <= v <= INT64_MAX,
            parse=int,
            read=check_int,
        ),
        ScalarTransformer(
            "float",
            float,
            "FLOAT",
            lambda v: contracts.Scalar(primitive=contracts.Primitive(float_value=check_float(v))),
            _decode_float,
            lambda v: type(v) is float or type(v) is int,
            normalize=_float_of_int,
            parse=float,
            read=check_float,
        ),
        ScalarTransformer(
            "str",
            str,
            "STRING",
            lambda v: contracts.Scalar(primitive=contracts.Primitive(string_value=check_str(v))),
            lambda s: _primitive(s, "string_value"),
            lambda v: type(v) is str,
            parse=str,
            read=check_str,
        ),
        ScalarTransformer(
            "bool",
            bool,
            "BOOLEAN",
            lambda v: contracts.Scalar(primitive=contracts.Primitive(boolean=check_bool(v))),
            lambda s: _primitive(s, "boolean"),
            lambda v: type(v) is bool,
            parse=parse_bool,
            read=check_bool,
        ),
        ScalarTransformer(
            "bytes",
            bytes,
            "BINARY",
            lambda v: contracts.Scalar(binary=contracts.Binary(value=check_bytes(v), tag=BYTES_TAG)),
            _decode_bytes,
            lambda v: type(v) is bytes,
            parse=parse_bytes,
            read=_bytes_from_json,
            text_help=BYTES_HELP,
        ),
        ScalarTransformer(
            "datetime",
            dt.datetime,
            "DATETIME",
            _encode_datetime,
            lambda s: _primitive(s, "datetime").astimezone(_UTC),
            normalize=_aware_datetime,
            parse=dt.datetime.fromisoformat,
            read=_iso(dt.datetime.fromisoformat, "an ISO 8601 datetime"),
        ),
        ScalarTransformer(
            "date",
            dt.date,
            "DATETIME",
            _encode_date,
            _decode_date,
            parse=dt.date.fromisoformat,
            read=_iso(dt.date.fromisoformat, "an ISO 8601 date"),
        ),
        ScalarTransformer(
            "timedelta",
            dt.timedelta,
            "DURATION",
            lambda v: contracts.Scalar(primitive=contracts.Primitive(duration=check_timedelta(v))),
            lambda s: _primitive(s, "duration"),
            parse=parse_seconds,
            read=_seconds_from_json,
        ),
        ScalarTransformer(
            "none",
            type(None),
            "NONE",
            _encode_none,
            _decode_none,
            lambda v: v is None,
            parse=parse_none,
            read=check_none,
        ),
    ]
