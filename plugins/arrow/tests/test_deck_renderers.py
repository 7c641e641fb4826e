"""Tables in decks on their own: what the renderers show and escape (taskloom-report shows them in a page)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from taskloom_arrow.renderers import ArrowRenderer, TableRenderer, TopFrameRenderer, renderer_for
from taskloom_arrow.structured import StructuredDataset

HOSTILE = "<img src=x onerror=alert(1)>"


def test_top_frame_renderer_shows_the_first_rows_with_cells_and_names_escaped():
    frame = pd.DataFrame({HOSTILE: [HOSTILE, "b", "c", "d"]})
    page = TopFrameRenderer(max_rows=2).to_html(frame)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page and "..." in page


def test_table_renderer_relabels_its_columns_and_sets_its_width():
    page = TableRenderer().to_html(
        pd.DataFrame({"a": [1], "b": [HOSTILE]}), header_labels=["A", "<B>"], table_width=640
    )
    assert "width: 640px;" in page and "<th>A</th>" in page and "<th>&lt;B&gt;</th>" in page and "<img" not in page
    assert TableRenderer().to_html(pd.DataFrame({"a": [1]}), header_labels=["x", "y"]).count("<th>a</th>") == 1


def test_arrow_renderer_shows_the_first_rows_and_the_shape():
    page = ArrowRenderer(max_rows=1).to_html(pa.table({"name": [HOSTILE, "b"], "n": [1, 2]}))
    assert page.count("<tr>") == 2 and "<img" not in page and "2 rows, 2 columns" in page


def test_a_structured_dataset_in_storage_shows_where_it_is_without_reading_it(tmp_path):
    value = StructuredDataset(uri=str(tmp_path / "missing<table>"), file_format="parquet")
    page = renderer_for(value).to_html(value)
    assert "a table in storage" in page and "missing&lt;table&gt;" in page and "(parquet)" in page


def test_values_that_are_not_tables_have_no_renderer():
    assert renderer_for([1, 2]) is None and renderer_for("<p>") is None
