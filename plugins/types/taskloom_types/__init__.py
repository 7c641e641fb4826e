"""taskloom-types: the standard type transformers of taskloom.

Installed, it lets tasks take and return ``int``, ``float``, ``str``, ``bool``, ``bytes``,
``datetime``, ``date``, ``timedelta``, ``None``, ``list[T]``, ``dict[str, T]``, JSON ``dict``,
``tuple``\\s, NamedTuples, ``Optional``/``Union``, enums, dataclasses, attrs classes,
``FlyteFile``/``FlyteDirectory``, and types opted in to pickling. The type engine finds the
transformers through the plugin's hook (:mod:`taskloom_types.hooks`); nobody needs to import this
package to use them.

To build on them, import the module of the capability: :mod:`~taskloom_types.primitives`,
:mod:`~taskloom_types.collections`, :mod:`~taskloom_types.unions`, :mod:`~taskloom_types.enums`,
:mod:`~taskloom_types.structured` (dataclasses, attrs classes, msgpack literals),
:mod:`~taskloom_types.converter` (the cattrs converter behind msgpack documents),
:mod:`~taskloom_types.files`, :mod:`~taskloom_types.pickled`; :mod:`~taskloom_types.errors` words
their errors.
"""

__version__ = "0.1.0"
