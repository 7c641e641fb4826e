"""Typing behaviours of ported flytekit programs (issue 21, point 4): a tuple literal as the return
annotation, a one-field NamedTuple read by field, an int output bound to a float input, datetimes
handed over timezone-aware, ``Iterator[T]`` outputs.

The tasks live at module level so that the process pool's workers import them by reference. The last
test runs one program under flytekit 1.16 and under taskloom and compares what each prints.

No ``from __future__ import annotations`` here: ``-> (float, float)`` is not a type, so as a string it
cannot be resolved, by flytekit either; ported programs that use the spelling do not have the import.
"""

import datetime
import os
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

from taskloom import task, workflow
from taskloom.exceptions.user import TypeTransformerFailedError, UnsupportedTypeError
from taskloom_local.executor import LocalExecutor

UTC = datetime.UTC


# --- a tuple literal as the return annotation ------------------------------------------------


@task
def fit_line(x: float) -> (float, float):  # type: ignore[syntax]  # flytekit's spelling of two outputs
    return 2 * x, x + 1


@workflow
def slope_and_offset(x: float = 1.5) -> (float, float):  # type: ignore[syntax]
    slope, offset = fit_line(x=x)
    return offset, slope


def test_a_tuple_literal_annotation_declares_one_output_per_item():
    assert fit_line.python_interface.outputs == {"o0": float, "o1": float}
    assert fit_line(x=2.0) == (4.0, 3.0)
    assert slope_and_offset(x=2.0) == (3.0, 4.0)
    assert slope_and_offset.python_interface.output_names == ["o0", "o1"]


@pytest.mark.parametrize("processes", [None, 2], ids=["threads", "processes"])
def test_several_unnamed_outputs_come_back_as_flytekits_default_named_tuple(processes):
    # flytekit returns DefaultNamedTupleOutput(o0=..., o1=...) from a task or a workflow called locally.
    executor = LocalExecutor(processes=processes, record=False)
    for result in (fit_line(x=2.0), slope_and_offset(x=2.0), executor.execute(slope_and_offset, {"x": 2.0})):
        assert type(result).__name__ == "DefaultNamedTupleOutput" and result._fields == ("o0", "o1")
        assert repr(result).startswith("DefaultNamedTupleOutput(o0=")
        assert (result.o0, result.o1) == tuple(result)
    import pickle

    assert pickle.loads(pickle.dumps(fit_line(x=2.0))) == (4.0, 3.0)  # a plain tuple once pickled


# --- a NamedTuple of one field ---------------------------------------------------------------


class Fit(typing.NamedTuple):
    slope: float


@task
def fit(x: float) -> Fit:
    return Fit(slope=3 * x)


@task
def bare_fit(x: float) -> Fit:
    return 3 * x  # flytekit takes the bare value for a one-field NamedTuple too


@task
def plus_one(value: float) -> float:
    return value + 1


@workflow
def inner(x: float) -> Fit:
    result = fit(x=x)
    return plus_one(value=result.slope)


@workflow
def outer(x: float = 2.0) -> float:
    result = inner(x=x)  # a subworkflow's one-field NamedTuple, read by field too
    return plus_one(value=result.slope)


def test_a_one_field_named_tuple_keeps_field_access_in_workflows_and_subworkflows():
    assert fit(x=2.0) == Fit(slope=6.0)
    assert fit(x=2.0).slope == 6.0
    assert bare_fit(x=2.0).slope == 6.0
    assert inner(x=2.0) == (7.0,)
    assert inner(x=2.0).slope == 7.0
    assert outer(x=2.0) == 8.0


def test_a_one_field_named_tuple_is_not_a_value_of_its_field_type():
    with pytest.raises(TypeTransformerFailedError, match="input 'value' expects float"):

        @workflow
        def passes_the_tuple(x: float) -> float:
            return plus_one(value=fit(x=x))


# --- widenings at binding time ---------------------------------------------------------------


@task
def count() -> int:
    return 3


@task
def counts() -> list[int]:
    return [1, 2]


@task
def float_repr(value: float) -> str:
    return repr(value)


@task
def floats_repr(values: list[float]) -> str:
    return repr(values)


@task
def optional_repr(value: typing.Optional[float]) -> str:
    return repr(value)


@workflow
def widened() -> tuple[str, str, str]:
    return float_repr(value=count()), floats_repr(values=counts()), optional_repr(value=count())


@pytest.mark.parametrize("processes", [None, 2], ids=["threads", "processes"])
def test_an_int_output_bound_to_a_float_input_arrives_as_a_float(processes):
    executor = LocalExecutor(processes=processes, record=False)
    assert executor.execute(widened, {}) == ("3.0", "[1.0, 2.0]", "3.0")


def test_an_int_constant_for_a_float_input_arrives_as_a_float():
    assert float_repr(value=3) == "3.0"


@workflow
def count_as_float() -> float:
    return count()


def test_a_workflow_output_declared_float_comes_back_a_float():
    result = count_as_float()
    assert result == 3.0 and type(result) is float


@task
def measure() -> float:
    return 2.5


@task
def flag() -> bool:
    return True


@task
def int_repr(value: int) -> str:
    return repr(value)


@pytest.mark.parametrize(
    "producer, consumer",
    [(measure, int_repr), (flag, int_repr), (flag, float_repr), (count, lambda value: None)],
    ids=["float to int", "bool to int", "bool to float", "int to str"],
)
def test_narrowing_and_unrelated_bindings_are_refused_when_declared(producer, consumer):
    if not hasattr(consumer, "python_interface"):

        @task
        def consumer(value: str) -> str:
            return value

    with pytest.raises(TypeTransformerFailedError, match="input 'value' expects"):

        @workflow
        def mismatched() -> str:
            return consumer(value=producer())


# --- datetimes -------------------------------------------------------------------------------


@task
def stamp(moment: datetime.datetime) -> datetime.datetime:
    assert moment.tzinfo is not None, "the body got a naive datetime"
    return moment


@task
def naive_now() -> datetime.datetime:
    return datetime.datetime(2024, 1, 2, 3, 4, 5)


@task
def day() -> datetime.date:
    return datetime.date(2024, 1, 2)


@workflow
def stamps(moment: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime]:
    return stamp(moment=moment), naive_now(), stamp(moment=day())


@pytest.mark.parametrize("processes", [None, 2], ids=["threads", "processes"])
def test_datetimes_come_back_timezone_aware_as_in_flytekit(processes):
    executor = LocalExecutor(processes=processes, record=False)
    naive = datetime.datetime(2024, 1, 2, 3, 4, 5)
    given, returned, midnight = executor.execute(stamps, {"moment": naive})
    assert given == returned == naive.replace(tzinfo=UTC)
    assert given.tzinfo is not None and returned.tzinfo is not None
    assert midnight == datetime.datetime(2024, 1, 2, tzinfo=UTC)


@workflow
def passes_through(moment: datetime.datetime) -> datetime.datetime:
    return moment


def test_a_naive_datetime_input_returned_by_a_workflow_comes_back_utc():
    assert passes_through(moment=datetime.datetime(2024, 1, 2)) == datetime.datetime(2024, 1, 2, tzinfo=UTC)


def test_an_aware_datetime_keeps_its_offset_in_process():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus_two)
    assert stamp(moment=moment).utcoffset() == datetime.timedelta(hours=2)
    assert naive_now().tzinfo is UTC


# --- Iterator[T] outputs ---------------------------------------------------------------------


@task
def squares(n: int) -> typing.Iterator[int]:
    for index in range(n):
        yield index * index


@task
def total_twice(values: typing.Iterator[int]) -> list[int]:
    # Iterated twice: each pass starts from the first item, as with flytekit's FlyteIterator.
    return [len(values), sum(values) + sum(values)]


@task
def total_of_list(values: list[int]) -> int:
    assert type(values) is list
    return sum(values)


@workflow
def iterate(n: int = 4) -> tuple[list[int], int, typing.Iterator[int]]:
    produced = squares(n=n)
    return total_twice(values=produced), total_of_list(values=produced), produced


@pytest.mark.parametrize("processes", [None, 2], ids=["threads", "processes"])
def test_an_iterator_output_reaches_every_task_that_takes_it(processes):
    executor = LocalExecutor(processes=processes, record=False)
    twice, total, produced = executor.execute(iterate, {"n": 4})
    assert twice == [4, 28]
    assert total == 14
    assert list(produced) == list(produced) == [0, 1, 4, 9]
    assert list(squares(n=3)) == [0, 1, 4]


def test_an_iterator_is_a_collection_on_the_wire():
    from taskloom.core.type_engine import TypeEngine

    literal = TypeEngine.to_literal(None, iter([1, 2]), typing.Iterator[int])
    assert TypeEngine.to_literal_type(typing.Iterator[int]) == TypeEngine.to_literal_type(list[int])
    assert list(TypeEngine.to_python_value(None, literal, typing.Iterator[int])) == [1, 2]


def test_an_iterator_of_json_is_refused_naming_the_replacement():
    from taskloom.types.iterator.json_iterator import JSON

    with pytest.raises(UnsupportedTypeError, match=r"JSON Lines.*Iterator\[dict\[str, Any\]\]"):

        @task
        def lines() -> typing.Iterator[JSON]:
            yield {"a": 1}


# --- the same program under flytekit 1.16 ----------------------------------------------------

PROGRAM = """
import datetime, typing
from flytekit import task, workflow

class Fit(typing.NamedTuple):
    slope: float

@task
def fit_line(x: float) -> (float, float):
    return 2 * x, x + 1

@task
def fit(x: float) -> Fit:
    return Fit(slope=3 * x)

@task
def count() -> int:
    return 3

@task
def counts() -> list[int]:
    return [1, 2]

@task
def as_text(value: float, values: list[float], optional: typing.Optional[float]) -> str:
    return repr((value, values, optional))

@task
def stamp(moment: datetime.datetime) -> datetime.datetime:
    return moment

@task
def squares(n: int) -> typing.Iterator[int]:
    for index in range(n):
        yield index * index

@task
def read_twice(values: typing.Iterator[int]) -> str:
    return repr((type(values).__name__, len(values), list(values), list(values)))

@workflow
def pipeline(x: float, moment: datetime.datetime) -> (str, float, float, datetime.datetime, str):
    slope, offset = fit_line(x=x)
    result = fit(x=slope)
    text = as_text(value=count(), values=counts(), optional=count())
    return text, offset, result.slope, stamp(moment=moment), read_twice(values=squares(n=3))

print(repr(tuple(pipeline(x=1.5, moment=datetime.datetime(2024, 1, 2, 3, 4, 5)))))  # flytekit names the tuple
"""

_FLYTEKIT_PYTHON = Path(__file__).resolve().parents[2] / ".venvs" / "flytekit-1.16" / "bin" / "python"


def _run(python: Path | str, source: str, directory: Path) -> str:
    (directory / "program.py").write_text(textwrap.dedent(source))
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(python), "program.py"], cwd=directory, capture_output=True, text=True, env=environment, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.skipif(not _FLYTEKIT_PYTHON.exists(), reason="needs the flytekit 1.16 environment in .venvs")
def test_the_ported_program_prints_what_it_prints_under_flytekit(tmp_path):
    (tmp_path / "flytekit").mkdir()
    (tmp_path / "taskloom").mkdir()
    expected = _run(_FLYTEKIT_PYTHON, PROGRAM, tmp_path / "flytekit")
    ported = _run(
        sys.executable, PROGRAM.replace("from flytekit import", "from taskloom import"), tmp_path / "taskloom"
    )
    assert ported == expected
    assert "tzinfo=datetime.timezone.utc" in ported
