"""The transformer for :class:`~taskloom.types.pickle.FlytePickle`: opted-in types travel pickled.

The kernel uses it only for types the user opted in with :func:`taskloom.types.pickle.allow_pickle`
(never as a silent fallback). A value is stored as ``Binary(pickle bytes, tag="pickle")`` with the
literal type ``BINARY`` whose metadata names the class (``{"python_class": "module.qualname"}``); the
unpickled value must be an instance of the declared type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    FlytePickle,
    TypeTransformer,
    TypeTransformerFailedError,
    literal_description,
    type_name,
    value_description,
)
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType

#: ``Binary.tag`` of a pickled value.
PICKLE_TAG = "pickle"


def _class_path(t: Any) -> str:
    return f"{t.__module__}.{t.__qualname__}" if isinstance(t, type) else type_name(t)


def _checks(t: Any) -> bool:
    return isinstance(t, type) and t is not FlytePickle


class PickleTransformer(TypeTransformer[Any]):
    """Values of opted-in types, pickled (trusted data only: unpickling runs code)."""

    def __init__(self) -> None:
        super().__init__("FlytePickle", FlytePickle)

    def check_type(self, t: Any) -> None:
        pass  # any opted-in class pickles

    def get_literal_type(self, t: Any) -> LiteralType:
        return contracts.LiteralType(simple=contracts.SimpleType.BINARY, metadata={"python_class": _class_path(t)})

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        if _checks(python_type) and not isinstance(python_val, python_type):
            raise mismatch(python_type, python_val)
        try:
            import pickle  # only for opted-in types: keeps the hook's import cheap

            data = pickle.dumps(python_val)
        except Exception as error:  # pickling raises whatever the object's __reduce__ raises
            raise mismatch(python_type, python_val, f"cannot be pickled: {type(error).__name__}: {error}") from error
        return contracts.Literal(scalar=contracts.Scalar(binary=contracts.Binary(value=data, tag=PICKLE_TAG)))

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        binary = lv.scalar.binary if lv.scalar is not None else None
        if binary is None or binary.tag != PICKLE_TAG:
            raise TypeTransformerFailedError(
                f"expected a pickled literal of {type_name(expected_python_type)}, got {literal_description(lv)}"
            )
        try:
            import pickle

            value = pickle.loads(binary.value)
        except Exception as error:
            raise TypeTransformerFailedError(
                f"expected a pickled {type_name(expected_python_type)}, got unreadable data ({type(error).__name__}: {error})"
            ) from error
        if _checks(expected_python_type) and not isinstance(value, expected_python_type):
            raise TypeTransformerFailedError(
                f"expected {type_name(expected_python_type)}, got {value_description(value)} (unpickled)"
            )
        return value


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [PickleTransformer()]
