"""taskloom-arrow: tables between tasks, on pyarrow.

``StructuredDataset`` (flytekit's API: ``dataframe=``, ``uri=``, ``file_format=``, ``.open(T).all()``,
``.iter()``) and tables annotated directly (``pyarrow.Table``, ``pandas.DataFrame``,
``polars.DataFrame``, each when its library is installed), written as Parquet (the default) or CSV.
Users reach the names through ``taskloom`` (``from taskloom import StructuredDataset``) or flytekit's
path, ``taskloom.types.structured``; the kernel finds the plugin through the ``taskloom.plugins``
entry point (``taskloom_arrow.hooks``). In-process, a table is handed from task to task as the same
object; it is written only at a process, storage or network boundary (docs/architecture.md, "Tables").

Names resolve on first use, so that loading the plugin's hooks imports no pyarrow.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["FlyteSchema", "StructuredDataset", "StructuredDatasetTransformerEngine", "content_hash"]

_WHERE = {
    "StructuredDataset": "taskloom_arrow.structured",
    "StructuredDatasetTransformerEngine": "taskloom_arrow.structured",
    "FlyteSchema": "taskloom_arrow.schema",
    "content_hash": "taskloom_arrow.tables",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'taskloom_arrow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
