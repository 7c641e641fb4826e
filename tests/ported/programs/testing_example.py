"""Unit-testing helpers: a task replaced by a mock while a workflow runs, with task_mock and patch."""

from flytekit import task, workflow
from flytekit.testing import patch, task_mock


@task
def fetch_price(symbol: str) -> float:
    if symbol:
        raise RuntimeError("no network in tests")
    return 0.0


@task
def with_tax(price: float) -> float:
    return round(price * 1.2, 2)


@workflow
def price_wf(symbol: str) -> float:
    return with_tax(price=fetch_price(symbol=symbol))


@patch(fetch_price)
def check_patched(mock_fetch) -> float:
    mock_fetch.return_value = 5.0
    return price_wf(symbol="XYZ")


if __name__ == "__main__":
    with task_mock(fetch_price) as mock:
        mock.return_value = 10.0
        print(price_wf(symbol="ABC"))
    print(check_patched())
    try:
        price_wf(symbol="ABC")
    except Exception as error:
        print("unmocked:", "no network in tests" in str(error))
