"""taskloom-arrow's hook implementations, and nothing else (the entry point ``arrow = "taskloom_arrow.hooks"``).

The kernel imports this module the first time one of its hooks is called, so it stays cheap: pyarrow,
and pandas or polars when installed, are imported inside the hook that registers their handlers, which
the kernel calls only when a table is first written or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskloom.extend import hookimpl

if TYPE_CHECKING:
    from taskloom.extend import StructuredDatasetDecoder, StructuredDatasetEncoder, TypeTransformer

#: The plugin API this plugin was written for: 1.2 adds the table handlers' hook and names.
TASKLOOM_API = "1.6"  # the deck renderer hook (taskloom_deck_renderer)


@hookimpl
def taskloom_type_transformers() -> list[TypeTransformer[Any]]:
    # The transformer module imports no dataframe library: declaring a task that takes a table needs none.
    from taskloom_arrow.structured import StructuredDatasetTransformerEngine

    return [StructuredDatasetTransformerEngine()]


@hookimpl
def taskloom_structured_dataset_handlers() -> list[StructuredDatasetEncoder[Any] | StructuredDatasetDecoder[Any]]:
    # pyarrow (and pandas, polars when installed) is imported here: a table is about to be written or read.
    from taskloom_arrow.handlers import built_in

    return built_in()


#: Where a value's class must come from for this plugin to render it in a deck: every input and output
#: value of a task with decks is asked about, so others are turned away without importing anything.
_TABLE_MODULES = ("pandas", "pyarrow", "taskloom_arrow")


@hookimpl
def taskloom_deck_renderer(python_type: Any, value: Any) -> Any:
    # Tables in a task's input and output decks, as flytekit's register_renderer gives pd.DataFrame
    # and pa.Table theirs.
    if type(value).__module__.partition(".")[0] not in _TABLE_MODULES:
        return None
    from taskloom_arrow.renderers import renderer_for

    return renderer_for(value)
