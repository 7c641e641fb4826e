"""`loom run` parses an input of a third party's type with that party's transformer (issue 20, point 6).

The plugin is a real installed distribution (an entry point in ``taskloom.plugins``) and loom runs in
a fresh interpreter, as a user would meet it: its transformer's ``from_text`` parses the option, and
JSON strings inside a list of the type; a value it refuses is one usage-error line naming the task,
the input, what was expected and what came.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.kernel.distributions import make_distribution, run_loom

MONEY = '''
"""Money, and its transformer: stored as the text "12.50 EUR", written the same way on the command line."""

import re

from taskloom.core.type_engine import TypeTransformer
from taskloom.exceptions.user import TypeTransformerFailedError
from taskloom.models.literals import Literal, Primitive, Scalar
from taskloom.models.types import LiteralType, SimpleType

AMOUNT = re.compile(r"(\\d+)(?:\\.(\\d\\d))? ([A-Z]{3})")


class Money:
    def __init__(self, cents, currency):
        self.cents, self.currency = cents, currency

    def __str__(self):
        return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"


class MoneyTransformer(TypeTransformer):
    def __init__(self):
        super().__init__("money", Money)

    def get_literal_type(self, t):
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, ctx, python_val, python_type, expected):
        self.assert_type(Money, python_val)
        return Literal(scalar=Scalar(primitive=Primitive(string_value=str(python_val))))

    def to_python_value(self, ctx, lv, expected_python_type):
        return self.from_text(lv.scalar.primitive.string_value, Money)

    def from_text(self, text, python_type):
        found = AMOUNT.fullmatch(text)
        if found is None:
            raise TypeTransformerFailedError(f"expected an amount and a currency such as '12.50 EUR', got {text!r}")
        units, cents, currency = found.groups()
        return Money(int(units) * 100 + int(cents or 0), currency)

    def text_help(self, python_type):
        return "money is written AMOUNT CURRENCY, e.g. '12.50 EUR'"
'''

HOOKS = """
from taskloom.hookspecs import hookimpl


@hookimpl
def taskloom_type_transformers():
    from demo_money.money import MoneyTransformer

    return [MoneyTransformer()]
"""

FLOWS = """
from demo_money.money import Money
from taskloom import task


@task
def price(amount: Money) -> str:
    return f"{amount.cents} cents in {amount.currency}"


@task
def total(amounts: list[Money]) -> int:
    return sum(amount.cents for amount in amounts)
"""


@pytest.fixture
def money(tmp_path):
    """The installed plugin's directory (for PYTHONPATH) and the flows file using its type."""
    root = make_distribution(
        tmp_path / "site",
        "demo-money",
        files={"demo_money/__init__.py": "", "demo_money/money.py": MONEY, "demo_money/hooks.py": HOOKS},
        entry_points={"taskloom.plugins": {"money": "demo_money.hooks"}},
    )
    flows = tmp_path / "shop.py"
    flows.write_text(textwrap.dedent(FLOWS))
    return root, str(flows)


def test_a_third_party_type_is_parsed_by_its_transformer_on_the_command_line(money):
    root, flows = money
    done = run_loom(["run", "--progress", "never", flows, "price", "--amount", "12.50 EUR"], path=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1250 cents in EUR"


def test_json_strings_inside_a_list_of_the_type_are_parsed_by_it_too(money):
    root, flows = money
    done = run_loom(["run", "--progress", "never", flows, "total", "--amounts", '["1 EUR", "2.25 EUR"]'], path=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "325"


def test_a_value_the_transformer_refuses_is_one_line_naming_task_input_expected_and_got(money):
    root, flows = money
    done = run_loom(["run", flows, "price", "--amount", "lots"], path=root)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        "Error: Invalid value for '--amount': task 'shop.price': input 'amount': 'lots' is not a valid Money: "
        f"expected an amount and a currency such as '12.50 EUR', got 'lots' (see loom run {flows} price --help)"
    ]


def test_the_help_of_the_task_says_what_the_transformer_says_of_its_text(money):
    root, flows = money
    done = run_loom(["run", flows, "price", "--help"], path=root)
    assert done.returncode == 0, done.stderr
    assert "--amount Money" in done.stdout and "AMOUNT CURRENCY" in " ".join(done.stdout.split())
