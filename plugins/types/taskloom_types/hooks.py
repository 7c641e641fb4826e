"""The hook implementations of taskloom-types (the entry point ``types = "taskloom_types.hooks"``).

Importing this module is cheap: the transformer modules are imported when the type engine first
asks for transformers, and cattrs and msgpack only when a value is first converted by them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

if TYPE_CHECKING:
    from taskloom.extend import TypeTransformer


@hookimpl
def taskloom_type_transformers() -> list[TypeTransformer[Any]]:
    """The standard transformers; within this list, earlier entries win a tie."""
    from taskloom_types import collections, enums, failures, files, pickled, primitives, structured, unions

    return [
        *primitives.transformers(),
        *collections.transformers(),
        *unions.transformers(),
        *enums.transformers(),
        *structured.transformers(),
        *files.transformers(),
        *failures.transformers(),
        *pickled.transformers(),
    ]
