"""The plugin in use: ``loom run examples/ledger.py bill --item tea --tip "0.50 EUR"``."""

from decimal import Decimal

from taskloom import Audited, Money, task, workflow

PRICES = {"tea": "3.20", "cake": "4.50"}


@task
def price(item: str) -> Money:
    return Money(Decimal(PRICES[item]), "EUR")


@task(task_config=Audited(owner="ana"))
def total(a: Money, b: Money) -> Money:
    return a + b


@workflow
def bill(item: str, tip: Money) -> Money:
    return total(a=price(item=item), b=tip)


if __name__ == "__main__":
    print(bill(item="tea", tip=Money(Decimal("0.50"), "EUR")))
