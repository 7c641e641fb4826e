"""map_task: elements, bound inputs, concurrency, success thresholds, retries, interface and template.

Everything runs through the local executor (the default), directly or inside workflows.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import typing

import pytest

import taskloom
from taskloom import (
    PythonFunctionTask,
    PythonInstanceTask,
    Secret,
    SerializationSettings,
    TaskMetadata,
    current_context,
    task,
    workflow,
)
from taskloom.exceptions import RecoverableException
from taskloom.exceptions.user import (
    FlyteRecoverableException,
    TypeTransformerFailedError,
    UserException,
    UserValueError,
    ValidationError,
)
from taskloom_map import ArrayNodeMapTask, MapTaskError, map_task


@pytest.fixture(autouse=True)
def local_executor(monkeypatch):
    monkeypatch.delenv("TASKLOOM_EXECUTOR", raising=False)  # the default: local


SETTINGS = SerializationSettings(project="p", domain="d", version="v1")


@task
def square(x: int) -> int:
    return x * x


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def divmod_task(a: int, b: int) -> tuple[int, int]:
    return a // b, a % b


class Parts(typing.NamedTuple):
    text: str
    length: int


@task
def describe(word: str) -> Parts:
    return Parts(word.upper(), len(word))


@task
def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


class Recorder:
    """Records which elements ran, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[int] = []

    def add(self, x: int) -> None:
        with self._lock:
            self.seen.append(x)


# --- mapping lists ------------------------------------------------------------------------------


def test_called_outside_a_workflow_it_maps_one_list_and_returns_a_plain_list():
    assert map_task(square)(x=[1, 2, 3]) == [1, 4, 9]


def test_positional_lists_are_mapped_in_input_order():
    assert map_task(add)([1, 2], [10, 20]) == [11, 22]


def test_several_lists_are_mapped_together_element_by_element():
    assert map_task(add)(a=[1, 2, 3], b=[10, 20, 30]) == [11, 22, 33]


def test_lists_of_different_lengths_fail_naming_the_map_and_each_length():
    mapped = map_task(add)
    with pytest.raises(UserValueError) as raised:
        mapped(a=[1, 2, 3], b=[10, 20])
    message = str(raised.value)
    assert mapped.name in message and "'a' has 3" in message and "'b' has 2" in message


def test_lists_of_different_lengths_start_no_element():
    recorder = Recorder()

    @task
    def record(a: int, b: int) -> int:
        recorder.add(a)
        return a

    with pytest.raises(UserValueError):
        map_task(record)(a=[1, 2], b=[1])
    assert recorder.seen == []


def test_in_a_workflow_the_map_is_a_node_fed_by_workflow_inputs():
    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(square)(x=xs)

    assert [node.entity.is_array_node for node in wf.nodes] == [True]
    assert wf(xs=[2, 3]) == [4, 9]


def test_in_a_workflow_the_map_takes_an_upstream_list_and_feeds_a_downstream_task():
    @task
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    @workflow
    def wf(n: int) -> int:
        return total(xs=map_task(square)(x=numbers(n=n)))

    assert wf(n=4) == 0 + 1 + 4 + 9


def test_empty_lists_give_empty_outputs_and_start_nothing():
    recorder = Recorder()

    @task
    def record(a: int, b: int) -> tuple[int, str]:
        recorder.add(a)
        return a, str(b)

    assert map_task(record)(a=[], b=[]) == ([], [])
    assert recorder.seen == []


def test_empty_lists_in_a_workflow_give_an_empty_output():
    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(square)(x=xs)

    assert wf(xs=[]) == []


def test_a_task_with_several_outputs_gives_one_list_per_output():
    assert map_task(divmod_task)(a=[7, 9], b=[2, 4]) == ([3, 2], [1, 1])


def test_a_named_tuple_output_gives_a_named_tuple_of_lists():
    result = map_task(describe)(word=["ab", "cde"])
    assert result.text == ["AB", "CDE"] and result.length == [2, 3]
    assert type(result).__name__ == "Parts"


def test_a_task_without_outputs_maps_to_none():
    recorder = Recorder()

    @task
    def record(x: int) -> None:
        recorder.add(x)

    assert map_task(record)(x=[1, 2]) is None
    assert sorted(recorder.seen) == [1, 2]


def test_a_python_instance_task_can_be_mapped():
    class Double(PythonInstanceTask):
        def __init__(self) -> None:
            super().__init__("double", None, inputs={"x": int}, outputs={"o0": int})

        def execute(self, x: int) -> int:
            return 2 * x

    mapped = map_task(Double())
    assert mapped(x=[1, 2]) == [2, 4]
    assert mapped.name.startswith("python-task.map_double_")


# --- bound inputs ---------------------------------------------------------------------------


def test_a_partial_passes_its_constant_whole_to_every_element():
    assert map_task(functools.partial(scale, factor=10))(x=[1, 2, 3]) == [10, 20, 30]


def test_a_bound_input_keeps_its_type_and_is_listed_in_bound_inputs():
    mapped = map_task(functools.partial(scale, factor=10))
    assert mapped.python_interface.inputs == {"x": list[int], "factor": int}
    assert mapped.bound_inputs == {"factor"}


def test_a_list_typed_bound_input_is_passed_whole_not_mapped():
    @task
    def pick(i: int, items: list[str]) -> str:
        return items[i]

    assert map_task(functools.partial(pick, items=["a", "b", "c"]))(i=[2, 0]) == ["c", "a"]


def test_a_partial_binds_an_upstream_output_in_a_workflow():
    @task
    def double(n: int) -> int:
        return 2 * n

    @workflow
    def wf(xs: list[int], n: int) -> list[int]:
        return map_task(functools.partial(scale, factor=double(n=n)))(x=xs)

    assert wf(xs=[1, 2], n=5) == [10, 20]
    (double_node, map_node) = wf.nodes
    assert double_node in map_node.upstream_nodes


def test_a_value_given_in_the_call_wins_over_the_partial_as_with_functools():
    assert map_task(functools.partial(scale, factor=10))(x=[1], factor=3) == [3]


def test_a_partial_binding_an_unknown_input_is_rejected_naming_the_task():
    with pytest.raises(ValidationError, match=r"scale.*binds \['size'\]"):
        map_task(functools.partial(scale, size=3))


def test_a_partial_with_positional_arguments_is_rejected():
    with pytest.raises(ValidationError, match="by keyword"):
        map_task(functools.partial(scale, 3))


def test_a_partial_binding_every_input_is_rejected():
    with pytest.raises(ValidationError, match="leave at least one"):
        map_task(functools.partial(scale, x=1, factor=3))


def test_a_task_without_inputs_cannot_be_mapped():
    @task
    def constant() -> int:
        return 1

    with pytest.raises(ValidationError, match="it has no inputs"):
        map_task(constant)


def test_a_bound_constant_of_the_wrong_type_fails_naming_the_map_and_the_input():
    mapped = map_task(functools.partial(scale, factor="ten"))
    with pytest.raises(TypeTransformerFailedError) as raised:
        mapped(x=[1])
    message = str(raised.value)
    assert mapped.name in message and "'factor'" in message and "int" in message and "'ten'" in message


# --- bad inputs ---------------------------------------------------------------------------------


def test_a_non_list_for_a_mapped_input_fails_naming_the_map_the_input_and_the_types():
    mapped = map_task(square)
    with pytest.raises(TypeTransformerFailedError) as raised:
        mapped(x=5)
    message = str(raised.value)
    assert mapped.name in message and "input 'x'" in message and "list[int]" in message and "int 5" in message


def test_a_wrong_element_type_fails_naming_the_map_the_input_and_the_element():
    mapped = map_task(square)
    with pytest.raises(TypeTransformerFailedError) as raised:
        mapped(x=[1, "a"])
    message = str(raised.value)
    assert mapped.name in message and "input 'x'" in message and "list[int]" in message and "'a'" in message


def test_a_non_list_constant_in_a_workflow_fails_when_the_workflow_is_compiled():
    mapped = map_task(square)
    with pytest.raises(TypeTransformerFailedError) as raised:

        @workflow
        def wf() -> list[int]:
            return mapped(x=5)

    message = str(raised.value)
    assert mapped.name in message and "input 'x'" in message and "list[int]" in message


def test_a_promise_of_the_wrong_list_type_fails_when_the_workflow_is_compiled():
    mapped = map_task(square)
    with pytest.raises(TypeTransformerFailedError) as raised:

        @workflow
        def wf(words: list[str]) -> list[int]:
            return mapped(x=words)

    message = str(raised.value)
    assert mapped.name in message and "input 'x'" in message and "list[int]" in message and "list[str]" in message


# --- concurrency --------------------------------------------------------------------------------


class Gate:
    """Counts elements running at once; elements wait in :meth:`enter` until the gate opens."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.running = 0
        self.peak = 0
        self.open = False

    def enter(self) -> None:
        with self.condition:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.open, timeout=10)
            self.running -= 1
            self.condition.notify_all()

    def wait_until(self, predicate: typing.Callable[[], bool], timeout: float) -> bool:
        with self.condition:
            return self.condition.wait_for(predicate, timeout=timeout)

    def release(self) -> None:
        with self.condition:
            self.open = True
            self.condition.notify_all()


def run_in_thread(call: typing.Callable[[], typing.Any]) -> tuple[threading.Thread, dict[str, typing.Any]]:
    outcome: dict[str, typing.Any] = {}

    def target() -> None:
        try:
            outcome["result"] = call()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_concurrency_bounds_the_elements_running_at_once():
    gate = Gate()

    @task
    def held(x: int) -> int:
        gate.enter()
        return x

    thread, outcome = run_in_thread(lambda: map_task(held, concurrency=2)(x=list(range(6))))
    try:
        assert gate.wait_until(lambda: gate.running == 2, timeout=10)  # the bound is reached...
        # ...and, while both hold, no third element starts (a grace period, not a timing assertion:
        # an unbounded map starts the next element within microseconds).
        assert not gate.wait_until(lambda: gate.running > 2, timeout=0.2)
    finally:
        gate.release()
        thread.join(10)
    assert outcome == {"result": list(range(6))}
    assert gate.peak == 2


def test_without_concurrency_every_element_can_run_at_once():
    barrier = threading.Barrier(4, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()  # breaks (and fails the test) unless the four elements run at once
        return x

    assert map_task(meet)(x=[0, 1, 2, 3]) == [0, 1, 2, 3]


def test_concurrency_zero_sets_no_bound_of_the_maps_own():
    barrier = threading.Barrier(3, timeout=10)

    @task
    def meet(x: int) -> int:
        barrier.wait()
        return x

    assert map_task(meet, concurrency=0)(x=[0, 1, 2]) == [0, 1, 2]


def test_concurrency_is_honoured_inside_a_workflow():
    gate = Gate()

    @task
    def held(x: int) -> int:
        gate.enter()
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(held, concurrency=2)(x=xs)

    thread, outcome = run_in_thread(lambda: wf(xs=[1, 2, 3, 4]))
    try:
        assert gate.wait_until(lambda: gate.running == 2, timeout=10)
        assert not gate.wait_until(lambda: gate.running > 2, timeout=0.2)
    finally:
        gate.release()
        thread.join(10)
    assert outcome == {"result": [1, 2, 3, 4]}
    assert gate.peak == 2


def test_concurrency_one_runs_the_elements_one_after_another_in_order():
    recorder = Recorder()
    gate = Gate()
    gate.release()

    @task
    def record(x: int) -> int:
        gate.enter()
        recorder.add(x)
        return x

    assert map_task(record, concurrency=1)(x=[3, 1, 2]) == [3, 1, 2]
    assert recorder.seen == [3, 1, 2] and gate.peak == 1


# --- success thresholds ---------------------------------------------------------------------------


def test_by_default_one_failed_element_fails_the_map_with_its_error_as_cause():
    mapped = map_task(fail_on_odd)
    with pytest.raises(MapTaskError) as raised:
        mapped(x=[2, 3, 4])
    error = raised.value
    assert isinstance(error.__cause__, ValueError) and str(error.__cause__) == "odd 3"
    message = str(error)
    assert mapped.name in message
    # Element 2 may or may not have started when element 1 failed (then it never starts).
    assert re.search(r"[12] of 3 elements succeeded, 3 required", message)
    assert "element 1: ValueError: odd 3" in message


def test_the_map_failure_is_a_user_error_that_is_not_recoverable():
    with pytest.raises(MapTaskError) as raised:
        map_task(fail_on_odd)(x=[1])
    assert isinstance(raised.value, UserException)
    assert not isinstance(raised.value, RecoverableException)


def test_at_the_ratio_failed_elements_become_none():
    mapped = map_task(fail_on_odd, min_success_ratio=0.75)
    assert mapped(x=[2, 3, 4, 6]) == [2, None, 4, 6]


def test_below_the_ratio_the_map_fails_saying_how_many_succeeded_and_the_threshold():
    with pytest.raises(MapTaskError) as raised:
        map_task(fail_on_odd, min_success_ratio=0.75)(x=[2, 3, 4, 5])
    error = raised.value
    message = str(error)
    assert "2 of 4 elements succeeded, 3 required (min_success_ratio=0.75)" in message
    assert "element 1: ValueError: odd 3" in message and "element 3: ValueError: odd 5" in message
    assert (error.succeeded, error.total, error.required) == (2, 4, 3)
    assert sorted(error.errors) == [1, 3] and str(error.__cause__) == "odd 3"


def test_at_min_successes_failed_elements_become_none():
    assert map_task(fail_on_odd, min_successes=2)(x=[1, 2, 4]) == [None, 2, 4]


def test_below_min_successes_the_map_fails_saying_how_many_succeeded_and_the_threshold():
    with pytest.raises(MapTaskError, match=r"1 of 3 elements succeeded, 2 required \(min_successes=2\)"):
        map_task(fail_on_odd, min_successes=2)(x=[1, 2, 3])


def test_min_successes_above_the_element_count_fails_and_starts_nothing():
    recorder = Recorder()

    @task
    def record(x: int) -> int:
        recorder.add(x)
        return x

    with pytest.raises(MapTaskError, match=r"0 of 2 elements succeeded, 3 required.*2 not started"):
        map_task(record, min_successes=3)(x=[1, 2])
    assert recorder.seen == []


def test_the_ratio_is_rounded_up_without_floating_point_error():
    # 0.07 * 100 is 7.000000000000001 in floating point: exactly seven successes must do.
    result = map_task(fail_on_odd, min_success_ratio=0.07, concurrency=0)(x=[2] * 7 + [1] * 93)
    assert result.count(2) == 7 and result.count(None) == 93


def test_the_error_shows_the_first_few_element_errors_and_counts_the_rest():
    with pytest.raises(MapTaskError) as raised:
        map_task(fail_on_odd, run_all_sub_nodes=True)(x=[1, 3, 5, 7, 9])
    message = str(raised.value)
    assert "element 0:" in message and "element 2:" in message and "element 3:" not in message
    assert "and 2 more" in message and len(raised.value.errors) == 5


def test_failures_allowed_make_the_outputs_optional():
    assert map_task(fail_on_odd, min_success_ratio=0.5).python_interface.outputs == {"o0": list[int | None]}
    assert map_task(fail_on_odd, min_successes=1).python_interface.outputs == {"o0": list[int | None]}
    assert map_task(fail_on_odd).python_interface.outputs == {"o0": list[int]}


def test_a_workflow_takes_the_optional_elements_of_a_tolerant_map():
    @workflow
    def wf(xs: list[int]) -> list[int | None]:
        return map_task(fail_on_odd, min_success_ratio=0.5)(x=xs)

    assert wf(xs=[1, 2]) == [None, 2]


def test_once_the_threshold_is_lost_elements_not_yet_started_are_not_started():
    recorder = Recorder()

    @task
    def record(x: int) -> int:
        recorder.add(x)
        if x == 1:
            raise ValueError("one")
        return x

    with pytest.raises(MapTaskError, match="3 not started"):
        map_task(record, concurrency=1)(x=[0, 1, 2, 3, 4])
    assert recorder.seen == [0, 1]


def test_once_the_threshold_is_lost_running_elements_finish_and_no_more_are_submitted():
    recorder = Recorder()
    together = threading.Barrier(2, timeout=10)

    @task
    def record(x: int) -> int:
        recorder.add(x)
        if x < 2:  # the first two fail, once both are running
            together.wait()
            raise ValueError(f"fails {x}")
        return x

    with pytest.raises(MapTaskError) as raised:
        map_task(record, concurrency=2)(x=[0, 1, 2, 3, 4, 5])
    assert sorted(recorder.seen) == [0, 1]
    assert "0 of 6 elements succeeded" in str(raised.value) and "2 failed; 4 not started" in str(raised.value)


def test_run_all_sub_nodes_runs_every_element_after_the_threshold_is_lost():
    recorder = Recorder()

    @task
    def record(x: int) -> int:
        recorder.add(x)
        if x == 1:
            raise ValueError("one")
        return x

    with pytest.raises(MapTaskError) as raised:
        map_task(record, concurrency=1, run_all_sub_nodes=True)(x=[0, 1, 2, 3, 4])
    assert recorder.seen == [0, 1, 2, 3, 4]
    assert "4 of 5 elements succeeded" in str(raised.value) and "not started" not in str(raised.value)


def test_a_failing_map_in_a_workflow_raises_the_map_error():
    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(fail_on_odd)(x=xs)

    with pytest.raises(MapTaskError, match="of 2 elements succeeded, 2 required") as raised:
        wf(xs=[1, 2])
    assert str(raised.value.__cause__) == "odd 1"


# --- retries ----------------------------------------------------------------------------------


def test_each_element_is_retried_on_its_own():
    attempts: dict[int, int] = {}
    lock = threading.Lock()

    @task(retries=1)
    def flaky(x: int) -> int:
        with lock:
            attempts[x] = attempts.get(x, 0) + 1
        if x == 1 and current_context().attempt == 0:
            raise FlyteRecoverableException("first attempt of element 1 fails")
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(flaky)(x=xs)

    assert wf(xs=[0, 1, 2]) == [0, 1, 2]
    assert attempts == {0: 1, 1: 2, 2: 1}


def test_elements_are_retried_when_the_map_is_called_directly():
    attempts: list[int] = []

    @task(retries=2)
    def flaky(x: int) -> int:
        attempts.append(current_context().attempt)
        if current_context().attempt < 2:
            raise FlyteRecoverableException("not yet")
        return x

    assert map_task(flaky)(x=[7]) == [7]
    assert attempts == [0, 1, 2]


def test_a_failed_map_is_not_retried_as_a_whole():
    attempts: dict[int, int] = {}
    lock = threading.Lock()

    @task(retries=2)
    def always_flaky(x: int) -> int:
        with lock:
            attempts[x] = attempts.get(x, 0) + 1
        if x == 1:
            raise FlyteRecoverableException("element 1 always fails")
        return x

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(always_flaky)(x=xs)

    with pytest.raises(MapTaskError):
        wf(xs=[0, 1, 2])
    # Element 1 used its retries; nothing ran the map again (element 2 may not have started at all).
    assert attempts[1] == 3 and all(attempts.get(index, 1) == 1 for index in (0, 2))


@task(timeout=dt.timedelta(milliseconds=1500))
def takes_a_while(x: int) -> int:
    import time

    time.sleep(0.5)  # well within the timeout; four of them in a row are not
    return x


def test_the_mapped_tasks_timeout_bounds_each_element_not_the_whole_map():
    # Each element runs in a worker process that its timeout would kill (module level, so found).
    quick = takes_a_while

    @workflow
    def wf(xs: list[int]) -> list[int]:
        return map_task(quick, concurrency=1)(x=xs)

    assert wf(xs=[1, 2, 3, 4, 5]) == [1, 2, 3, 4, 5]


# --- the map task itself ------------------------------------------------------------------------


def test_the_interface_lists_mapped_inputs_and_outputs():
    mapped = map_task(divmod_task)
    assert mapped.python_interface.inputs == {"a": list[int], "b": list[int]}
    assert mapped.python_interface.outputs == {"o0": list[int], "o1": list[int]}


def test_a_mapped_input_with_a_default_is_a_required_list():
    @task
    def offset(x: int, by: int = 1) -> int:
        return x + by

    mapped = map_task(offset)
    assert mapped.python_interface.required_inputs == ["x", "by"]
    assert mapped(x=[1, 2], by=[10, 20]) == [11, 22]


def test_the_name_task_type_and_version_follow_flytekit():
    mapped = map_task(square)
    assert mapped.name == f"{__name__}.map_square_6b3bd0353da5de6e84d7982921ead2b3-arraynode"
    assert mapped.task_type == square.task_type
    assert mapped.task_type_version == mapped.to_task_template(SETTINGS).task_type_version == 1
    assert square.task_type_version == 0


def test_the_name_hash_matches_flytekit_for_bound_inputs_and_settings():
    # Digests of flytekit 1.16's map_task for the same arguments.
    assert map_task(functools.partial(add, b=1), concurrency=3).name.endswith(
        "map_add_181867d19588d060ef6cc052944eb2c3-arraynode"
    )
    assert map_task(add, min_successes=2).name.endswith("map_add_2235e9a1896d690b2e59b500c61e6ddf-arraynode")


def test_metadata_and_security_context_are_the_mapped_tasks():
    @task(retries=3, secret_requests=[Secret(group="g", key="k")])
    def guarded(x: int) -> int:
        return x

    mapped = map_task(guarded)
    assert mapped.metadata.retries == 3
    assert mapped.security_context == guarded.security_context and mapped.security_context is not None
    template = mapped.to_task_template(SETTINGS)
    assert template.metadata.retries.retries == 3
    assert template.security_context.secrets[0].group == "g"


def test_the_map_task_is_an_array_node_map_task_found_in_the_taskloom_namespace():
    assert isinstance(map_task(square), ArrayNodeMapTask)
    assert taskloom.map_task is map_task and taskloom.ArrayNodeMapTask is ArrayNodeMapTask


def test_the_package_is_a_plain_module_whose_map_task_stays_the_function_after_its_module_is_imported():
    import importlib
    import types

    import taskloom_map

    module = importlib.import_module("taskloom_map.array_node_map_task")
    assert type(taskloom_map) is types.ModuleType  # no module class swapped in to guard the name
    assert taskloom_map.map_task is map_task and module.map_task is map_task


def test_the_workflow_template_shows_an_array_node_with_its_settings():
    @task
    def double(n: int) -> int:
        return 2 * n

    @workflow
    def wf(xs: list[int], n: int) -> list[int | None]:
        factor = double(n=n)
        return map_task(functools.partial(scale, factor=factor), concurrency=3, min_success_ratio=0.5)(x=xs)

    template = wf.to_workflow_template(SETTINGS)
    array = template.nodes[1].array_node
    assert array is not None
    assert array.parallelism == 3 and array.min_success_ratio == 0.5 and array.min_successes is None
    assert array.bound_inputs == ("factor",) and array.run_all_sub_nodes is False
    assert {binding.var for binding in template.nodes[1].inputs} == {"x", "factor"}
    assert template.nodes[1].upstream_node_ids == (template.nodes[0].id,)


def test_the_workflow_template_carries_min_successes_and_run_all_sub_nodes():
    @workflow
    def wf(xs: list[int]) -> list[int | None]:
        return map_task(square, min_successes=2, run_all_sub_nodes=True)(x=xs)

    array = wf.to_workflow_template(SETTINGS).nodes[0].array_node
    assert array.min_successes == 2 and array.min_success_ratio is None
    assert array.run_all_sub_nodes is True and array.parallelism is None and array.bound_inputs == ()


# --- what cannot be mapped, and bad settings --------------------------------------------------------


def test_a_workflow_cannot_be_mapped():
    @workflow
    def wf(x: int) -> int:
        return square(x=x)

    with pytest.raises(ValidationError, match=rf"cannot map workflow '{wf.name}'"):
        map_task(wf)


def test_a_launch_plan_cannot_be_mapped():
    @workflow
    def wf(x: int) -> int:
        return square(x=x)

    plan = taskloom.LaunchPlan.get_or_create(wf, name="squares")
    with pytest.raises(ValidationError, match="cannot map launch plan 'squares'"):
        map_task(plan)


def test_a_plain_function_cannot_be_mapped():
    def plain(x: int) -> int:
        return x

    with pytest.raises(ValidationError, match="cannot map function"):
        map_task(plain)


def test_a_map_task_cannot_be_mapped_again():
    with pytest.raises(ValidationError, match="cannot map ArrayNodeMapTask"):
        map_task(map_task(square))


class DynamicLike(PythonFunctionTask):
    """A task class saying it runs dynamically, as a @dynamic task's class does."""

    execution_mode = PythonFunctionTask.ExecutionBehavior.DYNAMIC


def test_a_dynamic_task_cannot_be_mapped():
    def fan(x: int) -> int:
        return x

    with pytest.raises(ValidationError, match=r"cannot map task .*fan.*DYNAMIC"):
        map_task(DynamicLike(None, fan))


def test_an_eager_task_cannot_be_mapped():
    def body(x: int) -> int:
        return x

    with pytest.raises(ValidationError, match=r"cannot map task .*body"):
        map_task(PythonFunctionTask(None, body, metadata=TaskMetadata(is_eager=True)))


def test_a_task_class_with_the_default_execution_mode_can_be_mapped():
    class Plain(PythonFunctionTask):
        execution_mode = PythonFunctionTask.ExecutionBehavior.DEFAULT

    def body(x: int) -> int:
        return x + 1

    assert map_task(Plain(None, body))(x=[1]) == [2]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"concurrency": -1}, "concurrency expects a non-negative int"),
        ({"concurrency": 1.5}, "concurrency expects a non-negative int"),
        ({"min_successes": -2}, "min_successes expects a non-negative int"),
        ({"min_success_ratio": 1.5}, "min_success_ratio expects a number from 0 to 1"),
        ({"min_successes": 2, "min_success_ratio": 0.5}, "not both"),
    ],
)
def test_bad_settings_are_rejected_naming_the_target(settings, message):
    with pytest.raises(ValidationError, match=message) as raised:
        map_task(square, **settings)
    assert square.name in str(raised.value)
