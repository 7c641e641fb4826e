"""Values that contain themselves or are nested deeper than Python recurses: a user error naming the
entity and the variable, with the RecursionError as its cause, wherever values are checked or converted.

The first tests hold the type engine's boundary to it with a toy transformer that recurses naively, as
a third-party one may; the last ones run tasks and a workflow with the standard plugins installed in
the environment (taskloom-types converts, taskloom-local runs the workflow).
"""

from __future__ import annotations

import sys
from typing import Optional

import pytest

from taskloom.core.type_engine import TypeEngine, TypeTransformer
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.models.literals import Literal, LiteralCollection, LiteralMap, Primitive, Scalar
from taskloom.models.types import LiteralType, SimpleType
from tests.kernel.test_type_engine import Toys, int_transformer

#: Deeper than the interpreter can recurse, whatever the stack already holds.
TOO_DEEP = 3 * sys.getrecursionlimit()


class Link:
    """One link of a chain: a value and the next link (or None)."""

    def __init__(self, value: int, next: Optional[Link] = None) -> None:
        self.value = value
        self.next = next

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and (self.value, self.next) == (other.value, other.next)


class LinkTransformer(TypeTransformer[Link]):
    """Converts a chain link by link through the engine, and tests it recursively: no guard of its own."""

    def __init__(self) -> None:
        super().__init__("link", Link)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRUCT)

    def checker(self, t):
        def test(value):
            return isinstance(value, Link) and type(value.value) is int and (value.next is None or test(value.next))

        return test

    def to_literal(self, ctx, python_val, python_type, expected):
        self.assert_type(Link, python_val)
        head = TypeEngine.to_literal(ctx, python_val.value, int)
        rest = () if python_val.next is None else (TypeEngine.to_literal(ctx, python_val.next, Link),)
        return Literal(collection=LiteralCollection(literals=(head, *rest)))

    def to_python_value(self, ctx, lv, expected_python_type):
        head, *rest = lv.collection.literals
        following = TypeEngine.to_python_value(ctx, rest[0], Link) if rest else None
        return Link(TypeEngine.to_python_value(ctx, head, int), following)


@pytest.fixture
def links(bare_plugins):
    bare_plugins.register(Toys(int_transformer(), LinkTransformer()), name="links")
    return bare_plugins


def chain(length: int) -> Link:
    link = Link(0)
    for value in range(1, length):
        link = Link(value, link)
    return link


def loop() -> Link:
    first = Link(1)
    first.next = Link(2, first)
    return first


def integer(value: int) -> Literal:
    return Literal(scalar=Scalar(primitive=Primitive(integer=value)))


def causes(error: BaseException) -> list[type]:
    found = [type(error)]
    while error.__cause__ is not None:
        error = error.__cause__
        found.append(type(error))
    return found


def test_to_literal_of_a_value_that_contains_itself_says_where(links):
    expected = r"^expected Link, got Link <.*>: it contains itself at \.next\.next$"
    with pytest.raises(TypeTransformerFailedError, match=expected) as raised:
        TypeEngine.to_literal(None, loop(), Link)
    assert causes(raised.value)[-1] is RecursionError


def test_to_literal_of_a_value_nested_too_deeply_says_so(links):
    expected = rf"nested too deeply to convert \({TOO_DEEP:,} levels\)$"
    with pytest.raises(TypeTransformerFailedError, match=expected) as raised:
        TypeEngine.to_literal(None, chain(TOO_DEEP), Link)
    assert causes(raised.value)[-1] is RecursionError


def test_to_python_value_of_a_literal_nested_too_deeply_says_so(links):
    literal = Literal(collection=LiteralCollection(literals=(integer(0),)))
    for value in range(TOO_DEEP):
        literal = Literal(collection=LiteralCollection(literals=(integer(value), literal)))
    with pytest.raises(TypeTransformerFailedError, match=r"^output 'o0' expects Link: .*nested too deeply") as raised:
        TypeEngine.literal_map_to_kwargs(None, _literal_map(o0=literal), {"o0": Link}, direction="output")
    assert causes(raised.value)[-1] is RecursionError


def test_checks_and_literal_maps_name_the_entity_and_the_variable(links):
    cyclic = r"^task 'clean': input 'head' expects Link, got Link <.*>: it contains itself at \.next\.next$"
    with pytest.raises(TypeTransformerFailedError, match=cyclic):
        TypeEngine.check_values({"head": loop()}, {"head": Link}, entity="task 'clean'")
    deep = r"^workflow 'wf': output 'o0' expects Link, got .*nested too deeply"
    with pytest.raises(TypeTransformerFailedError, match=deep):
        TypeEngine.dict_to_literal_map(
            None, {"o0": chain(TOO_DEEP)}, {"o0": Link}, entity="workflow 'wf'", direction="output"
        )


def test_a_chain_within_reach_still_converts_and_checks(links):
    value = chain(300)
    TypeEngine.check_values({"head": value}, {"head": Link}, entity="task 'clean'")
    assert TypeEngine.to_python_value(None, TypeEngine.to_literal(None, value, Link), Link) == value


def test_a_task_called_directly_names_itself_and_the_input_or_output(links):
    from taskloom import task

    @task
    def keep(head: Link) -> Link:
        return head

    @task
    def make(n: int) -> Link:
        return loop()

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*keep': input 'head' expects Link, .*too deeply"):
        keep(head=chain(TOO_DEEP))
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*make': output 'o0' expects Link, .*contains itself"):
        make(n=1)


def _literal_map(**literals):
    return LiteralMap(literals=literals)
