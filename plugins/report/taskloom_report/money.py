"""Money: an exact amount in one currency, and its type transformer (the example type)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation
from typing import Any

from taskloom.extend import (
    Literal,
    LiteralType,
    Scalar,
    SimpleType,
    TypeTransformer,
    TypeTransformerFailedError,
    models,
)


@dataclasses.dataclass(frozen=True)
class Money:
    """An exact amount of money: ``Money(Decimal("12.50"), "EUR")``, written ``12.50 EUR``."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @classmethod
    def parse(cls, text: str) -> Money:
        """``"12.50 EUR"`` as Money; raises TypeTransformerFailedError saying what was expected and what came."""
        try:
            amount, currency = text.split()
            value = cls(Decimal(amount), currency)
        except (ValueError, InvalidOperation) as error:
            raise TypeTransformerFailedError(f"expected an amount such as '12.50 EUR', got {text!r}") from error
        if not value.amount.is_finite() or not (currency.isalpha() and currency.isupper()):
            raise TypeTransformerFailedError(f"expected an amount such as '12.50 EUR', got {text!r}")
        return value


class MoneyTransformer(TypeTransformer[Money]):
    """Money as the string literal ``"<amount> <currency>"``: exact (no float) and readable in the Flyte console."""

    def __init__(self) -> None:
        super().__init__("money", Money)

    def get_literal_type(self, t: Any = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, ctx: Any, python_val: Money, python_type: Any, expected: LiteralType) -> Literal:
        self.assert_type(Money, python_val)  # "expected Money, got ..." for anything else
        return Literal(scalar=Scalar(primitive=models.literals.Primitive(string_value=str(python_val))))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Money:
        primitive = lv.scalar.primitive if lv.scalar else None
        return Money.parse(primitive.string_value if primitive and primitive.string_value is not None else "")

    def from_text(self, text: str, python_type: Any) -> Money:
        """``loom run ... --price "12.50 EUR"``: the text as a person writes it."""
        return Money.parse(text)

    def text_help(self, python_type: Any) -> str | None:
        return "money is written AMOUNT CURRENCY, e.g. '12.50 EUR'"
