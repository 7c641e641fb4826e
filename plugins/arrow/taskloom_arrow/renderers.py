"""Tables in decks: renderers of pandas and pyarrow tables (flytekit's names), and the one a task's
input and output decks use for a table value (the hook ``taskloom_deck_renderer``).

Cell values and column names are escaped: a cell holding ``<script>`` shows as text.
"""

from __future__ import annotations

import html
from typing import Any

from taskloom_arrow.structured import StructuredDataset

DEFAULT_MAX_ROWS = 10
DEFAULT_MAX_COLS = 100


class TopFrameRenderer:
    """The first rows and columns of a pandas DataFrame as an HTML table (flytekit's
    ``flytekit.deck.TopFrameRenderer``): ``Annotated[pd.DataFrame, TopFrameRenderer(10)]``."""

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, max_cols: int = DEFAULT_MAX_COLS) -> None:
        self._max_rows = max_rows
        self._max_cols = max_cols

    def to_html(self, df: Any) -> str:
        """The table of ``df`` (pandas escapes cells and names)."""
        return str(df.to_html(max_rows=self._max_rows, max_cols=self._max_cols, escape=True))


class TableRenderer:
    """A whole pandas DataFrame as a styled HTML table, without its index (flytekit-deck-standard's
    ``TableRenderer``); ``header_labels`` renames the columns when there is one per column."""

    def to_html(self, df: Any, header_labels: list[str] | None = None, table_width: int | None = None) -> str:
        """The table of ``df``."""
        if header_labels is not None and len(header_labels) == len(df.columns):
            df = df.copy()
            df.columns = header_labels
        width = f"width: {int(table_width)}px;" if table_width is not None else ""
        style = (
            f"<style>.table-class {{ border-collapse: collapse; font-family: sans-serif; {width} }}"
            ".table-class th, .table-class td { border: 1px solid #ccc; padding: 6px; }"
            ".table-class tr:nth-child(even) { background-color: #f2f2f2; }</style>"
        )
        return style + str(df.to_html(classes="table-class", index=False, escape=True))


class ArrowRenderer:
    """The first rows of a pyarrow Table as an HTML table, read without pandas (flytekit shows the
    table's ``to_string()``, unescaped)."""

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self._max_rows = max_rows

    def to_html(self, df: Any) -> str:
        """The table of ``df``, with its shape below it."""
        head = df.slice(0, self._max_rows).to_pylist()
        names = list(df.column_names)
        header = "".join(f"<th>{html.escape(str(name))}</th>" for name in names)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(row.get(name)))}</td>" for name in names) + "</tr>" for row in head
        )
        return (
            f'<table class="dataframe"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'
            f"<p>{df.num_rows} rows, {df.num_columns} columns</p>"
        )


class StructuredDatasetRenderer:
    """A StructuredDataset: its table in memory through the renderer of that table's class, else its
    URI and format (flytekit shows the declared columns; the table is not read from storage for a deck)."""

    def to_html(self, value: StructuredDataset) -> str:
        """The HTML of ``value``."""
        table = value.dataframe
        if table is not None:
            renderer = renderer_for(table)
            if renderer is not None:
                return str(renderer.to_html(table))
        where = html.escape(str(value.uri or "no URI"))
        file_format = html.escape(str(value.file_format or "unknown format"))
        return f"<p>a table in storage: <code>{where}</code> ({file_format})</p>"


def renderer_for(value: Any) -> Any:
    """The renderer of a table value (pandas DataFrame, pyarrow Table, StructuredDataset), or None."""
    if isinstance(value, StructuredDataset):
        return StructuredDatasetRenderer()
    module = type(value).__module__
    if module.startswith("pandas") and type(value).__name__ == "DataFrame":
        return TopFrameRenderer()
    if module.startswith("pyarrow") and type(value).__name__ == "Table":
        return ArrowRenderer()
    return None
