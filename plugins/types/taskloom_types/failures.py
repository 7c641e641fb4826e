"""The transformer of :class:`~taskloom.types.error.FlyteError`, the error a failure node receives.

Its literal type is flyteidl's ``SimpleType.ERROR`` and a value a ``Scalar.error`` (flyteidl
``core.Error``: ``failed_node_id`` and ``message``), as flytekit writes it and a Flyte backend hands
it to a workflow's failure node. Inside ``Optional[FlyteError]`` it is a union variant tagged
``FlyteError`` (the name flytekit gives its transformer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskloom.extend import FlyteError, TypeTransformer, TypeTransformerFailedError, literal_description
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType


class ErrorTransformer(TypeTransformer[FlyteError]):
    """``FlyteError`` to and from ``Scalar.error`` literals."""

    def __init__(self) -> None:
        super().__init__("FlyteError", FlyteError)

    def check_type(self, t: Any) -> None:
        pass  # FlyteError itself: nothing nested to check

    def checker(self, t: Any) -> Callable[[Any], bool] | None:
        return lambda value: type(value) is FlyteError

    def get_literal_type(self, t: Any) -> LiteralType:
        return contracts.LiteralType(simple=contracts.SimpleType.ERROR)

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if not isinstance(python_val, FlyteError):
            raise mismatch(FlyteError, python_val)
        error = contracts.Error(failed_node_id=python_val.failed_node_id, message=python_val.message)
        return contracts.Literal(scalar=contracts.Scalar(error=error))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> FlyteError:
        error = lv.scalar.error if lv.scalar is not None else None
        if error is None:
            raise TypeTransformerFailedError(f"expected an error literal of FlyteError, got {literal_description(lv)}")
        return FlyteError(message=error.message, failed_node_id=error.failed_node_id)

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type.simple == contracts.SimpleType.ERROR:
            return FlyteError
        return super().guess_python_type(literal_type)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [ErrorTransformer()]
