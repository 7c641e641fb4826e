"""Decks across plugins (issue 27, point 1): tables in input and output decks rendered by taskloom-arrow through the
hook ``taskloom_deck_renderer`` (pandas, pyarrow, StructuredDataset), and a flytekit program using decks ported by
rewriting its imports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
import pytest

from plugins.flyte.tests.test_entrypoint import inputs_file, run_container
from taskloom import StructuredDataset, task, workflow
from taskloom.deck import DeckField, TopFrameRenderer
from tests.integration.subprocesses import serialized_templates

CELL = "<script>alert('cell')</script>"
ESCAPED = "&lt;script&gt;alert("  # pandas leaves quotes as they are, which is safe in text


@task(enable_deck=True, deck_fields=(DeckField.INPUT, DeckField.OUTPUT))
def tables(
    frame: pd.DataFrame, arrow: pa.Table, top: Annotated[pd.DataFrame, TopFrameRenderer(2)]
) -> StructuredDataset:
    return StructuredDataset(dataframe=frame)


@workflow
def with_tables(frame: pd.DataFrame, arrow: pa.Table, top: pd.DataFrame) -> StructuredDataset:
    return tables(frame=frame, arrow=arrow, top=top)


def _deck(page: str, name: str) -> str:
    start = page.index(f'data-deck="{name}">')
    return page[start : page.index("</section>", start)]


@pytest.fixture(scope="module")
def table_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = tmp_path_factory.mktemp("tables")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TASKLOOM_DATA_DIR", str(data))
        frame = pd.DataFrame({"name": ["ana", CELL], "<b>age</b>": [31, 42]})
        with_tables(
            frame=frame,
            arrow=pa.table({"city": ["Lyon", CELL], "n": [1, 2]}),
            top=pd.DataFrame({"i": list(range(10))}),
        )
    (page,) = data.glob("executions/*/decks/n0.html")
    return page.read_text()


def test_pandas_and_pyarrow_inputs_show_as_tables_with_their_cells_escaped(table_page):
    inputs = _deck(table_page, "Input")
    frame = inputs[inputs.index(">frame<") : inputs.index(">arrow<")]
    assert '<table border="1" class="dataframe">' in frame and "<td>ana</td>" in frame
    assert "&lt;b&gt;age&lt;/b&gt;" in frame
    arrow = inputs[inputs.index(">arrow<") : inputs.index(">top<")]
    assert "<th>city</th>" in arrow and "<td>Lyon</td>" in arrow and "2 rows, 2 columns" in arrow
    assert table_page.count("<script>") == 1 and ESCAPED in frame and ESCAPED in arrow


def test_a_renderer_in_the_annotation_is_used_for_that_input(table_page):
    top = _deck(table_page, "Input").split(">top<", 1)[1]
    assert re.findall(r"<td>(\d)</td>", top) == ["0", "9"] and "..." in top  # max_rows=2: first and last row


def test_a_structured_dataset_output_shows_its_table(table_page):
    output = _deck(table_page, "Output")
    assert "<td>ana</td>" in output and ESCAPED in output


FLYTEKIT_PROGRAM = """
    import flytekit
    import pandas as pd
    from flytekit import task, workflow
    from flytekit.deck import DeckField
    from flytekit.deck.renderer import MarkdownRenderer, TopFrameRenderer
    from typing_extensions import Annotated


    @task(enable_deck=True)
    def iris_summary(rows: int) -> Annotated[pd.DataFrame, TopFrameRenderer(3)]:
        frame = pd.DataFrame({"sepal_length": [5.1, 4.9, 4.7, 4.6][:rows], "species": ["setosa"] * rows})
        flytekit.Deck("summary", MarkdownRenderer().to_html(f"## {rows} flowers"))
        flytekit.current_context().default_deck.append(TopFrameRenderer(2).to_html(frame))
        return frame


    @task(enable_deck=True, deck_fields=(DeckField.OUTPUT.value,))
    def count(frame: pd.DataFrame) -> int:
        return len(frame)


    @workflow
    def wf(rows: int = 4) -> int:
        return count(frame=iris_summary(rows=rows))


    if __name__ == "__main__":
        print(wf())
"""


def test_a_flytekit_program_with_decks_runs_once_its_imports_are_rewritten(tmp_path: Path):
    program = tmp_path / "decks_example.py"
    program.write_text(textwrap.dedent(FLYTEKIT_PROGRAM).replace("flytekit", "taskloom"))
    done = subprocess.run(
        [sys.executable, str(program)],
        capture_output=True,
        text=True,
        env={**os.environ, "TASKLOOM_DATA_DIR": str(tmp_path / "data")},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"
    first, second = (next((tmp_path / "data").glob(f"executions/*/decks/{node}.html")) for node in ("n0", "n1"))
    tabs = re.findall(r'role="tab"[^>]*>(.*?)</button>', first.read_text())
    assert tabs == ["Timeline", "summary", "default", "Source Code", "Dependencies", "Input", "Output"]
    assert "<h2>4 flowers</h2>" in first.read_text()
    assert re.findall(r'role="tab"[^>]*>(.*?)</button>', second.read_text()) == ["Output"]


def test_deck_renderers_answer_only_for_tables() -> None:
    from taskloom.extend import deck_renderer

    renderers: dict[str, Any] = {
        "frame": deck_renderer(pd.DataFrame, pd.DataFrame({"a": [1]})),
        "arrow": deck_renderer(pa.Table, pa.table({"a": [1]})),
        "text": deck_renderer(str, "<p>"),
        "list": deck_renderer(list[int], [1]),
    }
    assert [type(renderer).__name__ for renderer in renderers.values()] == [
        "TopFrameRenderer",
        "ArrowRenderer",
        "NoneType",
        "NoneType",
    ]


CONTAINER_JOBS = """
from taskloom import Deck, DeckField, task


@task(enable_deck=True, deck_fields=(DeckField.INPUT,))
def shown(n: int) -> int:
    Deck("work", "<p>done in a container</p>")
    return n * 2
"""


def test_under_loom_execute_a_task_writes_deck_html_beside_its_outputs(tmp_path: Path):
    root, templates = serialized_templates(tmp_path / "image", CONTAINER_JOBS)
    inputs_file(tmp_path, {"n": 21}, {"n": int})
    done, prefix = run_container(
        templates["flows.jobs.shown"],
        root,
        tmp_path,
        str(tmp_path / "inputs.pb"),
        env={"TASKLOOM_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 0, done.stderr
    page = (Path(prefix) / "deck.html").read_text()
    assert re.findall(r'role="tab"[^>]*>(.*?)</button>', page) == ["work", "Input"]
    assert "<p>done in a container</p>" in page and (Path(prefix) / "outputs.pb").is_file()
    assert not (tmp_path / "data").exists()  # nothing of it in an execution store
