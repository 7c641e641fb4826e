"""The errors this plugin raises when a value does not fit its type, worded "expected X, got Y"."""

from __future__ import annotations

from typing import Any

from taskloom.extend import TypeTransformerFailedError, type_name, value_description


def mismatch(python_type: Any, value: Any, detail: str = "") -> TypeTransformerFailedError:
    """The error for a value that does not fit ``python_type``: ``expected int, got str 'abc'``."""
    suffix = f" ({detail})" if detail else ""
    return TypeTransformerFailedError(f"expected {type_name(python_type)}, got {value_description(value)}{suffix}")


def nested(place: str, error: TypeTransformerFailedError) -> TypeTransformerFailedError:
    """``error`` prefixed with where it happened inside a value: ``item [2]: expected int, got str 'x'``.

    Raise it ``from error`` so that the original stays the cause.
    """
    return TypeTransformerFailedError(f"{place}: {error}")
