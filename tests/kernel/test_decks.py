"""Decks in the kernel alone (issue 27, point 1): ``enable_deck``, ``deck_fields`` and ``disable_deck`` as flytekit
takes them, the deck list of a task execution's context, and the hand-over of a succeeded execution's decks to the
plugin that writes them (``taskloom_task_decks``). These tests see no installed plugin (``bare_plugins``): what
they register is all there is, as in the kernel-only environment of CI.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from typing import Any

import pytest

import taskloom.core.decks
from taskloom import DeckField, SimpleTransformer, current_context, task
from taskloom.deck import DEFAULT_DECK_FIELDS
from taskloom.exceptions.system import PluginWarning
from taskloom.exceptions.user import ValidationError
from taskloom.hookspecs import hookimpl


class DeckWriter:
    """A plugin that keeps what it is handed instead of writing pages (and, as the kernel alone has no
    transformer, one for str, so that its tasks can take and give text)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def taskloom_task_decks(
        self,
        task: Any,
        decks: Any,
        inputs: Any,
        outputs: Any,
        execution_id: Any,
        node_path: Any,
        timeline: Any,
        output_prefix: Any,
    ) -> None:
        self.calls.append(
            {
                "output_prefix": output_prefix,
                "task": task,
                "decks": decks,
                "inputs": inputs,
                "outputs": outputs,
                "execution_id": execution_id,
                "node_path": node_path,
                "timeline": timeline,
            }
        )

    @hookimpl
    def taskloom_type_transformers(self) -> list[Any]:
        from taskloom.models.literals import Literal, Primitive, Scalar
        from taskloom.models.types import LiteralType, SimpleType

        return [
            SimpleTransformer(
                "str",
                str,
                LiteralType(simple=SimpleType.STRING),
                lambda value: Literal(scalar=Scalar(primitive=Primitive(string_value=value))),
                lambda literal: literal.scalar.primitive.string_value,
            )
        ]


class NamedDeck:
    """What a plugin's ``Deck`` is to the kernel: a name and HTML, added to the running task's decks."""

    def __init__(self, name: str, html: str = "") -> None:
        self.name, self.html = name, html
        current_context().decks.append(self)

    def append(self, html: str) -> NamedDeck:
        self.html += html
        return self


@pytest.fixture
def writer(bare_plugins: Any) -> DeckWriter:
    plugin = DeckWriter()
    bare_plugins.register(plugin, name="writer", names={"Deck": f"{__name__}:NamedDeck"})
    return plugin


@pytest.fixture
def warned_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taskloom.core.decks, "_warned", False)


@pytest.fixture
def shout(writer: DeckWriter) -> Any:
    @task(enable_deck=True, deck_fields=(DeckField.INPUT, "Output"))
    def shout(text: str) -> str:
        current_context().default_deck.append("<p>made</p>")
        return text.upper()

    return shout


# No inputs or outputs where no plugin is registered: the kernel alone has no transformer for them.
@task(enable_deck=True)
def bare() -> None:
    current_context().decks.append(NamedDeck.__new__(NamedDeck))


def test_enable_deck_takes_flytekits_default_deck_fields_and_checks_the_ones_given(shout):
    @task(enable_deck=True)
    def everything() -> None:
        pass

    assert everything.enable_deck and everything.deck_fields == list(DEFAULT_DECK_FIELDS)
    assert [field.value for field in DEFAULT_DECK_FIELDS] == [
        "Source Code",
        "Dependencies",
        "Timeline",
        "Input",
        "Output",
    ]
    assert shout.deck_fields == [DeckField.INPUT, DeckField.OUTPUT] and shout.metadata.generates_deck
    with pytest.raises(
        ValidationError, match=r"task '.*wrong': deck_fields expects DeckField members \(.*\), got 'Graph'"
    ):

        @task(enable_deck=True, deck_fields=(DeckField.INPUT, "Graph"))
        def wrong() -> None:
            pass


def test_tasks_without_decks_have_none_and_their_deck_fields_are_not_read():
    @task(deck_fields=("not", "checked"))  # as in flytekit: deck_fields count only with decks on
    def quiet() -> None:
        pass

    assert not quiet.enable_deck and quiet.disable_deck and quiet.deck_fields == []
    assert not quiet.metadata.generates_deck


def test_disable_deck_false_turns_decks_on_with_flytekits_deprecation_warning():
    with pytest.warns(FutureWarning, match="disable_deck is deprecated"):

        @task(disable_deck=False)
        def old_style() -> None:
            pass

    assert old_style.enable_deck and old_style.metadata.generates_deck


def test_a_succeeded_execution_hands_its_decks_inputs_and_outputs_to_the_plugin(writer, shout):
    assert shout.run({"text": "hi"}, execution_id="l42", node_path="n3") == "HI"
    assert shout.run({"text": "ho"}, execution_id="l42", output_metadata_prefix="s3://b/out") == "HO"
    call, in_a_container = writer.calls
    assert call["task"] is shout and call["execution_id"] == "l42" and call["node_path"] == "n3"
    assert call["output_prefix"] is None and in_a_container["output_prefix"] == "s3://b/out"
    assert call["inputs"] == {"text": "hi"} and call["outputs"] == {"o0": "HI"}
    assert [(deck.name, deck.html) for deck in call["decks"]] == [("default", "<p>made</p>")]
    (part,) = call["timeline"]
    assert part["name"] == "Execute user level code" and part["finish"] >= part["start"] and part["wall_time"] >= 0


def test_a_direct_call_hands_its_decks_over_with_no_node_path(writer, shout):
    assert shout(text="yo") == "YO"
    assert writer.calls[0]["node_path"] is None and writer.calls[0]["execution_id"].startswith("l")


def test_a_failed_attempt_hands_no_decks_over(writer):
    @task(enable_deck=True)
    def fails(text: str) -> str:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        fails(text="a")
    assert writer.calls == []


def test_an_async_task_hands_its_decks_over_once_awaited(writer):
    @task(enable_deck=True, deck_fields=())
    async def later(text: str) -> str:
        await asyncio.sleep(0)
        current_context().default_deck.append("<p>async</p>")
        return text + "!"

    assert later(text="a") == "a!"
    (call,) = writer.calls
    assert call["outputs"] == {"o0": "a!"} and call["decks"][0].html == "<p>async</p>"


def test_tasks_without_decks_never_call_the_plugin(writer):
    @task
    def quiet(text: str) -> str:
        current_context().decks.append(NamedDeck.__new__(NamedDeck))  # kept for the code, handed to nobody
        return text

    assert quiet(text="a") == "a" and writer.calls == []


def test_without_a_plugin_a_task_with_decks_runs_and_says_once_what_to_install(bare_plugins, warned_afresh):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bare()
        bare()
    messages = [str(warning.message) for warning in caught if issubclass(warning.category, PluginWarning)]
    assert len(messages) == 1
    assert "enable_deck=True, but no installed plugin writes decks: install taskloom-report" in messages[0]


def test_without_the_plugin_deck_names_raise_an_import_error_naming_taskloom_report(bare_plugins):
    import taskloom
    import taskloom.deck

    for get in (lambda: taskloom.Deck, lambda: taskloom.deck.Deck, lambda: taskloom.deck.MarkdownRenderer):
        with pytest.raises(ImportError, match="provided by the distribution 'taskloom-report', which is not installed"):
            get()
    with pytest.raises(ImportError, match="taskloom.TopFrameRenderer is provided by the distribution 'taskloom-arrow'"):
        taskloom.deck.TopFrameRenderer  # noqa: B018


def test_the_default_deck_without_the_plugin_names_taskloom_report(bare_plugins, warned_afresh):
    @task(enable_deck=True)
    def uses_default() -> None:
        current_context().default_deck  # noqa: B018

    with pytest.raises(ImportError, match="taskloom-report"), warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)
        uses_default()


def test_importing_taskloom_and_its_deck_module_imports_no_plugin():
    probe = (
        "import sys, taskloom, taskloom.deck, taskloom.deck.renderer; taskloom.DeckField.INPUT;"
        "print(sorted(m for m in sys.modules if m.startswith('taskloom_') or m == 'taskloom.core.decks'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_task_type_without_a_function_takes_enable_deck_as_flytekits_python_task_does():
    from taskloom.core.base_task import PythonTask
    from taskloom.core.interface import Interface

    with_decks = PythonTask("query", "q", Interface({}, {}), enable_deck=True, deck_fields=(DeckField.INPUT,))
    assert with_decks.enable_deck and with_decks.metadata.generates_deck and with_decks.deck_fields == [DeckField.INPUT]
    without = PythonTask("query", "q", Interface({}, {}), disable_deck=True)
    assert not without.enable_deck and not without.metadata.generates_deck
    with pytest.raises(ValidationError, match="task 'q': give enable_deck or disable_deck, not both"):
        PythonTask("query", "q", Interface({}, {}), enable_deck=True, disable_deck=False)


def test_a_task_with_decks_runs_its_many_calls_through_run_so_each_hands_its_decks_over(writer, shout):
    call = shout.prepared(execution_id="l7", execution_date=None)
    assert call({"text": "a"}, None) == {"o0": "A"} and call({"text": "b"}, None) == {"o0": "B"}
    assert [handed["inputs"] for handed in writer.calls] == [{"text": "a"}, {"text": "b"}]
