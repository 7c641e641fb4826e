"""The transformer for :class:`enum.Enum` subclasses whose values are str or int.

As in flytekit 1.16 a member is stored as its value's string (``Primitive(string_value=...)``) and the
literal type lists the allowed values (``EnumType``); flytekit takes str values only, taskloom also
takes int values (``"1"``, ``"2"``...), read back to the member. As text (``loom run`` options) and
in JSON a member is given by its value (``--colour red``, ``--level 2``).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    TypeTransformer,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    literal_description,
    type_name,
)
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType


def enum_values(t: type[enum.Enum]) -> list[enum.Enum]:
    """The members of ``t`` (aliases excluded), checking that their values are str or int and distinct as text.

    Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError` otherwise.
    """
    members = list(t)
    texts: set[str] = set()
    for member in members:
        value = member.value
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise UnsupportedTypeError(
                f"enum {type_name(t)}: member {member.name} has the value {value!r}; only str and int values are supported"
            )
        if str(value) in texts:
            raise UnsupportedTypeError(f"enum {type_name(t)}: two members have the value {str(value)!r} as text")
        texts.add(str(value))
    return members


def unknown_value(t: type[enum.Enum], value: Any) -> TypeTransformerFailedError:
    """The error for a stored value that is not one of ``t``'s, listing the allowed ones."""
    allowed = ", ".join(repr(str(member.value)) for member in t)
    return TypeTransformerFailedError(
        f"{type_name(t)} has no member with the value {value!r}; allowed values: {allowed}"
    )


class EnumTransformer(TypeTransformer[enum.Enum]):
    """Every enum subclass, claimed by ``handles`` so that ``class Colour(str, Enum)`` is not taken for ``str``."""

    def __init__(self) -> None:
        super().__init__("DefaultEnumTransformer", enum.Enum)
        self._members: dict[type, dict[str, enum.Enum]] = {}

    def handles(self, t: Any) -> bool:
        return isinstance(t, type) and issubclass(t, enum.Enum)

    def _by_text(self, t: type[enum.Enum]) -> dict[str, enum.Enum]:
        members = self._members.get(t)
        if members is None:
            members = self._members[t] = {str(member.value): member for member in enum_values(t)}
        return members

    def check_type(self, t: Any) -> None:
        self._by_text(t)  # checks the members' values

    def get_literal_type(self, t: Any) -> LiteralType:
        return contracts.LiteralType(enum_type=contracts.EnumType(values=tuple(self._by_text(t))))

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, python_type):
            raise mismatch(python_type, python_val)
        return contracts.Literal(
            scalar=contracts.Scalar(primitive=contracts.Primitive(string_value=str(python_val.value)))
        )

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        primitive = lv.scalar.primitive if lv.scalar is not None else None
        if primitive is None or primitive.string_value is None:
            raise TypeTransformerFailedError(
                f"expected a literal of {type_name(expected_python_type)}, got {literal_description(lv)}"
            )
        member = self._by_text(expected_python_type).get(primitive.string_value)
        if member is None:
            raise unknown_value(expected_python_type, primitive.string_value)
        return member

    def from_text(self, text: str, python_type: Any) -> Any:
        """The member whose value is ``text``, or the number ``text`` when every value is an int."""
        if all(isinstance(member.value, int) for member in python_type):
            return self.from_json(int(text), python_type)
        return self.from_json(text, python_type)

    def from_json(self, data: Any, python_type: Any) -> Any:
        """The member whose value is ``data``."""
        try:
            return python_type(data)
        except ValueError:
            raise unknown_value(python_type, data) from None

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type.enum_type is not None:
            # As flytekit does: an enum made up on the spot, whose members are named after their values.
            values = literal_type.enum_type.values
            return enum.Enum("DynamicEnum", [(value, value) for value in values])
        return super().guess_python_type(literal_type)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [EnumTransformer()]
