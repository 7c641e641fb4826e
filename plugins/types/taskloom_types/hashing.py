"""Cache hashes of containers holding values hashed in memory (tables in a list, a dict, an optional).

A cache key hashes each input's literal, except a value whose transformer hashes it in memory
(``TypeTransformer.hash_of``: a table, whose literal means writing it to storage under a fresh URI).
Nested in a container, such a value would be made a literal with the container's: a file written, and
a URI new on every run, so the key never matched again. The container hashes its items instead,
each by its own in-memory hash or, when it has none, by its literal (cheap for ordinary values).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from taskloom.extend import TypeEngine


def items_hash(kind: str, items: list[tuple[str, Any, Any]], *, probe: bool) -> str | None:
    """The hash of the ``items`` (``(key, value, declared type)``) of a ``kind`` of container, or None when
    none of them is hashed in memory (the container's literal is hashed then, as for any value).

    ``probe``: the items are of one type (a list's, a dict's values): when the first has no in-memory
    hash, none has, and the rest are not looked at (a list of a million numbers costs one look).
    """
    found: list[str | None] = []
    for _, value, python_type in items:
        found.append(TypeEngine.hash_of(value, python_type))
        if probe and found[0] is None:
            return None
    if all(each is None for each in found):
        return None
    # The contracts (attrs, ~30 ms) only here, where an item needs its literal: never to declare or run.
    from taskloom.extend import to_json

    digest = hashlib.sha256(kind.encode())
    for (key, value, python_type), each in zip(items, found, strict=True):
        text = each if each is not None else "literal:" + to_json(TypeEngine.to_literal(None, value, python_type))
        digest.update(json.dumps([key, text]).encode())
    return f"{kind}-sha256:{digest.hexdigest()}"
