"""Cache hashes of containers whose items are hashed in memory (taskloom_types.hashing).

Tables are the values hashed in memory in practice (taskloom-arrow, whose integration tests hash tables in
lists, dicts and optionals); here a ``HashMethod`` stands in for one, which ``TypeEngine.hash_of`` honours
the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Optional

from taskloom import HashMethod
from taskloom.core.type_engine import TypeEngine

Hashed = Annotated[str, HashMethod(lambda text: f"h({text.lower()})")]


@dataclasses.dataclass
class Plain:
    count: int


def test_a_list_hashes_as_its_items_in_memory_hashes_in_order():
    one = TypeEngine.hash_of(["A", "b"], list[Hashed])
    assert one is not None and one.startswith("list-sha256:")
    assert TypeEngine.hash_of(["a", "B"], list[Hashed]) == one  # the items' hashes are the same
    assert TypeEngine.hash_of(["b", "a"], list[Hashed]) != one
    assert TypeEngine.hash_of(["a"], list[Hashed]) != one


def test_a_dict_hashes_as_its_values_hashes_by_key_whatever_their_order():
    one = TypeEngine.hash_of({"x": "A", "y": "b"}, dict[str, Hashed])
    assert one is not None and one.startswith("dict-sha256:")
    assert TypeEngine.hash_of({"y": "B", "x": "a"}, dict[str, Hashed]) == one
    assert TypeEngine.hash_of({"x": "b", "y": "a"}, dict[str, Hashed]) != one


def test_an_optional_hashes_its_value_in_memory_and_none_by_its_literal():
    assert TypeEngine.hash_of("A", Optional[Hashed]) == TypeEngine.hash_of("a", Optional[Hashed]) is not None
    assert TypeEngine.hash_of(None, Optional[Hashed]) is None
    assert TypeEngine.hash_of([None, "a"], list[Optional[Hashed]]) is None  # the first item decides


def test_containers_of_values_without_an_in_memory_hash_are_hashed_by_their_literal(monkeypatch):
    assert TypeEngine.hash_of([1, 2], list[int]) is None
    assert TypeEngine.hash_of({"a": 1}, dict[str, int]) is None
    assert TypeEngine.hash_of({"a": 1}, dict) is None
    assert TypeEngine.hash_of(Plain(count=1), Plain) is None
    assert TypeEngine.hash_of([], list[Hashed]) is None
    # Items of one type: the first one answers for all (a million numbers cost one look).
    looked = []
    original = TypeEngine.hash_of.__func__

    def counting(cls, value, python_type):
        looked.append(python_type)
        return original(cls, value, python_type)

    monkeypatch.setattr(TypeEngine, "hash_of", classmethod(counting))
    assert TypeEngine.hash_of(list(range(100_000)), list[int]) is None
    assert looked == [list[int], int]
