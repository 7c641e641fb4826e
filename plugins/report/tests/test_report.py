"""taskloom-report's tests, against the installed kernel through its pytest fixture ``taskloom_plugins``.

The fixture gives each test a plugin manager of its own (the installed plugins, discovered as usual) and restores
the previous one afterwards, so registering this plugin's hooks here touches no global state.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from taskloom import task, workflow
from taskloom.extend import SerializationSettings, TypeEngine, TypeTransformerFailedError, WorkflowBase

from taskloom_report import hooks
from taskloom_report.audited import Audited, AuditedTask
from taskloom_report.events import NODES
from taskloom_report.money import Money

TEA = Money(Decimal("3.20"), "EUR")
CAKE = Money(Decimal("4.50"), "EUR")


@pytest.fixture
def plugin(taskloom_plugins: Any) -> Any:
    """This plugin's hooks registered for one test (replacing the installed entry point's, if any)."""
    taskloom_plugins.register(
        hooks,
        name="report",
        names={"Money": "taskloom_report.money:Money", "Audited": "taskloom_report.audited:Audited"},
    )
    return taskloom_plugins


@pytest.fixture
def bill(plugin: Any) -> WorkflowBase:
    """A workflow pricing two items (as Money) and adding them up in an audited task."""

    @task
    def price(item: str) -> Money:
        return {"tea": TEA, "cake": CAKE}[item]

    @task(task_config=Audited(owner="ana"))
    def total(a: Money, b: Money) -> Money:
        return a + b

    @workflow
    def bill(first: str, second: str) -> Money:
        return total(a=price(item=first), b=price(item=second))

    return bill


def test_money_round_trips_through_a_string_literal(plugin: Any) -> None:
    literal = TypeEngine.to_literal(None, TEA, Money, TypeEngine.to_literal_type(Money))
    assert literal.scalar is not None and literal.scalar.primitive is not None
    assert literal.scalar.primitive.string_value == "3.20 EUR"
    assert TypeEngine.to_python_value(None, literal, Money) == TEA


def test_money_is_read_from_command_line_text(plugin: Any) -> None:
    assert TypeEngine.from_text("12.50 EUR", Money) == Money(Decimal("12.50"), "EUR")
    assert TypeEngine.from_text('["1 EUR", "2.5 USD"]', list[Money]) == [
        Money(Decimal(1), "EUR"),
        Money(Decimal("2.5"), "USD"),
    ]


def test_text_that_is_not_money_is_refused_saying_what_was_expected(plugin: Any) -> None:
    with pytest.raises(TypeTransformerFailedError, match=r"expected an amount such as '12\.50 EUR', got 'lots'"):
        TypeEngine.from_text("lots", Money)


def test_an_audited_task_is_built_by_the_plugin_s_task_class(plugin: Any) -> None:
    @task(task_config=Audited(owner="bo"))
    def double(a: Money) -> Money:
        return a + a

    assert isinstance(double, AuditedTask)
    assert double.task_type == "audited"
    assert double.get_custom(SerializationSettings()) == {"owner": "bo"}


def test_an_audited_task_runs_locally_and_says_who_it_runs_for(
    bill: WorkflowBase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bill(first="tea", second="cake") == Money(Decimal("7.70"), "EUR")
    assert "run for ana" in capsys.readouterr().err


def test_an_audited_task_needs_an_owner() -> None:
    with pytest.raises(ValueError, match="owner must name someone"):
        Audited(owner="")


def test_finished_nodes_are_counted_by_outcome(bill: WorkflowBase) -> None:
    NODES.clear()
    bill(first="tea", second="cake")
    assert NODES.counts() == {"succeeded": 3}
