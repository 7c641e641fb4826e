"""Docstrings read as flytekit reads them: a short and a long description, and a description per
input and output, from reST (``:param a: ...``), Google (``Args:``) or NumPy (``Parameters`` over a
line of dashes) docstrings.

flytekit parses with the ``docstring_parser`` library, trying each style and keeping the one that
finds the most entries; this module does the same for the three styles flytekit programs use, with
the library's rules for where descriptions start and end, so that the descriptions a Flyte console
shows are the same whichever SDK packaged the program. It is our own small parser rather than the
library as a dependency: the kernel keeps its dependencies few, and only packaging (building typed
interfaces) ever parses a docstring, so declaring and running workflows never pays for it. Epydoc
(``@param``) is not read.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

_PARAM_KEYWORDS = frozenset({"param", "parameter", "arg", "argument", "attribute", "key", "keyword"})
_RETURN_KEYWORDS = frozenset({"return", "returns", "yield", "yields"})
_RAISE_KEYWORDS = frozenset({"raises", "raise", "except", "exception"})


class _ParseError(ValueError):
    """The docstring is not in this style (the style is then not a candidate)."""


class _Parsed:
    """What one style found: descriptions, then ``(name, description)`` of parameters and returns."""

    __slots__ = ("entries", "long", "params", "returns", "short")

    def __init__(self) -> None:
        self.short: str | None = None
        self.long: str | None = None
        self.params: list[tuple[str, str | None]] = []
        self.returns: list[tuple[str | None, str | None]] = []
        self.entries = 0  # every entry found, parameters and returns included: how styles are ranked


class Docstring:
    """A parsed docstring (flytekit's ``flytekit.core.docstring.Docstring``).

    Give the text, or a callable whose ``__doc__`` is read. The style (reST, Google or NumPy) is the
    one under which the most entries are found; the first of them, in that order, on a tie.
    """

    def __init__(self, docstring: str | None = None, callable_: Callable[..., Any] | None = None) -> None:
        text = docstring if docstring is not None else getattr(callable_, "__doc__", None)
        self._parsed = _parse(text)

    @property
    def input_descriptions(self) -> dict[str, str | None]:
        """Each documented parameter's description, by name."""
        return dict(self._parsed.params)

    @property
    def output_descriptions(self) -> dict[str | None, str | None]:
        """Each documented return value's description, by its name (None when unnamed)."""
        return dict(self._parsed.returns)

    @property
    def short_description(self) -> str | None:
        """The first line."""
        return self._parsed.short

    @property
    def long_description(self) -> str | None:
        """What follows the first line, up to the first section of entries."""
        return self._parsed.long


def output_descriptions_by_name(docstring: Docstring, output_names: list[str]) -> dict[str, str | None]:
    """The outputs' descriptions by output name: one documented return value describes every output
    (flytekit's rule for a ``Returns:`` that names no output), several are matched by name.
    """
    described = docstring.output_descriptions
    if len(described) == 1:
        (description,) = described.values()
        return dict.fromkeys(output_names, description)
    return {name: description for name, description in described.items() if name is not None}


def _parse(text: str | None) -> _Parsed:
    if not text:
        return _Parsed()
    text = inspect.cleandoc(text)
    found = []
    for style in (_parse_rest, _parse_google, _parse_numpy):
        try:
            found.append(style(text))
        except _ParseError:
            continue
    if not found:
        return _Parsed()
    return max(found, key=lambda parsed: parsed.entries)  # max keeps the first of equals


def _describe(parsed: _Parsed, description: str) -> None:
    # The first line is the short description; the rest, stripped, the long one.
    short, _, rest = description.partition("\n")
    parsed.short = short or None
    parsed.long = rest.strip() or None


def _join_lines(description: str) -> str:
    # A description continued on further lines keeps its first line and dedents the others.
    if "\n" in description:
        first, rest = description.split("\n", 1)
        return first + "\n" + inspect.cleandoc(rest)
    return description


# --- reST ------------------------------------------------------------------------------------

_REST_FIELD = re.compile(r"(^:.*?)(?=^:|\Z)", re.S | re.M)


def _parse_rest(text: str) -> _Parsed:
    parsed = _Parsed()
    start = re.search("^:", text, re.M)
    _describe(parsed, text[: start.start()] if start else text)
    if start is None:
        return parsed
    return_types = []
    for match in _REST_FIELD.finditer(text[start.start() :]):
        field, colon, description = match.group(0).lstrip(":").partition(":")
        if not colon:
            raise _ParseError(match.group(0))
        words = field.split()
        description = _join_lines(description.strip())
        key = words[0] if words else ""
        if key == "type" and len(words) == 2:
            continue
        if key == "rtype" and len(words) in (1, 2):
            return_types.append(None if len(words) == 1 else words[1])
            continue
        parsed.entries += 1
        if key in _PARAM_KEYWORDS:
            if len(words) not in (2, 3):
                raise _ParseError(field)
            parsed.params.append((words[-1], description))
        elif key in _RETURN_KEYWORDS:
            if len(words) not in (1, 2):
                raise _ParseError(field)
            parsed.returns.append((None, description))
        elif key in _RAISE_KEYWORDS and len(words) not in (1, 2):
            raise _ParseError(field)
    if not parsed.returns:
        for name in return_types:  # an :rtype: alone still declares a return value, undescribed
            parsed.returns.append((name, None))
            parsed.entries += 1
    return parsed


# --- Google ----------------------------------------------------------------------------------

_GOOGLE_LISTS = {"Arguments", "Args", "Parameters", "Params", "Raises", "Exceptions", "Except", "Attributes"}
_GOOGLE_SINGLES = {"Example", "Examples", "Returns", "Yields"}
_GOOGLE_TITLE = re.compile(
    "^(" + "|".join(sorted(_GOOGLE_LISTS | _GOOGLE_SINGLES)) + "):[ \t\r\f\v]*$",
    re.M,
)
_GOOGLE_TYPED_NAME = re.compile(r"\s*(.+?)\s*\(\s*(.*[^\s]+)\s*\)")
_GOOGLE_NAMED_ENTRY = re.compile(r"(\s*[^:\s]+:)|([^:]*\]:.*)")


def _parse_google(text: str) -> _Parsed:
    parsed = _Parsed()
    titles = list(_GOOGLE_TITLE.finditer(text))
    _describe(parsed, text[: titles[0].start()] if titles else text)
    sections: dict[str, str] = {}
    for index, heading in enumerate(titles):
        end = titles[index + 1].start() if index + 1 < len(titles) else len(text)
        body = text[heading.end() : end]
        unindented = re.search(r"\n\S", body)  # a line back at the margin ends the section
        sections[heading.group(1)] = (body[: unindented.start()] if unindented else body).strip("\n")
    for title, body in sections.items():
        if title in _GOOGLE_SINGLES:
            parsed.entries += 1
            if title in ("Returns", "Yields"):
                entry = inspect.cleandoc(body)
                if _GOOGLE_NAMED_ENTRY.match(entry):
                    entry = _google_entry(entry)[1]
                parsed.returns.append((None, entry))
            continue
        indent = re.match(r"\s*", body).group()  # type: ignore[union-attr]  # \s* always matches
        starts = list(re.finditer("^" + indent + r"(?=\S)", body, re.M))
        if not starts:
            raise _ParseError(body)
        for index, start in enumerate(starts):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(body)
            name, description = _google_entry(body[start.end() : end].strip("\n"))
            parsed.entries += 1
            if title in ("Arguments", "Args", "Parameters", "Params", "Attributes"):
                typed = _GOOGLE_TYPED_NAME.match(name)
                parsed.params.append((typed.group(1) if typed else name, description))
    return parsed


def _google_entry(entry: str) -> tuple[str, str]:
    """``name (type): description`` split at the first colon, each part cleaned as Google's rules say."""
    if ":" not in entry:
        raise _ParseError(entry)
    name, description = entry.split(":", 1)
    if "\n" in name:
        first, rest = name.split("\n", 1)
        name = first + inspect.cleandoc(rest)
    if description:
        description = _join_lines(description[1:] if description[0] == " " else description).strip("\n")
    return name, description


# --- NumPy -----------------------------------------------------------------------------------

_NUMPY_PARAMS: tuple[str, ...] = (
    *("Parameters", "Params", "Arguments", "Args", "Other Parameters", "Other Params"),
    *("Other Arguments", "Other Args", "Receives", "Receive", "Attributes", "Attribute"),
)
_NUMPY_RETURNS: tuple[str, ...] = ("Returns", "Return", "Yields", "Yield")
_NUMPY_LISTS: tuple[str, ...] = ("Raises", "Raise", "Warns", "Warn")
_NUMPY_BLOCKS: tuple[str, ...] = (
    *("Examples", "Example", "Warnings", "Warning", "See Also", "Related", "Notes", "Note"),
    *("References", "Reference", "Todo"),
)
_NUMPY_TITLES = _NUMPY_PARAMS + _NUMPY_RETURNS + _NUMPY_LISTS + _NUMPY_BLOCKS
_NUMPY_TITLE = re.compile(
    "|".join(rf"^({re.escape(title)})\s*?\n{'-' * len(title)}\s*$" for title in _NUMPY_TITLES), re.M
)
_NUMPY_KEY = re.compile(r"^[^\s].*$", re.M)
_NUMPY_PARAM_NAME = re.compile(r"^(?P<name>.*?)(?:\s*:\s*(?P<type>.*?))?$")
_NUMPY_RETURN_NAME = re.compile(r"^(?:(?P<name>.*?)\s*:\s*)?(?P<type>.*?)$")


def _parse_numpy(text: str) -> _Parsed:
    parsed = _Parsed()
    titles = list(_NUMPY_TITLE.finditer(text))
    _describe(parsed, text[: titles[0].start()] if titles else text)
    for index, title in enumerate(titles):
        name = next(group for group in title.groups() if group is not None)
        end = titles[index + 1].start() if index + 1 < len(titles) else len(text)
        body = text[title.end() : end]
        if name in _NUMPY_BLOCKS:
            parsed.entries += 1
            continue
        for key, description in _numpy_entries(body):
            parsed.entries += 1
            if name in _NUMPY_PARAMS:
                parsed.params.append((_NUMPY_PARAM_NAME.match(key).group("name"), description))  # type: ignore[union-attr]
            elif name in _NUMPY_RETURNS:
                parsed.returns.append((_NUMPY_RETURN_NAME.match(key).group("name"), description))  # type: ignore[union-attr]
    return parsed


def _numpy_entries(body: str) -> Iterator[tuple[str, str | None]]:
    """``(key line, description)`` of each entry: a line at the margin, then its indented lines."""
    keys = list(_NUMPY_KEY.finditer(body))
    for index, key in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(body)
        description = inspect.cleandoc(body[key.end() : end]).strip()
        yield key.group(), description or None
