"""Renderers of decks (flytekit's names): objects whose ``to_html(value)`` gives safe HTML showing a value.

What they show that comes from data (text, source code, package names, values) is escaped, so a value
holding ``<script>`` shows as text. Markdown is rendered by markdown-it-py without raw HTML: an HTML
tag written in the markdown shows as text (flytekit's ``MarkdownRenderer`` passes it through). Tables
(pandas, pyarrow, ``StructuredDataset``) are rendered by taskloom-arrow, which answers the hook
:func:`~taskloom.hookspecs.taskloom_deck_renderer`: this plugin imports no dataframe library.
"""

from __future__ import annotations

import functools
import html
import typing
from typing import Any

from markdown_it import MarkdownIt
from taskloom.extend import deck_renderer

#: How much of a value's repr an input or output deck shows.
REPR_LIMIT = 2000


class MarkdownRenderer:
    """Markdown text as HTML (CommonMark with tables); raw HTML in the text is shown escaped, not run."""

    def to_html(self, text: str) -> str:
        """The HTML of ``text``."""
        return _markdown().render(text)


@functools.cache
def _markdown() -> MarkdownIt:
    # "html": False makes markdown-it escape raw HTML blocks and inline tags; its link check already
    # refuses javascript:, vbscript: and data: URLs (but images' data:image/...).
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


class SourceCodeRenderer:
    """Python source code as HTML: highlighted with inline styles when Pygments is installed (no
    stylesheet to fetch, none leaking into the page), else an escaped ``<pre>``.
    """

    def __init__(self, title: str = "Source Code") -> None:
        self._title = title

    def to_html(self, source_code: str) -> str:
        """The HTML of ``source_code``."""
        try:
            # Optional (taskloom-report[highlight]), ~15 ms to import: only when source code is shown.
            from pygments import highlight  # type: ignore[import-untyped,unused-ignore]
            from pygments.formatters.html import HtmlFormatter  # type: ignore[import-untyped,unused-ignore]
            from pygments.lexers.python import PythonLexer  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            return f'<pre class="source">{html.escape(source_code)}</pre>'
        return highlight(source_code, PythonLexer(), HtmlFormatter(style="colorful", noclasses=True))


class PythonDependencyRenderer:
    """The Python distributions installed where the task ran, as a table (flytekit's name).

    Read from this interpreter's metadata, once per process: flytekit runs ``pip list`` and ``pip
    freeze`` in subprocesses at every task execution, which takes seconds.
    """

    def __init__(self, title: str = "Dependencies") -> None:
        self._title = title

    def to_html(self) -> str:
        """The table, with a ``requirements.txt`` of the same distributions below it."""
        return _dependencies_html()


@functools.cache
def _dependencies_html() -> str:
    from importlib import metadata  # ~37 ms: once per process, only for tasks that show their dependencies

    found: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name and name not in found:
            found[name] = distribution.version
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(version)}</td></tr>"
        for name, version in sorted(found.items(), key=lambda item: item[0].lower())
    )
    requirements = "\n".join(f"{name}=={version}" for name, version in sorted(found.items()))
    return (
        f'<table class="deck-table"><thead><tr><th>Name</th><th>Version</th></tr></thead><tbody>{rows}</tbody>'
        f"</table><details><summary>requirements.txt</summary><pre>{html.escape(requirements)}</pre></details>"
    )


def short_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters (the rest counted), escaped, in a ``<pre>``."""
    try:
        text = repr(value)
    except Exception as error:  # a value whose repr fails is still shown
        text = f"<{type(value).__qualname__} whose repr raised {type(error).__name__}: {error}>"
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters)"
    return f'<pre class="value">{html.escape(text)}</pre>'


def value_html(value: Any, python_type: Any) -> str:
    """HTML showing ``value``, declared as ``python_type``, for an input or output deck.

    A renderer in the declared type (``Annotated[pd.DataFrame, TopFrameRenderer(10)]``) comes first,
    as in flytekit; then the renderer a plugin gives (:func:`~taskloom.hookspecs.taskloom_deck_renderer`);
    else the escaped, truncated repr. A renderer that fails shows its error, escaped, in place of the value.
    """
    renderer = None
    if typing.get_origin(python_type) is typing.Annotated:
        for argument in typing.get_args(python_type)[1:]:
            if callable(getattr(argument, "to_html", None)) and not isinstance(argument, type):
                renderer = argument
                break
    if renderer is None:
        renderer = deck_renderer(python_type, value)
    if renderer is None:
        return short_repr(value)
    try:
        return str(renderer.to_html(value))
    except Exception as error:
        message = f"{type(renderer).__name__} could not render this value: {type(error).__name__}: {error}"
        return f'<p class="error">{html.escape(message)}</p>{short_repr(value)}'
