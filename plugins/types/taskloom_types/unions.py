"""The transformer for ``typing.Union``, ``Optional[T]`` and ``A | B``.

The literal type is a ``UnionType`` whose variants carry flytekit's tag in ``structure.tag``: the
name of the variant's transformer (``"none"``, ``"int"``, ``"Typed List"``, ``"Typed Dict"``,
``"Object-Dataclass-Transformer"``, ``"DefaultEnumTransformer"``, ``"FlyteFilePath"``...), and
nothing else (a dataclass variant's field types are left out, as flytekit leaves them). A value is
stored as ``Scalar(union=Union(value=<variant literal>, type=<variant literal type>))``, as in flytekit
1.16. A Flyte backend matches union variants by tag, and flytekit reads a union value by it, so both
must be flytekit's for a union to cross between a flytekit task and a taskloom task. Reading picks the
variant whose whole literal type equals the stored one first, so two dataclasses in one union (one
tag) are still told apart by their schemas. The variant chosen for a value does not depend on luck:
the variants that are exactly the value's type come first, then all of them in declaration order;
the first that converts the value wins.

As text (``loom run`` options), a union takes the first variant, in declaration order, that parses
the text (``none`` or ``null`` for None); as JSON, ``null`` is None when the union has it, and other
data the first variant that reads it.
"""

from __future__ import annotations

import functools
import operator
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from taskloom.extend import (
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
    UnsupportedTypeError,
    literal_description,
    strip_annotated,
    type_name,
    value_description,
)
from taskloom_types.contracts import contracts
from taskloom_types.errors import mismatch

if TYPE_CHECKING:
    from taskloom.extend import Literal, LiteralType

_NONE_TYPE = type(None)


def variant_tag(t: Any) -> str:
    """The tag of union variant ``t``: the name of its transformer, as flytekit tags variants."""
    t = strip_annotated(t)
    return TypeEngine.get_transformer(type(None) if t is None else t).name


def type_key(t: Any) -> Any:
    """A cache key for annotation ``t`` that tells ``int | float`` from ``float | int``.

    Unions compare equal whatever the order of their variants (and so do ``list[int | float]`` and
    ``list[float | int]``), but the order decides which variant a value takes: caches keyed by the
    annotation alone would mix them up.
    """
    return (t, repr(t))


def union_candidates(variants: tuple[Any, ...], value_type: type) -> list[int]:
    """Indexes of ``variants`` in the order a value of ``value_type`` tries them.

    First the variants that are exactly ``value_type`` (or whose generic origin is), then all in
    declaration order: so ``1`` is an ``int`` in ``float | int`` and ``True`` is never an ``int``.
    """
    exact = [index for index, variant in enumerate(variants) if _is_exactly(variant, value_type)]
    return exact + [index for index in range(len(variants)) if index not in exact]


def _is_exactly(variant: Any, value_type: type) -> bool:
    variant = strip_annotated(variant)
    if variant is None:
        variant = _NONE_TYPE
    return variant is value_type or typing.get_origin(variant) is value_type


def text_help_of(types: Any) -> str | None:
    """The text help of ``types`` (union variants, items, fields; :meth:`TypeEngine.text_help`), each
    said once, or None when none has any."""
    helps = [TypeEngine.text_help(t) for t in types if t is not Ellipsis]
    return "; ".join(dict.fromkeys(help for help in helps if help)) or None


def union_mismatch(t: Any, value: Any, reasons: Sequence[tuple[Any, Exception]]) -> TypeTransformerFailedError:
    """The error for a value that fits no variant of union ``t``.

    When a variant is exactly the value's type, its error is the one that matters (``field 'x':
    expected int...`` for a dataclass in an Optional) and is returned as it is; otherwise the
    error lists each variant's detail when it says more than "expected X, got Y".
    """
    if reasons and _is_exactly(reasons[0][0], type(value)):
        return TypeTransformerFailedError(str(reasons[0][1]))
    details = [
        f"as {type_name(variant)}: {reason}"
        for variant, reason in reasons
        if str(reason) != f"expected {type_name(variant)}, got {value_description(value)}"
    ]
    return mismatch(t, value, "; ".join(details))


class UnionTransformer(TypeTransformer[Any]):
    """Unions and optionals, with a deterministic choice of variant."""

    def __init__(self) -> None:
        super().__init__("Typed Union", typing.Union)
        self._literal_types: dict[Any, LiteralType] = {}

    def get_literal_type(self, t: Any) -> LiteralType:
        key = type_key(t)
        try:
            cached = self._literal_types.get(key)
        except TypeError:
            cached = None
        if cached is None:
            import attrs

            variants = []
            for variant in typing.get_args(t):
                literal_type = TypeEngine.to_literal_type(variant)
                # The tag replaces the variant's structure (a dataclass's field types too), as in flytekit.
                structure = contracts.TypeStructure(tag=variant_tag(variant))
                variants.append(attrs.evolve(literal_type, structure=structure))
            cached = contracts.LiteralType(union_type=contracts.UnionType(variants=tuple(variants)))
            try:
                self._literal_types[key] = cached
            except TypeError:
                pass
        return cached

    def check_type(self, t: Any) -> None:
        for variant in typing.get_args(t):
            TypeEngine.check_type(variant)

    def checker(self, t: Any) -> Any:
        tests = [TypeEngine.checker(variant) for variant in typing.get_args(t)]
        checks = [test for test in tests if test is not None]
        if not checks or len(checks) < len(tests):  # a variant without a test: no test of the union
            return None
        return lambda value: any(check(value) for check in checks)

    def normalizer(self, t: Any) -> Any:
        variants = typing.get_args(t)
        normalizers = [TypeEngine.normalizer(variant) for variant in variants]
        if all(normalize is None for normalize in normalizers):
            return None
        exact = {strip_annotated(variant): normalize for variant, normalize in zip(variants, normalizers)}
        tests = [TypeEngine.checker(variant) for variant in variants]

        def normalize(value: Any) -> Any:
            # A value of one of the variants' own classes is that variant's (3 in int | float stays
            # an int); otherwise the first variant that takes it, as the literal would be written
            # (3 in float | str arrives as 3.0, as in flytekit).
            if type(value) in exact:
                own = exact[type(value)]
                return value if own is None else own(value)
            for test, variant_normalizer in zip(tests, normalizers):
                if test is not None and test(value):
                    return value if variant_normalizer is None else variant_normalizer(value)
            return value

        return normalize

    def _variants(self, t: Any) -> tuple[tuple[Any, ...], tuple[LiteralType, ...]]:
        union_type = self.get_literal_type(t).union_type
        assert union_type is not None  # get_literal_type always makes a union type
        return typing.get_args(t), union_type.variants

    def to_literal(self, ctx: Any, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        variants, literal_types = self._variants(python_type)
        reasons = []
        for index in union_candidates(variants, type(python_val)):
            try:
                literal = TypeEngine.to_literal(ctx, python_val, variants[index], literal_types[index])
            except TypeTransformerFailedError as error:
                reasons.append((variants[index], error))
                continue
            return contracts.Literal(
                scalar=contracts.Scalar(union=contracts.Union(value=literal, type=literal_types[index]))
            )
        raise union_mismatch(python_type, python_val, reasons)

    def hash_of(self, python_val: Any, python_type: Any) -> str | None:
        """The in-memory hash of the value by the first variant it can be that has one (a table in an
        ``Optional[pd.DataFrame]``); None otherwise (its literal is hashed)."""
        variants = typing.get_args(python_type)
        for index in union_candidates(variants, type(python_val)):
            runtime = strip_annotated(variants[index])
            runtime = _NONE_TYPE if runtime is None else typing.get_origin(runtime) or runtime
            if not isinstance(runtime, type) or not isinstance(python_val, runtime):
                continue  # a variant the value is not (its hash function would be given a stranger)
            found = TypeEngine.hash_of(python_val, variants[index])
            if found is not None:
                return f"{index}:{found}"
        return None

    def to_python_value(self, ctx: Any, lv: Literal, expected_python_type: Any) -> Any:
        variants, literal_types = self._variants(expected_python_type)
        union = lv.scalar.union if lv.scalar is not None else None
        if union is not None:
            stored, inner = union.type, union.value
            tag = stored.structure.tag if stored.structure is not None else ""
            order = [index for index, literal_type in enumerate(literal_types) if literal_type == stored]
            order += [index for index in range(len(variants)) if tag and variant_tag(variants[index]) == tag]
        else:  # a literal written without the union wrapper, e.g. a plain Void for an Optional
            order, inner = [], lv
        order += range(len(variants))
        tried: list[int] = []
        first_error: TypeTransformerFailedError | None = None
        for index in order:
            if index in tried:
                continue
            tried.append(index)
            try:
                return TypeEngine.to_python_value(ctx, inner, variants[index])
            except TypeTransformerFailedError as error:
                first_error = first_error or error
        # The first variant tried is the one the literal names (when it names one): its error says most.
        detail = f" ({type_name(variants[tried[0]])}: {first_error})" if first_error is not None else ""
        raise TypeTransformerFailedError(
            f"expected a literal of {type_name(expected_python_type)}, got {literal_description(lv)}{detail}"
        )

    def from_text(self, text: str, python_type: Any) -> Any:
        """The value of the first variant, in declaration order, that parses ``text``."""
        for variant in typing.get_args(python_type):
            try:
                return TypeEngine.from_text(text, variant)
            except (TypeTransformerFailedError, UnsupportedTypeError):  # a variant given no text parses none
                continue
        raise TypeTransformerFailedError(f"fits none of {type_name(python_type)}")

    def from_json(self, data: Any, python_type: Any) -> Any:
        """None for ``null`` when a variant is None, else the first other variant that reads ``data``."""
        variants = typing.get_args(python_type)
        if data is None and _NONE_TYPE in variants:
            return None
        for variant in variants:
            if variant is _NONE_TYPE:
                continue
            try:
                return TypeEngine.from_json(data, variant)
            except (TypeTransformerFailedError, UnsupportedTypeError):
                continue
        raise TypeTransformerFailedError(f"{data!r} fits none of {type_name(python_type)}")

    def text_help(self, python_type: Any) -> str | None:
        return text_help_of(typing.get_args(python_type))

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        if literal_type.union_type is not None:
            guessed = [TypeEngine.guess_python_type(variant) for variant in literal_type.union_type.variants]
            if guessed:
                return functools.reduce(operator.or_, guessed)
        return super().guess_python_type(literal_type)


def transformers() -> list[TypeTransformer[Any]]:
    """The transformers of this module, in the order the plugin contributes them."""
    return [UnionTransformer()]
