"""A type whose transformer cannot make literals, while in-process checks pass: what the execution
store and the task cache must survive without failing the run.
"""

from __future__ import annotations

from taskloom.core.type_engine import TypeTransformer
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.models.types import LiteralType, SimpleType


class Opaque:
    """A value with no literal."""

    def __init__(self, value: int) -> None:
        self.value = value


class OpaqueTransformer(TypeTransformer[Opaque]):
    def __init__(self) -> None:
        super().__init__("opaque", Opaque)

    def checker(self, t):
        return lambda value: isinstance(value, Opaque)

    def get_literal_type(self, t=None):
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, ctx, python_val, python_type, expected):
        raise TypeTransformerFailedError("an opaque value has no literal")
