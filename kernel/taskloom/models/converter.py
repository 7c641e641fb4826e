"""The one cattrs converter that turns every contract into JSON-able data and back.

>>> from taskloom.models.converter import from_json, to_json
>>> from taskloom.models.literals import Literal, Primitive, Scalar
>>> value = Literal(scalar=Scalar(primitive=Primitive(integer=3)))
>>> to_json(value)
'{"scalar":{"primitive":{"integer":3}}}'
>>> from_json(to_json(value), Literal) == value
True

Encodings (chosen to match protobuf's canonical JSON mapping where it has one):

- ``datetime``: RFC 3339 / ISO 8601 in UTC with a ``Z`` suffix, e.g. ``"2024-01-31T12:00:00.000001Z"``.
- ``timedelta``: protobuf's Duration form, seconds with a fraction and an ``s`` suffix, e.g.
  ``"-1.500000s"``; exact to the microsecond, negative durations included.
- ``bytes``: standard base64 with padding.
- enums: the member name, e.g. ``"STRUCT"`` (an integer is accepted when structuring).
- ``float`` fields: JSON numbers, except ``inf``, ``-inf`` and ``nan``, written as the strings
  ``"Infinity"``, ``"-Infinity"`` and ``"NaN"``; :func:`to_json` therefore emits strict JSON.
  ``google.protobuf.Struct`` fields (``dict[str, Any]``) are passed through as they are and must
  hold finite numbers only.
- Fields equal to their default (None, ``""``, 0, empty containers, default sub-messages) are
  left out; a oneof member that is set is always written, even when it is empty or zero.

Unknown keys are ignored when structuring, so data written by a newer taskloom stays readable.
``cattrs`` is imported on the first call to :func:`get_converter`, never when a contract module is
imported. Invalid data raises ``cattrs.BaseValidationError`` (an ``ExceptionGroup``) whose
sub-exceptions say which field failed.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import enum
import json
import math
import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import cattrs

__all__ = ["from_json", "get_converter", "structure", "to_json", "unstructure"]

T = TypeVar("T")

# The modules whose attrs classes are contracts; their string annotations are resolved once,
# when the converter is built.
_CONTRACT_MODULES = (
    "taskloom.models.identifier",
    "taskloom.models.types",
    "taskloom.models.literals",
    "taskloom.models.interface",
    "taskloom.models.security",
    "taskloom.models.task",
    "taskloom.models.workflow",
    "taskloom.models.launch_plan",
    "taskloom.models.dynamic_job",
)

_converter: cattrs.Converter | None = None
_lock = threading.Lock()


def get_converter() -> cattrs.Converter:
    """Return the converter for all contracts, building it on first use.

    Plugins that add their own attrs value objects may register further hooks on it; they must not
    replace the hooks for the types listed in this module's docstring.
    """
    global _converter
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = _build_converter()
    return _converter


def __getattr__(name: str) -> Any:
    # ``converter`` is a module attribute built lazily, so that importing this module stays cheap.
    if name == "converter":
        return get_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def unstructure(obj: Any) -> Any:
    """Return the JSON-able form of a contract (a dict for a contract, a list for a tuple...)."""
    return get_converter().unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """Build an instance of ``cls`` from the JSON-able ``data`` that :func:`unstructure` produced."""
    return get_converter().structure(data, cls)


def to_json(obj: Any) -> str:
    """Return ``obj`` as compact JSON text with sorted keys (the same contract gives the same text)."""
    return json.dumps(unstructure(obj), allow_nan=False, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Build an instance of ``cls`` from JSON text that :func:`to_json` produced."""
    return structure(json.loads(text), cls)


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------


def _unstructure_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    text = str(value)
    # Python 3.10's fromisoformat does not read the "Z" suffix.
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone; expected e.g. '2024-01-31T12:00:00Z'")
    return parsed.astimezone(dt.UTC)


_DURATION = re.compile(r"(-)?(\d+)(?:\.(\d{1,9}))?s")
_MICROSECONDS_PER_SECOND = 1_000_000


def _unstructure_timedelta(value: dt.timedelta) -> str:
    total = value // dt.timedelta(microseconds=1)
    sign = "-" if total < 0 else ""
    seconds, micros = divmod(abs(total), _MICROSECONDS_PER_SECOND)
    return f"{sign}{seconds}.{micros:06d}s" if micros else f"{sign}{seconds}s"


def _structure_timedelta(value: Any, _: type) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    match = _DURATION.fullmatch(str(value))
    if match is None:
        raise ValueError(f"duration {value!r} is not of the form '1.5s' or '-3s'")
    sign, seconds, fraction = match.groups()
    nanos = int((fraction or "").ljust(9, "0"))
    if nanos % 1000:
        raise ValueError(f"duration {value!r} has nanoseconds; timedelta holds microseconds only")
    total = int(seconds) * _MICROSECONDS_PER_SECOND + nanos // 1000
    return dt.timedelta(microseconds=-total if sign else total)


def _unstructure_bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _structure_bytes(value: Any, _: type) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return base64.b64decode(value, validate=True)


_NON_FINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def _unstructure_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"expected a number, 'Infinity', '-Infinity' or 'NaN', got {value!r}")


def _unstructure_enum(value: enum.Enum) -> str:
    return value.name


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls[value]
        except KeyError:
            names = ", ".join(cls.__members__)
            raise ValueError(f"{cls.__name__}: no member {value!r}; expected one of {names}") from None
    if isinstance(value, int) and not isinstance(value, bool):
        return cls(value)
    raise ValueError(f"{cls.__name__}: expected a member name, got {value!r}")


def _copy_struct(value: Any, _: type | None = None) -> Any:
    # google.protobuf.Struct fields hold plain JSON data: copied, never converted.
    return copy.deepcopy(value)


def _is_struct(tp: Any) -> bool:
    return tp == dict[str, Any]


def _is_optional(tp: Any) -> bool:
    import types
    import typing

    return (
        typing.get_origin(tp) in (typing.Union, types.UnionType)
        and type(None) in typing.get_args(tp)
        and len(typing.get_args(tp)) == 2
    )


def _resolve_contract_types() -> None:
    import importlib

    import attrs

    for module_name in _CONTRACT_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if attrs.has(value) and value.__module__ == module_name:
                attrs.resolve_types(value)


def _build_converter() -> cattrs.Converter:
    import typing

    import cattrs

    _resolve_contract_types()
    conv = cattrs.Converter(omit_if_default=True, unstruct_collection_overrides={tuple: list})

    conv.register_unstructure_hook(dt.datetime, _unstructure_datetime)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.timedelta, _unstructure_timedelta)
    conv.register_structure_hook(dt.timedelta, _structure_timedelta)
    conv.register_unstructure_hook(bytes, _unstructure_bytes)
    conv.register_structure_hook(bytes, _structure_bytes)
    conv.register_unstructure_hook(float, _unstructure_float)
    conv.register_structure_hook(float, _structure_float)
    conv.register_unstructure_hook(enum.Enum, _unstructure_enum)
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_unstructure_hook_func(_is_struct, _copy_struct)
    conv.register_structure_hook_func(_is_struct, _copy_struct)

    # An Optional field is unstructured with the hook of its declared type, not of the value's
    # runtime class, so that e.g. ``dict[str, Any] | None`` keeps the Struct pass-through.
    def unstructure_optional(tp: Any) -> Any:
        inner = next(arg for arg in typing.get_args(tp) if arg is not type(None))
        hook = conv.get_unstructure_hook(inner)
        return lambda value: None if value is None else hook(value)

    conv.register_unstructure_hook_factory(_is_optional, unstructure_optional)
    return conv
