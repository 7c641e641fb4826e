"""Opt-in pickling for types no transformer supports.

taskloom never pickles silently: an annotation no transformer supports is an error when the
interface is built. Opting a type in makes its values (and its subclasses') travel as pickled bytes::

    from taskloom.types.pickle import allow_pickle
    allow_pickle(MyModel)

Pickles run code when loaded: opt in only types whose data you trust, and remember that a pickle
written by one version of a class may not load in another.
"""

from __future__ import annotations

from typing import Any


class FlytePickle:
    """Marker type: the transformer registered for it serialises opted-in types by pickling."""


def allow_pickle(*python_types: Any) -> None:
    """Let values of each of ``python_types`` (and subclasses) be passed by pickling."""
    # The type engine imports this module (FlytePickle is its opt-in marker): a call-time import breaks the cycle.
    from taskloom.core.type_engine import TypeEngine

    for python_type in python_types:
        TypeEngine.allow_pickle(python_type)
