"""The renderers of decks on their own: what they escape, and what they do without their optional libraries."""

from __future__ import annotations

import sys

import pytest
from taskloom.deck import MarkdownRenderer, SourceCodeRenderer

from taskloom_report.renderers import PythonDependencyRenderer, short_repr


def test_markdown_is_rendered_with_raw_html_shown_as_text():
    page = MarkdownRenderer().to_html("# Title\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert page.startswith("<h1>Title</h1>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<table>" in page and "<td>1</td>" in page


def test_markdown_links_to_scripts_are_not_made():
    page = MarkdownRenderer().to_html("[a](javascript:alert(1)) [b](https://example.org/x)")
    assert 'href="javascript' not in page and '<a href="https://example.org/x">b</a>' in page


def test_source_code_is_highlighted_with_inline_styles_when_pygments_is_installed():
    pytest.importorskip("pygments")
    page = SourceCodeRenderer().to_html("def f(x):\n    return '<b>'\n")
    assert "<style" not in page and 'style="' in page and "&lt;b&gt;" in page


def test_source_code_without_pygments_is_shown_plain_and_escaped(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)  # import pygments now raises ImportError
    assert SourceCodeRenderer().to_html("x = '<script>'\n") == (
        '<pre class="source">x = &#x27;&lt;script&gt;&#x27;\n</pre>'
    )


def test_a_long_repr_is_cut_and_a_failing_repr_is_still_shown():
    assert short_repr("<" * 10, limit=4) == '<pre class="value">&#x27;&lt;&lt;&lt;… (8 more characters)</pre>'

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("<no>")

    assert "Broken whose repr raised RuntimeError: &lt;no&gt;" in short_repr(Broken())


def test_dependencies_are_read_from_the_installed_metadata():
    page = PythonDependencyRenderer().to_html()
    assert "<td>taskloom-report</td>" in page and "taskloom-kernel==" in page
