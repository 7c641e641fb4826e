"""Interfaces extracted from function signatures, checked against the type engine."""

from __future__ import annotations

import typing

import pytest

from taskloom.core.interface import NO_DEFAULT, Interface, transform_function_to_interface
from taskloom.exceptions.user import UnsupportedTypeError, ValidationError
from taskloom.models.interface import TypedInterface
from tests.kernel.test_type_engine import INTEGER, ListTransformer, Toys, int_transformer


@pytest.fixture(autouse=True)
def toys(bare_plugins):
    bare_plugins.register(Toys(int_transformer(), ListTransformer()), name="toys")


def test_inputs_keep_their_types_and_defaults():
    def f(a: int, b: list[int], c: int = 3) -> int: ...

    interface = transform_function_to_interface(f)
    assert interface.inputs == {"a": int, "b": list[int], "c": int}
    assert interface.inputs_with_defaults["a"] == (int, NO_DEFAULT)
    assert interface.default_inputs_as_kwargs == {"c": 3}
    assert interface.required_inputs == ["a", "b"]


def test_a_single_output_is_named_o0():
    def f(a: int) -> list[int]: ...

    assert transform_function_to_interface(f).outputs == {"o0": list[int]}


def test_a_tuple_return_gives_one_output_per_element():
    def f() -> tuple[int, list[int]]: ...

    assert transform_function_to_interface(f).outputs == {"o0": int, "o1": list[int]}


class Stats(typing.NamedTuple):
    total: int
    values: list[int]


def test_a_named_tuple_return_gives_named_outputs():
    def f() -> Stats: ...

    interface = transform_function_to_interface(f)
    assert interface.outputs == {"total": int, "values": list[int]}
    assert interface.output_tuple_name == "Stats"


@pytest.mark.parametrize("annotation", ["none", "absent"])
def test_no_return_annotation_or_none_means_no_outputs(annotation):
    if annotation == "none":

        def f(a: int) -> None: ...
    else:

        def f(a: int): ...

    assert transform_function_to_interface(f).outputs == {}


def test_the_typed_interface_holds_literal_types():
    def f(a: int, b: list[int] = [1]) -> int: ...  # noqa: B006

    typed = transform_function_to_interface(f).to_typed_interface()
    assert isinstance(typed, TypedInterface)
    assert typed.inputs.variables["a"].type == INTEGER
    assert typed.inputs.variables["b"].type.collection_type == INTEGER
    assert typed.outputs.variables["o0"].type == INTEGER


class Opaque:
    pass


def test_an_unsupported_input_fails_at_declaration_naming_function_parameter_and_type():
    def clean(rows: list[Opaque]) -> int: ...

    with pytest.raises(UnsupportedTypeError) as caught:
        transform_function_to_interface(clean)
    message = str(caught.value)
    assert "clean" in message and "input 'rows'" in message and "list[Opaque]" in message


def test_an_unsupported_output_names_the_output():
    def make() -> Opaque: ...

    with pytest.raises(UnsupportedTypeError, match=r"function '.*make': output 'o0' has type Opaque"):
        transform_function_to_interface(make)


def test_a_missing_annotation_is_a_validation_error():
    def f(a, b: int) -> int: ...

    with pytest.raises(ValidationError, match=r"function '.*f': input 'a' has no type annotation"):
        transform_function_to_interface(f)


def test_variadic_parameters_are_rejected():
    def f(*rows: int) -> int: ...

    with pytest.raises(ValidationError, match="parameter 'rows' is variadic"):
        transform_function_to_interface(f)


def test_unresolvable_string_annotations_are_a_validation_error():
    def f(a: NoSuchType) -> int: ...  # noqa: F821

    with pytest.raises(ValidationError, match="annotations cannot be resolved: NameError"):
        transform_function_to_interface(f)


def test_interface_accepts_plain_types_and_pairs():
    interface = Interface(inputs={"a": int, "b": (int, 5)}, outputs={"o0": int})
    assert interface.inputs == {"a": int, "b": int}
    assert interface.default_inputs_as_kwargs == {"b": 5}
    assert interface.output_names == ["o0"]
