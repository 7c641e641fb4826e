"""@eager: an async body runs with real values; every call in it is a child node run by the executor."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest

import taskloom
from taskloom import LaunchPlan, SerializationSettings, current_context, task, workflow
from taskloom.core.executor import running, task_runner
from taskloom.exceptions.user import FlyteRecoverableException, TypeTransformerFailedError, ValidationError
from taskloom_dynamic import EagerAsyncPythonFunctionTask, ExecutionBehavior, dynamic, eager


@task
def add_one(x: int) -> int:
    return x + 1


@task
def double(x: int) -> int:
    return x * 2


@task
async def async_double(x: int) -> int:
    return x * 2


@task
def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"{x} is odd")
    return x


@workflow
def plus_three(x: int) -> int:
    return add_one(x=add_one(x=add_one(x=x)))


plus_three_plan = LaunchPlan.get_or_create(plus_three, name="plus_three_plan")


@dynamic
def doubles(n: int) -> list[int]:
    return [double(x=i) for i in range(n)]


@eager
async def add_then_double(x: int) -> int:
    return double(x=add_one(x=x))


# --- calling an eager task ---------------------------------------------------------------------


def test_calling_an_eager_task_returns_a_coroutine_that_asyncio_runs():
    call = add_then_double(x=1)
    assert inspect.iscoroutine(call)
    assert asyncio.run(call) == 4


def test_inside_a_workflow_an_eager_task_is_a_node_run_by_the_executor():
    @workflow
    def wf(x: int) -> int:
        return add_one(x=add_then_double(x=x))

    assert [node.entity for node in wf.nodes] == [add_then_double, add_one]
    assert wf(x=1) == 5


def test_aio_of_an_eager_task_outside_any_eager_task_gives_its_value():
    assert asyncio.run(add_then_double.aio(x=2)) == 6


def test_inputs_are_type_checked_when_called_naming_the_eager_task_and_the_input():
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add_then_double': input 'x' expects int"):
        add_then_double(x="one")
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add_then_double': input 'x' \(int\) is missing"):
        add_then_double()
    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add_then_double': got an unexpected input 'y'"):
        add_then_double(x=1, y=2)


def test_outputs_are_checked_against_the_interface():
    @eager
    async def says_int(x: int) -> int:
        return str(x)

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*says_int'"):
        asyncio.run(says_int(x=1))


# --- calls inside the body ---------------------------------------------------------------------


def test_a_sync_task_called_in_the_body_returns_its_value():
    @eager
    async def kinds(x: int) -> list[str]:
        return [type(add_one(x=x)).__name__, type(plus_three(x=x)).__name__, type(plus_three_plan(x=x)).__name__]

    assert asyncio.run(kinds(x=1)) == ["int", "int", "int"]


def test_an_async_task_called_in_the_body_returns_an_awaitable():
    @eager
    async def awaits(x: int) -> int:
        pending = async_double(x=x)
        assert inspect.isawaitable(pending)
        return await pending

    assert asyncio.run(awaits(x=4)) == 8


def test_aio_works_for_every_kind_of_entity():
    @eager
    async def through_aio(x: int) -> list[int]:
        return [
            await add_one.aio(x=x),
            await async_double.aio(x=x),
            await plus_three.aio(x=x),
            await plus_three_plan.aio(x=x),
            sum(await doubles.aio(n=x)),
            await add_then_double.aio(x=x),
        ]

    assert asyncio.run(through_aio(x=2)) == [3, 4, 5, 5, 2, 6]


def test_gathered_aio_calls_of_a_sync_task_run_concurrently():
    barrier = threading.Barrier(4, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()  # breaks (failing the test) unless the four children run at once
        return x

    @eager
    async def gather_sync(n: int) -> list[int]:
        return list(await asyncio.gather(*[meet.aio(x=i) for i in range(n)]))

    assert asyncio.run(gather_sync(n=4)) == [0, 1, 2, 3]


def test_gathered_calls_of_an_async_task_run_concurrently():
    barrier = threading.Barrier(4, timeout=10)

    @task
    async def meet(x: int) -> int:
        await asyncio.to_thread(barrier.wait)  # breaks unless the four children run at once
        return x

    @eager
    async def gather_async(n: int) -> list[int]:
        return list(await asyncio.gather(*[meet(x=i) for i in range(n)]))

    assert asyncio.run(gather_async(n=4)) == [0, 1, 2, 3]


def test_gathered_children_run_concurrently_when_the_eager_task_is_a_workflow_node():
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()
        return x

    @eager
    async def gather_sync(n: int) -> int:
        return sum(await asyncio.gather(*[meet.aio(x=i) for i in range(n)]))

    @workflow
    def wf(n: int) -> int:
        return gather_sync(n=n)

    assert wf(n=3) == 3


def test_a_sync_workflow_with_an_async_task_called_in_the_body_returns_its_value():
    @workflow
    def doubled(x: int) -> int:
        return async_double(x=x)

    @eager
    async def calls_workflow(x: int) -> int:
        return doubled(x=x) + 1  # the body's event loop must not leak into the workflow's nodes

    assert asyncio.run(calls_workflow(x=5)) == 11


def test_a_dynamic_task_called_in_the_body_returns_its_value():
    @eager
    async def calls_dynamic(n: int) -> int:
        return sum(doubles(n=n))

    assert asyncio.run(calls_dynamic(n=4)) == 12


def test_an_eager_task_calls_another_eager_task():
    @eager
    async def outer(x: int) -> list[int]:
        first = await add_then_double(x=x)
        second = await add_then_double.aio(x=first)
        return [first, second]

    assert asyncio.run(outer(x=1)) == [4, 10]


def test_python_control_flow_runs_on_real_values():
    @task
    def is_even(x: int) -> bool:
        return x % 2 == 0

    @eager
    async def collatz_steps(x: int) -> int:
        steps = 0
        while x != 1:
            if is_even(x=x):
                x = x // 2
            else:
                x = add_one(x=double(x=x) + x)
            steps += 1
        return steps

    assert asyncio.run(collatz_steps(x=6)) == 8


def test_calls_in_the_body_check_their_inputs_naming_the_callee():
    @eager
    async def mistyped(x: int) -> int:
        return add_one(x=str(x))

    with pytest.raises(TypeTransformerFailedError, match=r"task '.*add_one': input 'x' expects int"):
        asyncio.run(mistyped(x=1))


def test_a_child_runs_as_a_node_with_the_executors_retries():
    attempts: list[int] = []

    @task(retries=1)
    def flaky(x: int) -> int:
        attempts.append(current_context().attempt)
        if current_context().attempt == 0:
            raise FlyteRecoverableException("first attempt fails")
        return x

    @eager
    async def calls_flaky(x: int) -> int:
        return flaky(x=x)

    assert asyncio.run(calls_flaky(x=3)) == 3
    assert attempts == [0, 1]


def test_children_share_the_execution_of_the_eager_task():
    seen: list[str] = []

    @task
    def record(x: int) -> int:
        seen.append(current_context().execution_id.name)
        return x

    @eager
    async def records(n: int) -> int:
        return sum(await asyncio.gather(*[record.aio(x=i) for i in range(n)])) + record(x=0)

    @task
    def execution_name() -> str:
        return current_context().execution_id.name

    @workflow
    def wf(n: int) -> tuple[int, str]:
        return records(n=n), execution_name()

    result, execution = wf(n=2)
    assert result == 1 and seen == [execution] * 3


# --- failures --------------------------------------------------------------------------------


def test_a_failing_child_raises_into_the_body_with_its_own_exception_type():
    @eager
    async def tolerant(n: int) -> list[int]:
        results = []
        for i in range(n):
            try:
                results.append(fail_on_odd(x=i))
            except ValueError as error:
                assert "is odd" in str(error)
                results.append(-1)
        return results

    assert asyncio.run(tolerant(n=4)) == [0, -1, 2, -1]


def test_a_failing_awaited_child_raises_its_own_exception_type():
    @task
    async def refuse(x: int) -> int:
        raise KeyError(f"no {x}")

    @eager
    async def gathers(n: int) -> str:
        outcomes = await asyncio.gather(*[refuse(x=i) for i in range(n)], return_exceptions=True)
        try:
            await fail_on_odd.aio(x=1)
        except ValueError:
            return ",".join(type(outcome).__name__ for outcome in outcomes)
        return "not raised"

    assert asyncio.run(gathers(n=2)) == "KeyError,KeyError"


def test_an_uncaught_child_failure_fails_the_eager_task_with_that_type():
    @eager
    async def careless(x: int) -> int:
        return fail_on_odd(x=x)

    @workflow
    def wf(x: int) -> int:
        return careless(x=x)

    with pytest.raises(ValueError, match="3 is odd"):
        asyncio.run(careless(x=3))
    with pytest.raises(ValueError, match="3 is odd"):
        wf(x=3)


# --- child names ---------------------------------------------------------------------------------


class NameRecorder:
    """Wraps a real runner of the local executor and records the names of the children it starts."""

    def __init__(self, runner) -> None:
        self.runner = runner
        self.names: list[str] = []
        self._lock = threading.Lock()

    def run(self, entity, inputs, *, name):
        with self._lock:
            self.names.append(name)
        return self.runner.run(entity, inputs, name=name)

    def submit(self, entity, inputs, *, name):
        with self._lock:
            self.names.append(name)
        return self.runner.submit(entity, inputs, name=name)

    def close(self) -> None:
        self.runner.close()


def test_children_get_unique_names_in_call_order():
    @eager
    async def three_calls(x: int) -> int:
        return add_one(x=x) + await double.aio(x=x) + await async_double(x=x)

    with task_runner() as runner:
        recorder = NameRecorder(runner)
        with running(recorder):
            assert asyncio.run(three_calls(x=1)) == 6
    assert recorder.names == ["e0", "e1", "e2"]


def test_children_called_from_many_threads_get_unique_names():
    @eager
    async def threaded(n: int) -> int:
        return sum(await asyncio.gather(*[asyncio.to_thread(add_one, x=i) for i in range(n)]))

    with task_runner() as runner:
        recorder = NameRecorder(runner)
        with running(recorder):
            assert asyncio.run(threaded(n=20)) == sum(range(1, 21))
    assert sorted(recorder.names) == sorted(f"e{i}" for i in range(20))


# --- what the decorator builds -----------------------------------------------------------------


def test_an_eager_task_is_a_python_task_with_is_eager_metadata():
    assert isinstance(add_then_double, EagerAsyncPythonFunctionTask)
    assert add_then_double.task_type == "python-task" and add_then_double.metadata.is_eager
    assert add_then_double.execution_mode is ExecutionBehavior.EAGER
    template = add_then_double.to_task_template(SerializationSettings(project="p", domain="d", version="1"))
    assert template.type == "python-task" and template.metadata.is_eager


def test_eager_takes_the_keyword_arguments_of_task():
    @eager(retries=3, timeout=60, name="custom.eager")
    async def configured(x: int) -> int:
        return x

    assert configured.name == "custom.eager"
    assert configured.metadata.retries == 3 and configured.metadata.is_eager
    assert configured.metadata.timeout.total_seconds() == 60


def test_a_plain_def_is_refused_when_decorated():
    with pytest.raises(ValidationError, match="async def"):

        @eager
        def not_async(x: int) -> int:
            return x


def test_taskloom_eager_is_this_plugins_decorator():
    assert taskloom.eager is eager


def test_get_as_workflow_gives_the_workflow_of_its_name_that_runs_it():
    @eager
    async def plus_one_eagerly(x: int = 1) -> int:
        return add_one(x=x)

    wrapper = plus_one_eagerly.get_as_workflow()
    assert wrapper.name == plus_one_eagerly.name
    assert wrapper.python_interface.inputs == {"x": int}
    assert wrapper.python_interface.required_inputs == ["x"]  # flytekit declares the inputs without defaults
    assert wrapper(x=4) == 5
