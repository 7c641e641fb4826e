"""Decks: HTML pages a task execution leaves about itself (flytekit's ``flytekit.deck``).

:class:`DeckField` is the kernel's, since ``@task(deck_fields=...)`` is checked when a task is
declared. ``Deck`` and the renderers come from the plugins that provide them (``Deck``,
``MarkdownRenderer``, ``SourceCodeRenderer``: taskloom-report; ``TopFrameRenderer``,
``TableRenderer``, ``ArrowRenderer``: taskloom-arrow), resolved on first access through the plugin
manager exactly as ``taskloom.Deck`` is: importing this module imports no plugin, and without the
plugin a name raises an ImportError naming the distribution to install.
"""

from __future__ import annotations

import enum
from typing import Any


class DeckField(str, enum.Enum):
    """A deck the executor adds to a task execution's decks (flytekit's names and values):
    ``@task(enable_deck=True, deck_fields=(DeckField.INPUT, DeckField.OUTPUT))``.
    """

    INPUT = "Input"
    OUTPUT = "Output"
    SOURCE_CODE = "Source Code"
    TIMELINE = "Timeline"
    DEPENDENCIES = "Dependencies"


#: What ``@task(enable_deck=True)`` shows when ``deck_fields`` is not given: flytekit's default.
DEFAULT_DECK_FIELDS: tuple[DeckField, ...] = (
    DeckField.SOURCE_CODE,
    DeckField.DEPENDENCIES,
    DeckField.TIMELINE,
    DeckField.INPUT,
    DeckField.OUTPUT,
)


def deck_fields_of(fields: Any, entity: str) -> tuple[DeckField, ...]:
    """``fields`` (DeckField members, or their values such as ``"Input"``) as a tuple of DeckField.

    Raises :class:`~taskloom.exceptions.user.ValidationError` naming ``entity`` and the member that
    is not a deck field.
    """
    from taskloom.exceptions.user import ValidationError

    if isinstance(fields, (str, DeckField)):
        fields = (fields,)
    try:
        members = tuple(fields)
    except TypeError:
        raise ValidationError(f"{entity}: deck_fields expects a tuple of DeckField, got {fields!r}") from None
    result = []
    for field in members:
        try:
            result.append(DeckField(field))
        except ValueError:
            choices = ", ".join(f"DeckField.{member.name}" for member in DeckField)
            raise ValidationError(
                f"{entity}: deck_fields expects DeckField members ({choices}), got {field!r}"
            ) from None
    return tuple(dict.fromkeys(result))


#: Names a plugin provides (``taskloom.names`` entry points), resolved as ``taskloom.NAME`` is.
_PLUGIN_NAMES = frozenset(
    {"Deck", "MarkdownRenderer", "SourceCodeRenderer", "TopFrameRenderer", "TableRenderer", "ArrowRenderer"}
)


def __getattr__(name: str) -> Any:
    if name in _PLUGIN_NAMES:
        from taskloom.plugins import get_plugin_manager  # the plugin machinery, only when a plugin name is asked for

        return get_plugin_manager().resolve_name(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({"DeckField", "DEFAULT_DECK_FIELDS", "deck_fields_of"} | _PLUGIN_NAMES)
