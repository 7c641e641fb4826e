"""Pickling: only for types the user opted in, never as a silent fallback."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.types.tests.roundtrip import properties, round_trip
from taskloom.core.type_engine import TypeEngine
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom.models.literals import Binary, Literal, Scalar
from taskloom.models.types import LiteralType, SimpleType
from taskloom.types.pickle import allow_pickle


class Model:
    """Opted in to pickling at import of this module."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and other.weights == self.weights


class FineTuned(Model):
    """A subclass: opted in through its base."""


class NeverPickled:
    """Never opted in."""


class OptedInLater:
    """Opted in halfway through one test."""


allow_pickle(Model)


@properties
@given(st.lists(st.floats(allow_nan=False), max_size=4))
def test_opted_in_type_round_trips_pickled(weights):
    back = round_trip(Model(weights), Model)
    assert back == Model(weights) and type(back) is Model


def test_subclass_of_an_opted_in_type_is_pickled_too():
    assert round_trip(FineTuned([1.0]), FineTuned) == FineTuned([1.0])


def test_pickled_literal_is_a_binary_tagged_pickle_naming_the_class():
    literal = TypeEngine.to_literal(None, Model([2.0]), Model)
    assert literal.scalar.binary.tag == "pickle"
    assert pickle.loads(literal.scalar.binary.value) == Model([2.0])
    assert TypeEngine.to_literal_type(Model) == LiteralType(
        simple=SimpleType.BINARY, metadata={"python_class": f"{__name__}.Model"}
    )


def test_type_not_opted_in_is_unsupported_naming_it_and_allow_pickle():
    with pytest.raises(UnsupportedTypeError, match=r"NeverPickled.*allow_pickle\(NeverPickled\)"):
        TypeEngine.to_literal_type(NeverPickled)


def test_pickling_works_only_after_opting_in():
    with pytest.raises(UnsupportedTypeError, match="allow_pickle"):
        TypeEngine.to_literal(None, OptedInLater(), OptedInLater)
    allow_pickle(OptedInLater)
    assert isinstance(round_trip(OptedInLater(), OptedInLater), OptedInLater)


def test_value_of_another_type_is_refused_before_pickling():
    with pytest.raises(TypeTransformerFailedError, match=r"^expected Model, got str 'x'$"):
        TypeEngine.to_literal(None, "x", Model)


def test_unpickled_value_of_another_type_is_an_error():
    literal = Literal(scalar=Scalar(binary=Binary(pickle.dumps(3), "pickle")))
    with pytest.raises(TypeTransformerFailedError, match=r"^expected Model, got int 3 \(unpickled\)$"):
        TypeEngine.to_python_value(None, literal, Model)


def test_bytes_are_not_read_as_a_pickle():
    literal = TypeEngine.to_literal(None, pickle.dumps(Model([])), bytes)
    with pytest.raises(TypeTransformerFailedError, match="expected a pickled literal of Model"):
        TypeEngine.to_python_value(None, literal, Model)


def test_a_pickled_literal_type_is_not_guessed_as_bytes():
    with pytest.raises(ValueError):
        TypeEngine.guess_python_type(TypeEngine.to_literal_type(Model))
