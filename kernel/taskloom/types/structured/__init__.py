"""Tables passed between tasks (flytekit's ``flytekit.types.structured``).

``StructuredDataset`` and ``StructuredDatasetTransformerEngine`` come from the plugin that provides
them (taskloom-arrow), resolved on first access through the plugin manager exactly as
``taskloom.StructuredDataset`` is: importing this module imports no dataframe library, and without
the plugin those names raise an ImportError naming the distribution to install. The encoder and
decoder base classes, the format constants and the handler registry are the kernel's
(:mod:`taskloom.types.structured.handlers`), so that a plugin can add a dataframe library through
:func:`~taskloom.hookspecs.taskloom_structured_dataset_handlers` without depending on taskloom-arrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskloom.models.types import StructuredDatasetType as StructuredDatasetType
    from taskloom.types.structured.handlers import CSV as CSV
    from taskloom.types.structured.handlers import GENERIC_FORMAT as GENERIC_FORMAT
    from taskloom.types.structured.handlers import PARQUET as PARQUET
    from taskloom.types.structured.handlers import DataFrameHandlers as DataFrameHandlers
    from taskloom.types.structured.handlers import DuplicateHandlerError as DuplicateHandlerError
    from taskloom.types.structured.handlers import StructuredDatasetDecoder as StructuredDatasetDecoder
    from taskloom.types.structured.handlers import StructuredDatasetEncoder as StructuredDatasetEncoder
    from taskloom.types.structured.handlers import StructuredDatasetFormat as StructuredDatasetFormat

# The kernel's names here: name -> module.
_KERNEL_NAMES: dict[str, str] = {
    "PARQUET": "taskloom.types.structured.handlers",
    "CSV": "taskloom.types.structured.handlers",
    "GENERIC_FORMAT": "taskloom.types.structured.handlers",
    "StructuredDatasetFormat": "taskloom.types.structured.handlers",
    "StructuredDatasetEncoder": "taskloom.types.structured.handlers",
    "StructuredDatasetDecoder": "taskloom.types.structured.handlers",
    "DuplicateHandlerError": "taskloom.types.structured.handlers",
    "DataFrameHandlers": "taskloom.types.structured.handlers",
    "StructuredDatasetType": "taskloom.models.types",
}
#: Names a plugin provides (``taskloom.names`` entry points), resolved as ``taskloom.NAME`` is.
_PLUGIN_NAMES = frozenset({"StructuredDataset", "StructuredDatasetTransformerEngine"})


def __getattr__(name: str) -> Any:
    module = _KERNEL_NAMES.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    if name in _PLUGIN_NAMES:
        from taskloom.plugins import get_plugin_manager  # the plugin machinery, only when a plugin name is asked for

        return get_plugin_manager().resolve_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(_KERNEL_NAMES) | _PLUGIN_NAMES)
